import type { RecordType } from '../../common/batch.ts';
import type { Reading } from '../../common/reading.ts';
import { encodeReading, type EncodedRecord } from '../../common/records/encode.ts';

export interface BatchLimits {
  maxRecords: number;
  /** Sum of the records' wire sizes (protobuf bytes, or JSON text bytes). */
  maxBytes: number;
  /** Longest the first record of a batch waits for the batch to fill. */
  maxWaitMs: number;
}

/** A full (or timed-out) batch of encoded records for one table. */
export interface Batch {
  table: string;
  messageType: string;
  recordType: RecordType;
  records: string[];
  bytes: number;
}

export type FlushReason = 'max_records' | 'max_bytes' | 'max_wait' | 'message_type' | 'stop';

interface Open {
  messageType: string;
  records: string[];
  bytes: number;
  timer: NodeJS.Timeout;
}

const BASE64_BLOCK_CHARS = 4;
const BASE64_BLOCK_BYTES = 3;

/** Bytes a record takes on the wire: base64 decodes to 3/4 of its length, less padding. */
export function wireBytes(data: string, type: RecordType): number {
  if (type === 'json') return Buffer.byteLength(data, 'utf8');
  const padding = data.endsWith('==') ? 2 : data.endsWith('=') ? 1 : 0;
  return (data.length / BASE64_BLOCK_CHARS) * BASE64_BLOCK_BYTES - padding;
}

/**
 * Collects encoded records per target table and hands a batch on when it holds max_records,
 * reaches max_bytes, or max_wait_ms after its first record. A record that would push a batch
 * past max_bytes starts the next one; a record larger than max_bytes travels alone. Records
 * of a different message type close the open batch first, as one batch has one message type.
 */
export class Batcher {
  #limits: BatchLimits;
  readonly #recordType: RecordType;
  readonly #onBatch: (batch: Batch, reason: FlushReason) => void;
  readonly #open = new Map<string, Open>();
  #stopped = false;

  constructor(limits: BatchLimits, recordType: RecordType, onBatch: (batch: Batch, reason: FlushReason) => void) {
    this.#limits = limits;
    this.#recordType = recordType;
    this.#onBatch = onBatch;
  }

  /** Encodes the reading once and adds it. Throws when it cannot be encoded; nothing changes then. */
  add(table: string, reading: Reading): void {
    this.addEncoded(table, encodeReading(reading, this.#recordType));
  }

  addEncoded(table: string, record: EncodedRecord): void {
    const size = wireBytes(record.data, this.#recordType);
    let open = this.#open.get(table);
    if (open && open.messageType !== record.messageType) {
      this.#flush(table, 'message_type');
      open = undefined;
    }
    if (open && open.bytes + size > this.#limits.maxBytes) {
      this.#flush(table, 'max_bytes');
      open = undefined;
    }
    if (!open) {
      open = { messageType: record.messageType, records: [], bytes: 0, timer: this.#startTimer(table) };
      this.#open.set(table, open);
    }
    open.records.push(record.data);
    open.bytes += size;
    if (open.records.length >= this.#limits.maxRecords) this.#flush(table, 'max_records');
    else if (open.bytes >= this.#limits.maxBytes) this.#flush(table, 'max_bytes');
    else if (this.#stopped) this.#flush(table, 'stop');
  }

  /** New limits for batches opened from now on (a config reload). */
  setLimits(limits: BatchLimits): void {
    this.#limits = limits;
  }

  /** Hands on every open batch now. */
  flushAll(reason: FlushReason = 'stop'): void {
    for (const table of [...this.#open.keys()]) this.#flush(table, reason);
  }

  /** Flushes everything; records added afterwards are handed on at once. Safe to call twice. */
  stop(): void {
    this.#stopped = true;
    this.flushAll('stop');
  }

  /** Records waiting in open batches. */
  openRecords(): number {
    let n = 0;
    for (const open of this.#open.values()) n += open.records.length;
    return n;
  }

  #startTimer(table: string): NodeJS.Timeout {
    return setTimeout(() => this.#flush(table, 'max_wait'), this.#limits.maxWaitMs);
  }

  #flush(table: string, reason: FlushReason): void {
    const open = this.#open.get(table);
    if (!open) return;
    clearTimeout(open.timer);
    this.#open.delete(table);
    this.#onBatch({ table, messageType: open.messageType, recordType: this.#recordType, records: open.records, bytes: open.bytes }, reason);
  }
}
