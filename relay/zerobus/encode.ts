import type { RecordType } from '../../common/batch.ts';

/**
 * Ingest requests serialized straight from a job's records, in one pass and one buffer per
 * batch: each base64 record is decoded in place into the `records` field of a
 * ProtoEncodedBatch (each JSON record is written as UTF-8 into a JsonBatch). The batch is
 * encoded once, when it is handed to the client; every send (the first, and any resend on a
 * new stream) only wraps it with the request's few header bytes and its offset. Pure, no I/O.
 *
 * The protobuf wire format is in proto/zerobus/zerobus.proto; encode.test.ts checks every
 * byte against protobufjs encoding the same request.
 */

/** One batch as it goes on the wire: its records, serialized once. */
export interface EncodedBatch {
  kind: RecordType;
  /** How many records it carries. */
  records: number;
  /** The serialized ProtoEncodedBatch (proto) or JsonBatch (json) message. */
  bytes: Buffer;
}

/** Field tags (field number << 3 | wire type 2, length-delimited) of the messages written here. */
const TAG_RECORDS = (1 << 3) | 2;
const TAG_INGEST_RECORD_BATCH = (3 << 3) | 2;
/** IngestRecordBatchRequest.offset_id: field 1, wire type 0 (varint). */
const TAG_OFFSET_ID = 1 << 3;
const TAG_PROTO_ENCODED_BATCH = (2 << 3) | 2;
const TAG_JSON_BATCH = (3 << 3) | 2;
const VARINT_PAYLOAD_BITS = 7;
const VARINT_CONTINUE = 0x80;
const VARINT_MASK = 0x7f;
const TWO_POW_32 = 2 ** 32;

/** Bytes a non-negative integer below 2^53 takes as a protobuf varint. */
export function varintBytes(value: number): number {
  let bytes = 1;
  for (let v = value; v >= VARINT_CONTINUE; v = Math.floor(v / (1 << VARINT_PAYLOAD_BITS))) bytes++;
  return bytes;
}

function writeVarint(buf: Buffer, pos: number, value: number): number {
  let v = value;
  // Above 2^31 bit operations would truncate: divide instead.
  while (v >= TWO_POW_32) {
    buf[pos++] = (v % VARINT_CONTINUE) | VARINT_CONTINUE;
    v = Math.floor(v / VARINT_CONTINUE);
  }
  while (v >= VARINT_CONTINUE) {
    buf[pos++] = (v & VARINT_MASK) | VARINT_CONTINUE;
    v >>>= VARINT_PAYLOAD_BITS;
  }
  buf[pos++] = v;
  return pos;
}

/** The bytes one record takes in a call: base64 decoded, or the UTF-8 of a JSON text. */
export function recordBytes(text: string, kind: RecordType): number {
  return Buffer.byteLength(text, kind === 'proto' ? 'base64' : 'utf8');
}

/** What one record adds to a batch message: its tag, its length as a varint, its bytes. */
export function framedBytes(bytes: number): number {
  return 1 + varintBytes(bytes) + bytes;
}

/**
 * Serializes records[from, to) as a ProtoEncodedBatch (base64 texts) or a JsonBatch (JSON
 * texts). A base64 text that does not decode cleanly (characters outside the alphabet) is
 * decoded leniently, as Buffer.from(text, 'base64') does, so the bytes sent are the same
 * either way.
 */
export function encodeBatch(records: readonly string[], kind: RecordType, from = 0, to = records.length): EncodedBatch {
  const encoding = kind === 'proto' ? 'base64' : 'utf8';
  const lengths = new Array<number>(to - from);
  let total = 0;
  for (let i = from; i < to; i++) {
    const bytes = Buffer.byteLength(records[i] ?? '', encoding);
    lengths[i - from] = bytes;
    total += framedBytes(bytes);
  }
  const out = Buffer.allocUnsafe(total);
  let pos = 0;
  for (let i = from; i < to; i++) {
    const text = records[i] ?? '';
    const expected = lengths[i - from] ?? 0;
    out[pos++] = TAG_RECORDS;
    pos = writeVarint(out, pos, expected);
    const written = expected === 0 ? 0 : out.write(text, pos, expected, encoding);
    if (written !== expected) return encodeLenient(records, kind, from, to);
    pos += written;
  }
  return { kind, records: to - from, bytes: out };
}

/** The slow path for malformed base64: decode each record on its own first. */
function encodeLenient(records: readonly string[], kind: RecordType, from: number, to: number): EncodedBatch {
  const decoded = records.slice(from, to).map((text) => Buffer.from(text, kind === 'proto' ? 'base64' : 'utf8'));
  const out = Buffer.allocUnsafe(decoded.reduce((n, b) => n + framedBytes(b.length), 0));
  let pos = 0;
  for (const bytes of decoded) {
    out[pos++] = TAG_RECORDS;
    pos = writeVarint(out, pos, bytes.length);
    pos += bytes.copy(out, pos);
  }
  return { kind, records: decoded.length, bytes: out };
}

/** A serialized EphemeralStreamRequest carrying the batch as ingest_record_batch with this offset. */
export function ingestRequestBytes(offset: number, batch: EncodedBatch): Buffer {
  const inner = batch.bytes.length;
  const body = 1 + varintBytes(offset) + 1 + varintBytes(inner) + inner;
  const out = Buffer.allocUnsafe(1 + varintBytes(body) + body);
  let pos = 0;
  out[pos++] = TAG_INGEST_RECORD_BATCH;
  pos = writeVarint(out, pos, body);
  out[pos++] = TAG_OFFSET_ID;
  pos = writeVarint(out, pos, offset);
  out[pos++] = batch.kind === 'proto' ? TAG_PROTO_ENCODED_BATCH : TAG_JSON_BATCH;
  pos = writeVarint(out, pos, inner);
  batch.bytes.copy(out, pos);
  return out;
}
