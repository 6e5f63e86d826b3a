import { describe, expect, it } from 'vitest';
import { decodeRequest } from '../../common/zerobus/wire.ts';
import { RECORD_FRAMING_BYTES, recordCallBytes, splitBySize } from './client.ts';
import { ingestRequestBytes, type EncodedBatch } from './encode.ts';
import { ZerobusError } from './errors.ts';

const b64 = (bytes: number) => Buffer.alloc(bytes, 7).toString('base64');
/** The records a payload carries, read back as the service reads them. */
const sent = (part: EncodedBatch | undefined) => {
  const batch = decodeRequest(ingestRequestBytes(0, part as EncodedBatch)).ingest_record_batch;
  return batch?.proto_encoded_batch?.records ?? batch?.json_batch?.records;
};

describe('splitBySize', () => {
  it('keeps a batch under the limit whole and decodes base64 records to bytes', () => {
    const parts = splitBySize({ table: 'a.b.c', messageType: 'm', recordType: 'proto', records: [b64(10), b64(20)] }, 1000);
    expect(parts).toHaveLength(1);
    expect(parts[0]).toMatchObject({ kind: 'proto', records: 2 });
    expect(sent(parts[0])).toEqual([Buffer.alloc(10, 7), Buffer.alloc(20, 7)]);
  });

  it('splits a batch that would pass the limit, keeping record order', () => {
    const records = Array.from({ length: 10 }, (_, i) => JSON.stringify({ i, pad: 'x'.repeat(80) }));
    const parts = splitBySize({ table: 'a.b.c', messageType: 'm', recordType: 'json', records }, 300);
    expect(parts.length).toBeGreaterThan(1);
    const flat = parts.flatMap((p) => sent(p) as string[]);
    expect(flat).toEqual(records);
    for (const p of parts) expect((sent(p) as string[]).reduce((n, r) => n + r.length + 6, 0)).toBeLessThanOrEqual(300);
  });

  it('refuses a single record larger than one call, as a permanent error', () => {
    try {
      splitBySize({ table: 'a.b.c', messageType: 'm', recordType: 'proto', records: [b64(2000)] }, 1000);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ZerobusError);
      expect((err as ZerobusError).code).toBe('BATCH_TOO_LARGE');
      expect((err as ZerobusError).retryable).toBe(false);
      expect((err as ZerobusError).scope).toBe('request');
    }
  });
});

describe('recordCallBytes', () => {
  it.each([0, 1, 2, 3, 100, 101, 102])('counts the decoded bytes of a %i-byte protobuf record plus framing', (bytes) => {
    expect(recordCallBytes(b64(bytes), 'proto')).toBe(bytes + RECORD_FRAMING_BYTES);
  });

  it('counts the UTF-8 bytes of a JSON record plus framing', () => {
    expect(recordCallBytes('{"a":"é"}', 'json')).toBe(10 + RECORD_FRAMING_BYTES);
  });
});
