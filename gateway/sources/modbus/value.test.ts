import { describe, expect, it } from 'vitest';
import { BYTE_ORDERS, decodeRegisters, type ByteOrder, type ModbusDataType } from './decode.ts';
import { encodeCoil, encodeValue, toReadingValue, type EncodeSpec } from './value.ts';

const plain = { scale: 1, offset: 0 };

describe('toReadingValue', () => {
  it.each([
    ['a number without scale', 215, plain, 215],
    ['scale and offset', 215, { scale: 0.1, offset: -5 }, 16.5],
    ['a scale that leaves binary noise, rounded to 15 digits', 3, { scale: 0.1, offset: 0 }, 0.3],
    ['a bool', true, plain, true],
    ['a string', 'RUN', plain, 'RUN'],
    ['an int64 within 2^53 as a number', 9_007_199_254_740_991n, plain, 9_007_199_254_740_991],
    ['a negative int64 within 2^53 as a number', -9_007_199_254_740_991n, plain, -9_007_199_254_740_991],
    ['an int64 beyond 2^53 as exact digits', 9_007_199_254_740_993n, plain, '9007199254740993'],
    ['a uint64 near 2^64 as exact digits', 18_446_744_073_709_551_615n, plain, '18446744073709551615'],
    ['a negative int64 beyond 2^53 as exact digits', -9_223_372_036_854_775_808n, plain, '-9223372036854775808'],
    ['a scaled int64 as a double', 12_345n, { scale: 0.01, offset: 0 }, 123.45],
  ] as const)('delivers %s', (_name, decoded, scaling, value) => {
    expect(toReadingValue(decoded, scaling)).toEqual({ value });
  });

  it.each([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])('refuses the float %d', (decoded) => {
    expect(toReadingValue(decoded, plain)).toEqual({ outOfRange: `register value is ${decoded}` });
  });
});

const spec = (type: ModbusDataType, order: ByteOrder = 'ABCD', extra: Partial<EncodeSpec> = {}): EncodeSpec => ({ type, order, ...plain, ...extra });

describe('encodeValue', () => {
  const roundTrips: [ModbusDataType, number | string, number | string][] = [
    ['int16', -12345, -12345],
    ['uint16', 54321, 54321],
    ['int32', -123456789, -123456789],
    ['uint32', 3_000_000_123, 3_000_000_123],
    ['int64', -1234567890123, -1234567890123],
    ['int64', '-9223372036854775808', '-9223372036854775808'],
    ['uint64', '18446744073709551615', '18446744073709551615'],
    ['float32', 21.5, 21.5],
    ['float32', 0.1, 0.1],
    ['float64', Math.PI, Math.PI],
  ];
  it.each(roundTrips.flatMap(([type, value, back]) => BYTE_ORDERS.map((order) => [type, order, value, back] as const)))(
    'writes %s in %s so that %j reads back as %j',
    (type, order, value, back) => {
      const encoded = encodeValue(value, spec(type, order));
      if (!('words' in encoded)) throw new Error(encoded.error);
      expect(toReadingValue(decodeRegisters(encoded.words, type, order), plain)).toEqual({ value: back });
    },
  );

  it.each([
    ['int16 in ABCD', spec('int16'), 0x1234, [0x1234]],
    ['int16 in BADC', spec('int16', 'BADC'), 0x1234, [0x3412]],
    ['float32 in CDAB', spec('float32', 'CDAB'), 1, [0x0000, 0x3f80]],
    ['uint32 in DCBA', spec('uint32', 'DCBA'), 0x01020304, [0x0403, 0x0201]],
    ['a scaled int16, rounded to the nearest step', spec('int16', 'ABCD', { scale: 0.1 }), 21.55, [216]],
    ['a value with an offset', spec('uint16', 'ABCD', { scale: 0.5, offset: 10 }), 20, [20]],
    ['a bool register', spec('bool'), true, [1]],
    ['a string, NUL-padded', spec('string', 'ABCD', { length: 3 }), 'ABC', [0x4142, 0x4300, 0x0000]],
    ['a string, byte-swapped', spec('string', 'BADC', { length: 2 }), 'ABC', [0x4241, 0x0043]],
  ] as const)('encodes %s', (_name, s, value, words) => {
    expect(encodeValue(value, s)).toEqual({ words });
  });

  it.each([
    ['a fraction for an integer tag', spec('int16'), 1.5, 'expected a whole number for a int16 tag, got 1.5'],
    ['a value past the type range', spec('uint16'), 70000, 'number 70000 is outside the uint16 range 0..65535'],
    ['a negative value for an unsigned tag', spec('uint32'), -1, 'number -1 is outside the uint32 range 0..4294967295'],
    ['a scaled value past the range', spec('int16', 'ABCD', { scale: 0.1 }), 5000, 'number 5000 is outside the int16 range -32768..32767'],
    ['text for a number', spec('int32'), 'x', 'expected a number for a int32 tag, got string "x"'],
    ['digits that are not an integer for int64', spec('int64'), '1.5', 'expected decimal digits for a int64 tag, got string "1.5"'],
    ['an unsafe integer as a number', spec('int64'), 2 ** 60, `${2 ** 60} is beyond 2^53; send it as a string of digits`],
    ['a uint64 past 2^64', spec('uint64'), '18446744073709551616', 'string "18446744073709551616" is outside the uint64 range 0..18446744073709551615'],
    ['NaN for a float', spec('float32'), Number.NaN, 'expected a finite number for a float32 tag, got number NaN'],
    ['a value past float32', spec('float32'), 1e39, '1e+39 is outside the float32 range'],
    ['a string too long', spec('string', 'ABCD', { length: 1 }), 'ABC', '3 characters do not fit 1 registers (2 at most)'],
    ['a character beyond Latin-1', spec('string', 'ABCD', { length: 2 }), '€', 'character "€" is not Latin-1'],
    ['a number for a string', spec('string', 'ABCD', { length: 2 }), 5, 'expected a string, got number 5'],
    ['2 for a bool', spec('bool'), 2, 'expected true, false, 1 or 0 for a bool tag, got number 2'],
    ['null', spec('int16'), null, 'expected a number for a int16 tag, got null'],
  ] as const)('refuses %s', (_name, s, value, error) => {
    expect(encodeValue(value, s)).toEqual({ error });
  });
});

describe('encodeCoil', () => {
  it.each([
    [true, { state: true }],
    [false, { state: false }],
    [1, { state: true }],
    [0, { state: false }],
    ['on', { error: 'expected true, false, 1 or 0 for a coil, got string "on"' }],
  ] as const)('turns %j into %j', (value, result) => {
    expect(encodeCoil(value)).toEqual(result);
  });
});
