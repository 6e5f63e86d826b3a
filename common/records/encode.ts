import type { RecordType } from '../batch.ts';
import type { Reading } from '../reading.ts';
import { bronzeRow } from './bronze.ts';
import { recordType } from './schemas.ts';

export interface EncodedRecord {
  messageType: string;
  /** Base64 protobuf for 'proto', the JSON object text for 'json'. */
  data: string;
}

/** Encodes a reading once, at the gateway; the relay forwards the result unchanged. */
export function encodeReading(reading: Reading, type: RecordType): EncodedRecord {
  const { messageType, row } = bronzeRow(reading);
  if (type === 'json') return { messageType, data: JSON.stringify(row) };
  const message = recordType(messageType);
  const bytes = message.encode(message.fromObject(row)).finish();
  return { messageType, data: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64') };
}

/** Decodes a base64 protobuf record of a bronze message to its row (for DLQ views and tests). */
export function decodeRecord(messageType: string, base64: string): Record<string, unknown> {
  const message = recordType(messageType);
  return message.toObject(message.decode(Buffer.from(base64, 'base64')), { longs: Number, defaults: false });
}
