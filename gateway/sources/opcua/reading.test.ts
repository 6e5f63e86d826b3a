import { DataType, VariantArrayType } from 'node-opcua-client';
import { describe, expect, it } from 'vitest';
import { NodeTable } from './nodes.ts';
import { isRejection, toReading, type DataValueLike } from './reading.ts';

const table = new NodeTable();
table.add({ nodeId: 'ns=2;s=A', tag: 'line/a', browsePath: '/Objects/2:line/2:a', group: 0, settings: { samplingIntervalMs: -1, queueSize: 1, discardOldest: true, filter: undefined }, writable: false });
table.add({ nodeId: 'ns=2;s=B', tag: 'b', browsePath: undefined, group: 0, settings: { samplingIntervalMs: -1, queueSize: 1, discardOldest: true, filter: undefined }, writable: false });

const dv = (over: Partial<DataValueLike> = {}): DataValueLike => ({
  value: { dataType: DataType.Double, arrayType: VariantArrayType.Scalar, value: 1.5 },
  statusCode: { value: 0 },
  sourceTimestamp: new Date(1_700_000_000_000),
  sourcePicoseconds: 0,
  serverTimestamp: new Date(1_700_000_001_000),
  serverPicoseconds: 0,
  ...over,
});

describe('toReading', () => {
  it('makes a reading with the source timestamp, the quality and the node details', () => {
    expect(toReading('src', table, 0, dv(), 42)).toEqual({
      source: 'src',
      tag: 'line/a',
      value: 1.5,
      quality: 0,
      sourceTimeUs: 1_700_000_000_000_000,
      gatewayTimeUs: 42,
      details: { protocol: 'opcua', nodeId: 'ns=2;s=A', browsePath: '/Objects/2:line/2:a', valueType: 'Double' },
    });
  });

  it('falls back to the server timestamp, then the time of receipt', () => {
    expect(toReading('src', table, 1, dv({ sourceTimestamp: null }), 42)).toMatchObject({ sourceTimeUs: 1_700_000_001_000_000 });
    expect(toReading('src', table, 1, dv({ sourceTimestamp: null, serverTimestamp: null }), 42)).toMatchObject({
      sourceTimeUs: 42,
      details: { protocol: 'opcua', nodeId: 'ns=2;s=B', valueType: 'Double' },
    });
  });

  it('keeps a Bad status with a null value as an unsigned StatusCode', () => {
    const r = toReading('src', table, 1, dv({ value: { dataType: DataType.Null, arrayType: VariantArrayType.Scalar, value: null }, statusCode: { value: 0x808c0000 | 0 } }), 42);
    expect(r).toMatchObject({ value: null, quality: 0x808c0000 });
    expect(isRejection(r)).toBe(false);
  });

  it('rejects a value it cannot represent, naming the node', () => {
    const r = toReading('src', table, 1, dv({ value: { dataType: DataType.DiagnosticInfo, arrayType: VariantArrayType.Scalar, value: { a: 1 } } }), 42);
    expect(r).toEqual({ origin: 'ns=2;s=B', kind: 'unsupported_value', reason: 'cannot represent a DiagnosticInfo value', payload: '{"a":1}' });
    expect(isRejection(r)).toBe(true);
  });
});
