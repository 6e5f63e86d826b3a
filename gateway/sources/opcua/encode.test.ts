import { DataType, VariantArrayType } from 'node-opcua-client';
import { describe, expect, it } from 'vitest';
import { encodeWrite } from './encode.ts';

describe('encodeWrite', () => {
  it.each([
    ['a Double', 12.5, DataType.Double, 12.5],
    ['numeric text as a Double', '7.25', DataType.Double, 7.25],
    ['a Boolean', true, DataType.Boolean, true],
    ['1 as a Boolean', 1, DataType.Boolean, true],
    ['an Int16', -5, DataType.Int16, -5],
    ['a safe Int64', 42, DataType.Int64, [0, 42]],
    ['a negative Int64', -2, DataType.Int64, [0xffffffff, 0xfffffffe]],
    ['exact Int64 text', '1152921504606846977', DataType.Int64, [0x10000000, 1]],
    ['the largest UInt64', '18446744073709551615', DataType.UInt64, [0xffffffff, 0xffffffff]],
    ['a String', 'auto', DataType.String, 'auto'],
    ['a number as a String', 3, DataType.String, '3'],
  ])('writes %s', (_name, value, dataType, expected) => {
    expect(encodeWrite(value, dataType, false)).toEqual({ dataType, arrayType: VariantArrayType.Scalar, value: expected });
  });

  it('writes ISO text or epoch milliseconds to a DateTime', () => {
    expect(encodeWrite('2024-05-01T12:00:00Z', DataType.DateTime, false)).toEqual({ dataType: DataType.DateTime, arrayType: VariantArrayType.Scalar, value: new Date('2024-05-01T12:00:00Z') });
    expect(encodeWrite(0, DataType.DateTime, false)).toEqual({ dataType: DataType.DateTime, arrayType: VariantArrayType.Scalar, value: new Date(0) });
  });

  it('writes a JSON array to an array node', () => {
    expect(encodeWrite('[1, 2]', DataType.Int32, true)).toEqual({ dataType: DataType.Int32, arrayType: VariantArrayType.Array, value: [1, 2] });
  });

  it.each([
    ['null', null, DataType.Double, false, 'a null value cannot be written'],
    ['text to a Double', 'abc', DataType.Double, false, 'a Double node takes a number, got "abc"'],
    ['2 to a Boolean', 2, DataType.Boolean, false, 'a Boolean node takes true, false, 0 or 1, got 2'],
    ['40000 to an Int16', 40000, DataType.Int16, false, 'a Int16 node takes a whole number -32768 to 32767, got 40000'],
    ['1.5 to an Int32', 1.5, DataType.Int32, false, 'a Int32 node takes a whole number -2147483648 to 2147483647, got 1.5'],
    ['an unsafe number to an Int64', 2 ** 60, DataType.Int64, false, `a Int64 node takes a safe integer or exact decimal text, got ${2 ** 60}`],
    ['-1 to a UInt64', -1, DataType.UInt64, false, '-1 is outside UInt64'],
    ['a bad date', 'yesterday', DataType.DateTime, false, 'a DateTime node takes ISO 8601 text or epoch milliseconds, got "yesterday"'],
    ['a number to an array', 1, DataType.Int32, true, 'an array node takes JSON text, got number'],
    ['a bad element', '[1, "x"]', DataType.Int32, true, 'element 1: a Int32 node takes a whole number -2147483648 to 2147483647, got "x"'],
    ['to an unknown type', 1, DataType.Null, false, 'writing to a Null node is not supported'],
  ])('refuses %s', (_name, value, dataType, isArray, problem) => {
    expect(encodeWrite(value, dataType, isArray)).toBe(problem);
  });
});
