import { DataType, LocalizedText, StatusCodes, VariantArrayType } from 'node-opcua-client';
import { describe, expect, it } from 'vitest';
import { decodeValue, int64Value, timestampUs, Unrepresentable, valueTypeOf, type VariantLike } from './decode.ts';

/** Value and type, as a reading carries them. */
const decodeVariant = (v: VariantLike) => {
  const value = decodeValue(v);
  return value instanceof Unrepresentable ? { error: value.reason } : { value, valueType: valueTypeOf(v) };
};

const scalar = (dataType: DataType, value: unknown) => decodeVariant({ dataType, arrayType: VariantArrayType.Scalar, value });
const array = (dataType: DataType, value: unknown) => decodeVariant({ dataType, arrayType: VariantArrayType.Array, value });

describe('decodeVariant', () => {
  it.each([
    ['Boolean', DataType.Boolean, true, true],
    ['SByte', DataType.SByte, -12, -12],
    ['Byte', DataType.Byte, 200, 200],
    ['Int16', DataType.Int16, -30000, -30000],
    ['UInt16', DataType.UInt16, 60000, 60000],
    ['Int32', DataType.Int32, -2000000000, -2000000000],
    ['UInt32', DataType.UInt32, 4000000000, 4000000000],
    ['Float', DataType.Float, 21.5, 21.5],
    ['Double', DataType.Double, Math.PI, Math.PI],
    ['Int64 that fits', DataType.Int64, [0, 42], 42],
    ['negative Int64 that fits', DataType.Int64, [0xffffffff, 0xfffffffe], -2],
    ['Int64 beyond 2^53', DataType.Int64, [0x10000000, 1], '1152921504606846977'],
    ['Int64 minimum', DataType.Int64, [0x80000000, 0], '-9223372036854775808'],
    ['UInt64 maximum', DataType.UInt64, [0xffffffff, 0xffffffff], '18446744073709551615'],
    ['String', DataType.String, 'hello', 'hello'],
    ['DateTime', DataType.DateTime, new Date('2024-05-01T12:00:00.123Z'), '2024-05-01T12:00:00.123Z'],
    ['ByteString', DataType.ByteString, Buffer.from([1, 2, 3]), 'AQID'],
    ['Guid', DataType.Guid, '72962B91-FA75-4AE6-8D28-B404DC7DAF63', '72962B91-FA75-4AE6-8D28-B404DC7DAF63'],
    ['LocalizedText', DataType.LocalizedText, new LocalizedText({ text: 'Pump', locale: 'en' }), 'Pump'],
    ['StatusCode', DataType.StatusCode, StatusCodes.BadSensorFailure, 0x808c0000],
    ['Null', DataType.Null, null, null],
    ['a null String', DataType.String, null, null],
  ])('turns a %s into a reading value', (_name, dataType, value, expected) => {
    const decoded = scalar(dataType, value);
    expect(decoded).toEqual({ value: expected, valueType: DataType[dataType] });
  });

  it.each([
    ['Double', DataType.Double, new Float64Array([1.5, 2.5]), '[1.5,2.5]'],
    ['Int32', DataType.Int32, new Int32Array([1, -2]), '[1,-2]'],
    ['Boolean', DataType.Boolean, [true, false], '[true,false]'],
    ['String', DataType.String, ['a', 'b'], '["a","b"]'],
    ['Int64', DataType.Int64, [[0, 7], [0x10000000, 1]], '[7,"1152921504606846977"]'],
    ['DateTime', DataType.DateTime, [new Date('2024-01-01T00:00:00Z')], '["2024-01-01T00:00:00.000Z"]'],
    ['Double with NaN', DataType.Double, [1, Number.NaN], '[1,null]'],
    ['empty Float', DataType.Float, new Float32Array(0), '[]'],
  ])('turns a %s array into JSON text', (name, dataType, value, expected) => {
    expect(array(dataType, value)).toEqual({ value: expected, valueType: `${DataType[dataType]}[]` });
    void name;
  });

  it('nests a matrix by its dimensions', () => {
    const decoded = decodeVariant({ dataType: DataType.Int32, arrayType: VariantArrayType.Matrix, value: new Int32Array([1, 2, 3, 4, 5, 6]), dimensions: [2, 3] });
    expect(decoded).toEqual({ value: '[[1,2,3],[4,5,6]]', valueType: 'Int32[][]' });
  });

  it('says so when a value has no faithful form', () => {
    expect(scalar(DataType.DiagnosticInfo, {})).toEqual({ error: 'cannot represent a DiagnosticInfo value' });
  });
});

describe('int64Value', () => {
  it('keeps 2^53 - 1 a number and 2^53 + 1 exact text', () => {
    expect(int64Value([0x1fffff, 0xffffffff], true)).toBe(Number.MAX_SAFE_INTEGER);
    expect(int64Value([0x200000, 1], true)).toBe('9007199254740993');
  });
});

describe('timestampUs', () => {
  it('adds the sub-millisecond picoseconds as microseconds', () => {
    expect(timestampUs(new Date(1_700_000_000_123), 456_000_000)).toBe(1_700_000_000_123_456);
  });

  it('treats a missing or 1601 timestamp as none', () => {
    expect(timestampUs(null, 0)).toBeUndefined();
    expect(timestampUs(new Date(Date.UTC(1601, 0, 1)), 0)).toBeUndefined();
  });
});
