import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { BATCH_JOB_NAME, BATCH_JOB_VERSION, queueNameFor, tableRegistryKey, type BatchJob } from '../../common/batch.ts';
import type { Reading } from '../../common/reading.ts';
import { encodeReading } from '../../common/records/encode.ts';
import { BRONZE_MESSAGE } from '../../common/records/schemas.ts';
import { mqttReading } from '../../test/helpers/readings.ts';

/** Base64 protobuf records of readings with seq first..first+count-1. */
export function encodedRecords(first: number, count: number): string[] {
  return Array.from({ length: count }, (_, i) => encodeReading(mqttReading(first + i), 'proto').data);
}

/** Enqueues batch jobs as a gateway would, for relay tests; each reading has a unique seq. */
export class TestQueue {
  readonly table: string;
  readonly queue: Queue<BatchJob>;
  readonly #redis: Redis;
  readonly #prefix: string;

  constructor(options: { url: string; prefix: string; table: string }) {
    this.table = options.table;
    this.#prefix = options.prefix;
    this.#redis = new Redis(options.url, { maxRetriesPerRequest: null });
    this.queue = new Queue<BatchJob>(queueNameFor(options.table), {
      connection: this.#redis,
      prefix: options.prefix,
      defaultJobOptions: { removeOnComplete: false, removeOnFail: false },
    });
  }

  /** Adds `batches` jobs of `size` records, seq numbers from firstSeq on; returns their ids. */
  async addBatches(batches: number, size: number, o: { firstSeq?: number; jobPrefix?: string; edit?: (reading: Reading, seq: number) => Reading } = {}): Promise<string[]> {
    await this.#redis.sadd(tableRegistryKey(this.#prefix), this.table);
    const first = o.firstSeq ?? 1;
    const jobs = Array.from({ length: batches }, (_, b) => {
      const records = Array.from({ length: size }, (_, i) => {
        const seq = first + b * size + i;
        const reading = mqttReading(seq);
        return encodeReading(o.edit ? o.edit(reading, seq) : reading, 'proto').data;
      });
      const job: BatchJob = { v: BATCH_JOB_VERSION, table: this.table, messageType: BRONZE_MESSAGE.mqtt, recordType: 'proto', records, gatewayId: 'gw-test', createdAtMs: Date.now() };
      return { name: BATCH_JOB_NAME, data: job, opts: { jobId: `${o.jobPrefix ?? 'job'}-${first + b * size}` } };
    });
    const added = await this.queue.addBulk(jobs);
    return added.map((j) => String(j.id));
  }

  /** Adds one job carrying these records (base64 protobuf) as they are. */
  async addRecords(records: string[], jobId: string): Promise<void> {
    await this.#redis.sadd(tableRegistryKey(this.#prefix), this.table);
    const job: BatchJob = { v: BATCH_JOB_VERSION, table: this.table, messageType: BRONZE_MESSAGE.mqtt, recordType: 'proto', records, gatewayId: 'gw-test', createdAtMs: Date.now() };
    await this.queue.add(BATCH_JOB_NAME, job, { jobId });
  }

  counts() {
    return this.queue.getJobCounts('wait', 'prioritized', 'active', 'delayed', 'failed', 'completed');
  }

  async close(): Promise<void> {
    await this.queue.close();
    this.#redis.disconnect();
  }
}
