import { Queue, type JobsOptions } from 'bullmq';
import { Redis } from 'ioredis';
import { BATCH_JOB_NAME, queueNameFor, tableRegistryKey, type BatchJob } from '../../common/batch.ts';
import type { Logger } from '../../common/logger.ts';

/** Longest one attempt to write a batch may take before it counts as failed and is retried. */
export const DEFAULT_ENQUEUE_ATTEMPT_TIMEOUT_MS = 5_000;
/** Completed jobs BullMQ keeps per queue, for inspection; older ones are removed. */
export const KEEP_COMPLETED_JOBS = 1_000;
const REDIS_RECONNECT_STEP_MS = 200;
const REDIS_RECONNECT_MAX_MS = 5_000;

/**
 * Where batches go. send resolves once the batch is stored. Every rejection is retried: no
 * batch is ever invalid for Redis, so a failed write is temporary from the gateway's side.
 */
export interface BatchSink {
  send(job: BatchJob, jobId: string): Promise<void>;
  close(): Promise<void>;
  /** Whether the connection is up now (for /ready); absent means unknown. */
  connected?(): boolean;
}

/** A write that failed because Redis was unreachable or too slow; the batch is retried. */
export class RedisUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RedisUnavailableError';
  }
}

/**
 * Resolves once the connection is ready (at once when it is). The next failed connection
 * attempt, or timeoutMs without one, rejects with a RedisUnavailableError giving the reason.
 */
export function redisReady(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const settle = (err?: Error) => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      redis.off('error', onError);
      if (err) reject(err);
      else resolve();
    };
    const onReady = () => settle();
    const onError = (err: Error) => settle(new RedisUnavailableError(`Redis is not connected: ${err.message}`, { cause: err }));
    const timer = setTimeout(() => settle(new RedisUnavailableError(`Redis is not connected (${redis.status})`)), timeoutMs);
    redis.on('ready', onReady);
    redis.on('error', onError);
  });
}

export interface RedisSinkOptions {
  url: string;
  prefix: string;
  log: Logger;
  attemptTimeoutMs?: number;
}

/**
 * Writes batches as BullMQ jobs, one queue per table, all over one Redis connection. The
 * connection does not queue commands while it is down, so a write fails fast and the caller's
 * pending list, not an invisible client buffer, holds the batch. The job id is fixed per batch,
 * so a retried write of a batch that did land is a no-op rather than a second job.
 */
export class RedisBatchSink implements BatchSink {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #log: Logger;
  readonly #attemptTimeoutMs: number;
  readonly #queues = new Map<string, Queue>();
  readonly #registered = new Set<string>();
  #closing: Promise<void> | undefined;

  constructor(options: RedisSinkOptions) {
    this.#prefix = options.prefix;
    this.#log = options.log;
    this.#attemptTimeoutMs = options.attemptTimeoutMs ?? DEFAULT_ENQUEUE_ATTEMPT_TIMEOUT_MS;
    this.#redis = new Redis(options.url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectionName: 'iotc-gateway',
      retryStrategy: (times) => Math.min(times * REDIS_RECONNECT_STEP_MS, REDIS_RECONNECT_MAX_MS),
    });
    // Connection errors repeat on every reconnect attempt; the enqueuer reports outages once.
    this.#redis.on('error', (err) => this.#log.debug({ err }, 'Redis connection error.'));
  }

  async send(job: BatchJob, jobId: string): Promise<void> {
    if (this.#closing) throw new RedisUnavailableError('the Redis sink is closed');
    await this.#withTimeout(this.#write(job, jobId));
  }

  connected(): boolean {
    return this.#redis.status === 'ready';
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #write(job: BatchJob, jobId: string): Promise<void> {
    await this.#ready();
    if (!this.#registered.has(job.table)) {
      await this.#redis.sadd(tableRegistryKey(this.#prefix), job.table);
      this.#registered.add(job.table);
    }
    await this.#queue(job.table).add(BATCH_JOB_NAME, job, { jobId } satisfies JobsOptions);
  }

  #queue(table: string): Queue {
    let queue = this.#queues.get(table);
    if (!queue) {
      queue = new Queue(queueNameFor(table), {
        connection: this.#redis,
        prefix: this.#prefix,
        defaultJobOptions: { removeOnComplete: { count: KEEP_COMPLETED_JOBS }, removeOnFail: false },
      });
      queue.on('error', (err) => this.#log.debug({ err, table }, 'BullMQ queue error.'));
      this.#queues.set(table, queue);
    }
    return queue;
  }

  /**
   * Waits for the connection to be ready, so a write is tried only on a live connection. The
   * next failed connection attempt fails the wait at once, with the reason.
   */
  async #ready(): Promise<void> {
    await redisReady(this.#redis, this.#attemptTimeoutMs);
  }

  async #withTimeout<T>(work: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new RedisUnavailableError(`Redis write took longer than ${this.#attemptTimeoutMs} ms`)), this.#attemptTimeoutMs);
    });
    try {
      return await Promise.race([work, timeout]);
    } finally {
      clearTimeout(timer);
      work.catch(() => {});
    }
  }

  async #close(): Promise<void> {
    await Promise.allSettled([...this.#queues.values()].map((q) => q.close()));
    if (this.#redis.status === 'ready') {
      await this.#redis.quit().catch(() => this.#redis.disconnect());
    } else {
      this.#redis.disconnect();
    }
  }
}
