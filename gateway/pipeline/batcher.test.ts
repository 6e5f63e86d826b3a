import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Reading } from '../../common/reading.ts';
import { decodeRecord } from '../../common/records/encode.ts';
import { Batcher, wireBytes, type Batch, type BatchLimits, type FlushReason } from './batcher.ts';

const MT = 'iot.bronze.MqttReading';
const rec = (data: string, messageType = MT) => ({ messageType, data });

function setup(limits: Partial<BatchLimits> = {}) {
  const out: Array<{ batch: Batch; reason: FlushReason }> = [];
  const batcher = new Batcher({ maxRecords: 3, maxBytes: 1000, maxWaitMs: 50, ...limits }, 'json', (batch, reason) => out.push({ batch, reason }));
  return { batcher, out };
}

describe('Batcher', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('flushes when max_records is reached, without waiting', () => {
    const { batcher, out } = setup();
    for (const d of ['"a"', '"b"', '"c"', '"d"']) batcher.addEncoded('t', rec(d));
    expect(out).toHaveLength(1);
    expect(out[0]?.reason).toBe('max_records');
    expect(out[0]?.batch.records).toEqual(['"a"', '"b"', '"c"']);
    expect(batcher.openRecords()).toBe(1);
  });

  it('flushes max_wait_ms after the first record of a batch, not after the last', () => {
    const { batcher, out } = setup();
    batcher.addEncoded('t', rec('1'));
    vi.advanceTimersByTime(49);
    batcher.addEncoded('t', rec('2'));
    expect(out).toHaveLength(0);
    vi.advanceTimersByTime(1);
    expect(out).toEqual([{ reason: 'max_wait', batch: { table: 't', messageType: MT, recordType: 'json', records: ['1', '2'], bytes: 2 } }]);
  });

  it('starts a new batch when a record would pass max_bytes', () => {
    const { batcher, out } = setup({ maxRecords: 100, maxBytes: 10 });
    batcher.addEncoded('t', rec('123456'));
    batcher.addEncoded('t', rec('12345'));
    expect(out.map((o) => [o.reason, o.batch.records])).toEqual([['max_bytes', ['123456']]]);
    batcher.addEncoded('t', rec('12345'));
    expect(out.map((o) => [o.reason, o.batch.records])).toEqual([
      ['max_bytes', ['123456']],
      ['max_bytes', ['12345', '12345']],
    ]);
  });

  it('sends a record larger than max_bytes in a batch of its own', () => {
    const { batcher, out } = setup({ maxBytes: 4 });
    batcher.addEncoded('t', rec('123456789'));
    expect(out.map((o) => o.batch.records)).toEqual([['123456789']]);
  });

  it('keeps a batch per table, each with its own timer', () => {
    const { batcher, out } = setup();
    batcher.addEncoded('a', rec('1'));
    vi.advanceTimersByTime(30);
    batcher.addEncoded('b', rec('2'));
    vi.advanceTimersByTime(20);
    expect(out.map((o) => o.batch.table)).toEqual(['a']);
    vi.advanceTimersByTime(30);
    expect(out.map((o) => o.batch.table)).toEqual(['a', 'b']);
  });

  it('closes the open batch when the message type changes', () => {
    const { batcher, out } = setup();
    batcher.addEncoded('t', rec('1'));
    batcher.addEncoded('t', rec('2', 'iot.bronze.OpcuaReading'));
    expect(out.map((o) => [o.reason, o.batch.messageType])).toEqual([['message_type', MT]]);
  });

  it('flushes everything at stop, hands later records on at once, and fires no timer afterwards', () => {
    const { batcher, out } = setup();
    batcher.addEncoded('a', rec('1'));
    batcher.addEncoded('b', rec('2'));
    batcher.stop();
    batcher.stop();
    batcher.addEncoded('a', rec('3'));
    vi.advanceTimersByTime(1000);
    expect(out.map((o) => [o.reason, o.batch.records])).toEqual([
      ['stop', ['1']],
      ['stop', ['2']],
      ['stop', ['3']],
    ]);
  });

  it('encodes a reading once, as the configured record type', () => {
    const out: Batch[] = [];
    const batcher = new Batcher({ maxRecords: 1, maxBytes: 1000, maxWaitMs: 50 }, 'proto', (b) => out.push(b));
    const reading: Reading = {
      source: 's',
      tag: 'x',
      value: 2.5,
      quality: 0,
      sourceTimeUs: 10,
      gatewayTimeUs: 20,
      details: { protocol: 'mqtt', topic: 'x', qos: 1, retain: false },
      gatewayId: 'g',
      runId: 'r',
      seq: 7,
    };
    batcher.add('t', reading);
    const [batch] = out;
    expect(batch?.messageType).toBe(MT);
    expect(decodeRecord(MT, batch?.records[0] ?? '')).toMatchObject({ seq: 7, value_number: 2.5, tag: 'x', gateway_id: 'g' });
    expect(batch?.bytes).toBe(Buffer.from(batch?.records[0] ?? '', 'base64').length);
  });
});

describe('wireBytes', () => {
  it.each([
    ['', 'proto', 0],
    ['AA==', 'proto', 1],
    ['AAA=', 'proto', 2],
    ['AAAA', 'proto', 3],
    ['{"a":"é"}', 'json', 10],
  ] as const)('%j as %s is %i bytes', (data, type, bytes) => {
    expect(wireBytes(data, type)).toBe(bytes);
  });
});
