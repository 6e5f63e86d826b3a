import { randomBytes } from 'node:crypto';

/** The Redis tests use: REDIS_URL, else the local default. Each test keeps to its own prefix. */
export function testRedisUrl(): string {
  return process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
}

/** A key prefix no other test or running instance uses. */
export function uniquePrefix(label: string): string {
  return `test-${label}-${randomBytes(4).toString('hex')}`;
}

export { deletePrefix } from '../../common/redis/delete-prefix.ts';
