import { describe, expect, it } from 'vitest';
import type { PendingBatch } from '../pipeline/memory-queue.ts';
import { decodeBatch, encodeBatch, SpoolDecodeError } from './codec.ts';
import { decodeSpoolKey } from './key.ts';

const item = (recordType: 'proto' | 'json', records: string[]): PendingBatch => ({
  jobId: 'gw.0190a1b2c3d4-00112233445566778899.42',
  createdAtMs: 1_714_521_600_123,
  batch: { table: 'main.iot.tbl', messageType: 'iot.bronze.MqttReading', recordType, records, bytes: 0 },
});

describe('spool batch codec', () => {
  it('round-trips protobuf records as raw bytes, and computes their wire bytes', () => {
    const records = [Buffer.from([1, 2, 3]).toString('base64'), Buffer.from([255]).toString('base64'), ''];
    const decoded = decodeBatch(encodeBatch(item('proto', records)));
    expect(decoded).toEqual({ ...item('proto', records), batch: { ...item('proto', records).batch, bytes: 4 } });
    expect(encodeBatch(item('proto', records)).length).toBeLessThan(records.join('').length + 120);
  });

  it('round-trips JSON records with non-ASCII text', () => {
    const records = ['{"tag":"Temperatur °C","value":"größer"}', '{}'];
    expect(decodeBatch(encodeBatch(item('json', records))).batch.records).toEqual(records);
  });

  it('refuses a truncated or foreign buffer', () => {
    const bytes = encodeBatch(item('json', ['{"a":1}']));
    expect(() => decodeBatch(bytes.subarray(0, bytes.length - 2))).toThrow(SpoolDecodeError);
    expect(() => decodeBatch(Buffer.from([9, 0, 0, 0, 0, 0, 0, 0, 0, 0]))).toThrow(/version 9/);
  });
});

describe('decodeSpoolKey', () => {
  const raw = Buffer.alloc(32, 7);
  it.each([
    ['hex', raw.toString('hex')],
    ['base64', raw.toString('base64')],
    ['base64url', raw.toString('base64url')],
    ['base64 with a newline', `${raw.toString('base64')}\n`],
  ])('takes a 32-byte key as %s', (_kind, text) => {
    expect(decodeSpoolKey(text)).toEqual(raw);
  });

  it.each([['short', 'abcd'], ['31 bytes', Buffer.alloc(31).toString('base64')], ['passphrase', 'correct horse battery staple']])('refuses %s without echoing it', (_kind, text) => {
    const problem = decodeSpoolKey(text);
    expect(typeof problem).toBe('string');
    expect(problem).toContain('expected 32 bytes');
    expect(problem).not.toContain(text.trim());
  });
});
