import { describe, expect, it } from 'vitest';
import { DataType, Variant, VariantArrayType } from 'node-opcua';
import { fromVariant, inferKind, settledType, toVariant, type VariableKind } from './datatype.ts';

const scalar = (type: VariableKind['type']): VariableKind => ({ type, isArray: false });
const array = (type: VariableKind['type']): VariableKind => ({ type, isArray: true });

describe('toVariant', () => {
  it.each([
    ['Double', 1.5, DataType.Double, 1.5],
    ['Float', 2.25, DataType.Float, 2.25],
    ['Int32', -7, DataType.Int32, -7],
    ['UInt16', 65_535, DataType.UInt16, 65_535],
    ['SByte', -128, DataType.SByte, -128],
    ['Byte', 255, DataType.Byte, 255],
    ['Boolean', true, DataType.Boolean, true],
    ['Boolean', 1, DataType.Boolean, true],
    ['Boolean', 0, DataType.Boolean, false],
    ['String', 'on', DataType.String, 'on'],
    ['Int64', -5, DataType.Int64, [0xffffffff, 0xfffffffb]],
    ['Int64', '9223372036854775807', DataType.Int64, [0x7fffffff, 0xffffffff]],
    ['UInt64', 4_294_967_296, DataType.UInt64, [1, 0]],
    ['BaseDataType', 3, DataType.Double, 3],
    ['BaseDataType', false, DataType.Boolean, false],
  ] as const)('%s takes %j', (type, value, dataType, expected) => {
    const result = toVariant(scalar(type), value);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.variant.dataType).toBe(dataType);
    expect(result.variant.value).toEqual(expected);
  });

  it('turns a DateTime given as ISO text or epoch milliseconds into a Date', () => {
    const iso = toVariant(scalar('DateTime'), '2026-01-02T03:04:05.678Z');
    const ms = toVariant(scalar('DateTime'), 1_767_323_045_678);
    expect(iso.ok && (iso.variant.value as Date).toISOString()).toBe('2026-01-02T03:04:05.678Z');
    expect(ms.ok && (ms.variant.value as Date).toISOString()).toBe('2026-01-02T03:04:05.678Z');
  });

  it.each([
    ['Int32', 1.5, /number does not fit Int32/],
    ['Int16', 40_000, /outside Int16/],
    ['UInt32', -1, /outside UInt32/],
    ['UInt64', -1, /outside UInt64/],
    ['Int64', '12abc', /string does not fit Int64/],
    ['Boolean', 2, /number does not fit Boolean/],
    ['Double', 'hot', /string does not fit Double/],
    ['String', 5, /number does not fit String/],
    ['DateTime', 'not a date', /not a date/],
  ] as const)('refuses %s for %j with a reason', (type, value, reason) => {
    const result = toVariant(scalar(type), value);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(reason);
  });

  it('gives null as a Null variant whatever the type', () => {
    const result = toVariant(scalar('Int32'), null);
    expect(result.ok && result.variant.dataType).toBe(DataType.Null);
  });

  it('parses an array from JSON text, checking every element', () => {
    const good = toVariant(array('Int16'), '[1, -2, 3]');
    expect(good.ok && Array.from(good.variant.value as Int16Array)).toEqual([1, -2, 3]);
    expect(good.ok && good.variant.arrayType).toBe(VariantArrayType.Array);
    const bad = toVariant(array('Int16'), '[1, 99999]');
    expect(!bad.ok && bad.reason).toMatch(/element 1: 99999 is outside Int16/);
    expect(toVariant(array('Double'), '{"a":1}').ok).toBe(false);
    expect(toVariant(array('Double'), 'not json').ok).toBe(false);
    expect(toVariant(array('Double'), 5).ok).toBe(false);
    const untyped = toVariant(array('BaseDataType'), '["a","b"]');
    expect(untyped.ok && untyped.variant.dataType).toBe(DataType.String);
    expect(toVariant(array('BaseDataType'), '["a",1]').ok).toBe(false);
  });
});

describe('types of undeclared tags', () => {
  it('infers Boolean, Double or String from the first value, and waits on null', () => {
    expect(inferKind(true).type).toBe('Boolean');
    expect(inferKind(3).type).toBe('Double');
    expect(inferKind('x').type).toBe('String');
    expect(inferKind(null).type).toBe('BaseDataType');
  });

  it('settles an untyped variable on the builtin type of its first value', () => {
    expect(settledType(DataType.Boolean)).toBe('Boolean');
    expect(settledType(DataType.Double)).toBe('Double');
    expect(settledType(DataType.ByteString)).toBe('BaseDataType');
  });
});

describe('fromVariant (client writes)', () => {
  it.each([
    [new Variant({ dataType: DataType.UInt16, value: 1200 }), 1200],
    [new Variant({ dataType: DataType.Boolean, value: true }), true],
    [new Variant({ dataType: DataType.String, value: 'auto' }), 'auto'],
    [new Variant({ dataType: DataType.Int64, arrayType: VariantArrayType.Scalar, value: [0xffffffff, 0xfffffffb] }), -5],
    [new Variant({ dataType: DataType.UInt64, arrayType: VariantArrayType.Scalar, value: [0xffffffff, 0xffffffff] }), '18446744073709551615'],
    [new Variant({ dataType: DataType.DateTime, value: new Date('2026-01-02T03:04:05.000Z') }), '2026-01-02T03:04:05.000Z'],
    [new Variant({ dataType: DataType.Double, arrayType: VariantArrayType.Array, value: [1.5, 2] }), '[1.5,2]'],
  ])('turns %s into %j', (variant, expected) => {
    expect(fromVariant(variant)).toEqual(expected);
  });
});
