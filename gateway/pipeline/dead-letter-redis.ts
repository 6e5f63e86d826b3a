import { Redis } from 'ioredis';
import type { NewDeadLetter } from '../../common/dlq/entry.ts';
import { DeadLetterStore, type DeadLetterLimits } from '../../common/dlq/store.ts';
import type { Logger } from '../../common/logger.ts';
import { DEFAULT_ENQUEUE_ATTEMPT_TIMEOUT_MS, RedisUnavailableError, redisReady } from './redis-sink.ts';

const REDIS_RECONNECT_STEP_MS = 200;
const REDIS_RECONNECT_MAX_MS = 5_000;

export interface DeadLetterRedis {
  /** add() waits for the connection (up to the attempt timeout) and fails fast while Redis is away. */
  store: Pick<DeadLetterStore, 'add'>;
  connected(): boolean;
  /** Closes the connection. Safe twice. */
  close(): Promise<void>;
}

/**
 * The gateway's own connection to the dead-letter store, apart from the batch queue's, so a
 * burst of rejections never waits behind batch writes. Like the batch sink it queues no
 * command while Redis is down (the forwarder's backlog holds the entries, counted and bounded)
 * and gives each command at most the attempt timeout.
 */
export function connectDeadLetterRedis(o: { url: string; prefix: string; limits: DeadLetterLimits; log: Logger; attemptTimeoutMs?: number }): DeadLetterRedis {
  const timeoutMs = o.attemptTimeoutMs ?? DEFAULT_ENQUEUE_ATTEMPT_TIMEOUT_MS;
  const redis = new Redis(o.url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: timeoutMs,
    connectionName: 'iotc-gateway-dlq',
    retryStrategy: (times) => Math.min(times * REDIS_RECONNECT_STEP_MS, REDIS_RECONNECT_MAX_MS),
  });
  // Connection errors repeat on every reconnect attempt; the forwarder reports outages once.
  redis.on('error', (err) => o.log.debug({ err }, 'Redis connection error (dead-letter store).'));
  const store = new DeadLetterStore({ redis, prefix: o.prefix, limits: o.limits });
  let closing: Promise<void> | undefined;
  // One wait shared by every write that finds the connection down (a window of them at once).
  let waiting: Promise<void> | undefined;

  const ready = (): Promise<void> => {
    if (redis.status === 'ready') return Promise.resolve();
    if (closing) return Promise.reject(new RedisUnavailableError('the dead-letter connection is closed'));
    waiting ??= redisReady(redis, timeoutMs).finally(() => {
      waiting = undefined;
    });
    return waiting;
  };

  return {
    store: {
      add: async (entry: NewDeadLetter) => {
        await ready();
        return store.add(entry);
      },
    },
    connected: () => redis.status === 'ready',
    close() {
      closing ??= (async () => {
        if (redis.status === 'ready') await redis.quit().catch(() => redis.disconnect());
        else redis.disconnect();
      })();
      return closing;
    },
  };
}
