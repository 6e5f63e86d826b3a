import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
const PING_TIMEOUT_MS = 1500;

export interface DemoRedis {
  url: string;
  /** The private redis-server the demo started, if it had to. */
  child?: ChildProcess;
}

export async function pingRedis(url: string): Promise<boolean> {
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: PING_TIMEOUT_MS, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => {});
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

function redisServerOnPath(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

/**
 * REDIS_URL (default redis://127.0.0.1:6379) when it answers; else a private redis-server on
 * a free port when one is installed; else undefined, and the caller says how to get one.
 */
export async function ensureRedis(url: string, freePort: () => Promise<number>): Promise<DemoRedis | undefined> {
  if (await pingRedis(url)) return { url };
  if (!redisServerOnPath()) return undefined;
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const privateUrl = `redis://127.0.0.1:${port}`;
  for (let i = 0; i < 50; i++) {
    if (await pingRedis(privateUrl)) return { url: privateUrl, child };
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  return undefined;
}
