/**
 * The unit that travels through Redis: one micro-batch of already-encoded records for one
 * target table. The gateway encodes each record once; the relay forwards the bytes.
 */
export const BATCH_JOB_VERSION = 1;

export type RecordType = 'proto' | 'json';

export interface BatchJob {
  v: typeof BATCH_JOB_VERSION;
  table: string;
  /** Fully qualified protobuf message of the records, e.g. iot.bronze.MqttReading. */
  messageType: string;
  recordType: RecordType;
  /** Base64 of each protobuf record, or each record's JSON text. */
  records: string[];
  gatewayId: string;
  createdAtMs: number;
}

/** BullMQ job name for batches (a queue carries only batches; the name is for humans). */
export const BATCH_JOB_NAME = 'batch';

/** One queue per target table. BullMQ forbids ':' in queue names; table names have none. */
export function queueNameFor(table: string): string {
  return `zerobus.${table}`;
}

/** Redis set of the tables gateways have enqueued to; relays discover their queues from it. */
export function tableRegistryKey(prefix: string): string {
  return `${prefix}:registry:tables`;
}

/** Throws with the field name when a job's data is not a batch this version understands. */
export function assertBatchJob(data: unknown): asserts data is BatchJob {
  const job = data as Partial<BatchJob> | null;
  if (job === null || typeof job !== 'object') throw new TypeError('batch job: data is not an object');
  if (job.v !== BATCH_JOB_VERSION) throw new TypeError(`batch job: v: expected ${BATCH_JOB_VERSION}, got ${String(job.v)}`);
  if (typeof job.table !== 'string') throw new TypeError('batch job: table: expected a string');
  if (typeof job.messageType !== 'string') throw new TypeError('batch job: messageType: expected a string');
  if (job.recordType !== 'proto' && job.recordType !== 'json') {
    throw new TypeError(`batch job: recordType: expected proto or json, got ${String(job.recordType)}`);
  }
  if (!Array.isArray(job.records) || job.records.some((r) => typeof r !== 'string')) {
    throw new TypeError('batch job: records: expected a list of strings');
  }
}
