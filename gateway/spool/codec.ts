import type { RecordType } from '../../common/batch.ts';
import type { PendingBatch } from '../pipeline/memory-queue.ts';

/**
 * A batch as the spool stores it: a small binary layout, records as raw bytes (protobuf) or
 * UTF-8 (JSON) rather than base64, so a spooled batch is about its wire size.
 *
 *   u8 version | u8 record type (0 proto, 1 json) | f64 createdAtMs
 *   u16 length + job id | u16 length + table | u16 length + message type
 *   u32 record count | per record: u32 length + bytes
 */
const CODEC_VERSION = 1;
const RECORD_TYPES: RecordType[] = ['proto', 'json'];
const U8 = 1;
const U16 = 2;
const U32 = 4;
const F64 = 8;

export class SpoolDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SpoolDecodeError';
  }
}

export function encodeBatch(item: PendingBatch): Buffer {
  const { batch } = item;
  const strings = [item.jobId, batch.table, batch.messageType].map((s) => Buffer.from(s, 'utf8'));
  const records = batch.records.map((r) => (batch.recordType === 'proto' ? Buffer.from(r, 'base64') : Buffer.from(r, 'utf8')));
  let size = U8 + U8 + F64 + U32;
  for (const s of strings) size += U16 + s.length;
  for (const r of records) size += U32 + r.length;
  const out = Buffer.allocUnsafe(size);
  let at = out.writeUInt8(CODEC_VERSION, 0);
  at = out.writeUInt8(RECORD_TYPES.indexOf(batch.recordType), at);
  at = out.writeDoubleBE(item.createdAtMs, at);
  for (const s of strings) {
    at = out.writeUInt16BE(s.length, at);
    at += s.copy(out, at);
  }
  at = out.writeUInt32BE(records.length, at);
  for (const r of records) {
    at = out.writeUInt32BE(r.length, at);
    at += r.copy(out, at);
  }
  return out;
}

export function decodeBatch(data: Buffer): PendingBatch {
  let at = 0;
  const need = (n: number) => {
    if (at + n > data.length) throw new SpoolDecodeError(`spooled batch ends early at byte ${at}`);
  };
  need(U8 + U8 + F64);
  const version = data.readUInt8(at);
  if (version !== CODEC_VERSION) throw new SpoolDecodeError(`spooled batch has version ${version}, expected ${CODEC_VERSION}`);
  const recordType = RECORD_TYPES[data.readUInt8(at + U8)];
  if (!recordType) throw new SpoolDecodeError('spooled batch has an unknown record type');
  at += U8 + U8;
  const createdAtMs = data.readDoubleBE(at);
  at += F64;
  const text = () => {
    need(U16);
    const n = data.readUInt16BE(at);
    at += U16;
    need(n);
    const s = data.toString('utf8', at, at + n);
    at += n;
    return s;
  };
  const jobId = text();
  const table = text();
  const messageType = text();
  need(U32);
  const count = data.readUInt32BE(at);
  at += U32;
  const records: string[] = [];
  let bytes = 0;
  for (let i = 0; i < count; i++) {
    need(U32);
    const n = data.readUInt32BE(at);
    at += U32;
    need(n);
    const slice = data.subarray(at, at + n);
    records.push(recordType === 'proto' ? slice.toString('base64') : slice.toString('utf8'));
    bytes += n;
    at += n;
  }
  return { jobId, createdAtMs, batch: { table, messageType, recordType, records, bytes } };
}
