import { z } from 'zod';
import { LOG_LEVELS } from '../logger.ts';
import { Secret } from '../secret.ts';

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
export const DEFAULT_REDIS_PREFIX = 'iotc';

/** A string that is wrapped in Secret as soon as it is validated. */
export const secretString = () =>
  z
    .string()
    .min(1)
    .transform((s) => new Secret(s));

export const redisSchema = z
  .object({
    url: z
      .string()
      .regex(/^rediss?:\/\//, { message: 'expected a redis:// or rediss:// URL' })
      .default(DEFAULT_REDIS_URL)
      .describe('Redis URL, redis://[user:password@]host:port[/db]; rediss:// for TLS.'),
    prefix: z
      .string()
      .regex(/^[A-Za-z0-9_.-]+$/, { message: 'expected letters, digits, _, . or -' })
      .default(DEFAULT_REDIS_PREFIX)
      .describe('Key prefix for every queue and key, so several installations can share one Redis.'),
  })
  .strict()
  .describe('The Redis that joins gateway and relay.');

export const logSchema = z
  .object({
    level: z.enum(LOG_LEVELS).default('info').describe('Minimum level written to stdout as JSON lines.'),
  })
  .strict();

export const httpSchema = (defaultPort: number) =>
  z
    .object({
      host: z.string().min(1).default('127.0.0.1').describe('Address the HTTP server binds to; 0.0.0.0 for every interface.'),
      port: z.number().int().min(0).max(65535).default(defaultPort).describe('TCP port of the HTTP server; 0 picks a free one.'),
    })
    .strict();
