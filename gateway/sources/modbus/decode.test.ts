import { describe, expect, it } from 'vitest';
import { BYTE_ORDERS, decodeRegisters, fromBigEndianBytes, registerCount, shortestFloat32, toBigEndianBytes, type ByteOrder, type DecodedValue, type ModbusDataType } from './decode.ts';

/**
 * The wire registers for big-endian bytes in an order, written out by the order's letters
 * rather than by the code under test: for 32 bits, ABCD keeps [AB, CD], CDAB sends [CD, AB],
 * BADC [BA, DC] and DCBA [DC, BA]; 16 and 64 bits follow the same two choices.
 */
function wire(bigEndian: Buffer, order: ByteOrder): number[] {
  const pairs: [number, number][] = [];
  for (let i = 0; i < bigEndian.length; i += 2) pairs.push([bigEndian[i] as number, bigEndian[i + 1] as number]);
  const ordered = order === 'CDAB' || order === 'DCBA' ? pairs.reverse() : pairs;
  return ordered.map(([hi, lo]) => (order === 'BADC' || order === 'DCBA' ? lo * 256 + hi : hi * 256 + lo));
}

function be(size: number, write: (b: Buffer) => void): Buffer {
  const b = Buffer.alloc(size);
  write(b);
  return b;
}

/** One value per type, chosen so every byte differs and the sign bit matters. */
const SAMPLES: [ModbusDataType, Buffer, DecodedValue][] = [
  ['int16', be(2, (b) => b.writeInt16BE(-12345)), -12345],
  ['uint16', be(2, (b) => b.writeUInt16BE(54321)), 54321],
  ['int32', be(4, (b) => b.writeInt32BE(-123456789)), -123456789],
  ['uint32', be(4, (b) => b.writeUInt32BE(3_000_000_123)), 3_000_000_123],
  ['int64', be(8, (b) => b.writeBigInt64BE(-1234567890123456789n)), -1234567890123456789n],
  ['uint64', be(8, (b) => b.writeBigUInt64BE(18_000_000_000_000_000_123n)), 18_000_000_000_000_000_123n],
  ['float32', be(4, (b) => b.writeFloatBE(-123.456)), -123.456],
  ['float64', be(8, (b) => b.writeDoubleBE(-9876.54321e-3)), -9876.54321e-3],
];

const generated = SAMPLES.flatMap(([type, bytes, value]) => BYTE_ORDERS.map((order) => [type, order, wire(bytes, order), value] as const));

describe('decodeRegisters', () => {
  it.each(generated)('decodes %s in %s from %j', (type, order, words, value) => {
    expect(decodeRegisters(words, type, order)).toEqual(value);
  });

  // Literal vectors, as device manuals print them.
  it.each([
    ['float32', 'ABCD', [0x3f80, 0x0000], 1],
    ['float32', 'CDAB', [0x0000, 0x3f80], 1],
    ['float32', 'BADC', [0x803f, 0x0000], 1],
    ['float32', 'DCBA', [0x0000, 0x803f], 1],
    ['float32', 'ABCD', [0x41c8, 0x0000], 25],
    ['float32', 'ABCD', [0x3dcc, 0xcccd], 0.1],
    ['uint32', 'ABCD', [0x0001, 0x0002], 65538],
    ['uint32', 'CDAB', [0x0002, 0x0001], 65538],
    ['int16', 'ABCD', [0xffff], -1],
    ['int16', 'BADC', [0xff00], 255],
    ['uint16', 'DCBA', [0x3412], 0x1234],
    ['uint64', 'ABCD', [0x0102, 0x0304, 0x0506, 0x0708], 0x0102030405060708n],
    ['uint64', 'CDAB', [0x0708, 0x0506, 0x0304, 0x0102], 0x0102030405060708n],
    ['uint64', 'BADC', [0x0201, 0x0403, 0x0605, 0x0807], 0x0102030405060708n],
    ['uint64', 'DCBA', [0x0807, 0x0605, 0x0403, 0x0201], 0x0102030405060708n],
    ['int64', 'ABCD', [0xffff, 0xffff, 0xffff, 0xfffe], -2n],
    ['float64', 'ABCD', [0x4009, 0x21fb, 0x5444, 0x2d18], Math.PI],
    ['float64', 'DCBA', [0x182d, 0x4454, 0xfb21, 0x0940], Math.PI],
    ['float32', 'ABCD', [0x7fc0, 0x0000], Number.NaN],
    ['float32', 'ABCD', [0xff80, 0x0000], Number.NEGATIVE_INFINITY],
  ] as const)('decodes %s %s %j as %s', (type, order, words, value) => {
    expect(decodeRegisters(words, type, order)).toEqual(value);
  });

  it.each([
    ['a register that is not 0', [0x0100], undefined, true],
    ['a register that is 0', [0x0000], undefined, false],
    ['bit 0', [0x0001], 0, true],
    ['bit 15', [0x8000], 15, true],
    ['a clear bit', [0xfffe], 0, false],
    ['bit 8', [0x0100], 8, true],
  ] as const)('decodes a bool from %s', (_name, words, bit, value) => {
    expect(decodeRegisters(words, 'bool', 'ABCD', bit)).toBe(value);
  });

  it('numbers bits after the byte order is undone', () => {
    // 0x0100 on the wire is 0x0001 once BADC swaps its bytes.
    expect(decodeRegisters([0x0100], 'bool', 'BADC', 0)).toBe(true);
    expect(decodeRegisters([0x0100], 'bool', 'BADC', 8)).toBe(false);
  });

  it.each([
    ['ABCD', [0x4142, 0x4344, 0x4500], 'ABCDE'],
    ['CDAB', [0x4142, 0x4344, 0x4500], 'ABCDE'],
    ['BADC', [0x4241, 0x4443, 0x0045], 'ABCDE'],
    ['DCBA', [0x4241, 0x4443, 0x0045], 'ABCDE'],
    ['ABCD', [0x4142, 0x0043], 'AB'],
    ['ABCD', [0x0000, 0x4142], ''],
    ['ABCD', [0x4142, 0x4344], 'ABCD'],
    ['ABCD', [0xe920, 0x4300], 'é C'],
  ] as const)('decodes a string in %s from %j', (order, words, text) => {
    expect(decodeRegisters(words, 'string', order)).toBe(text);
  });

  it('refuses a register count that does not fit the type', () => {
    expect(() => decodeRegisters([1], 'float32', 'ABCD')).toThrow('float32 needs 2 register(s), got 1');
    expect(() => decodeRegisters([], 'string', 'ABCD')).toThrow(RangeError);
  });
});

describe('byte order helpers', () => {
  it.each(BYTE_ORDERS)('fromBigEndianBytes undoes toBigEndianBytes in %s', (order) => {
    const words = [0x0102, 0x0304, 0x0506, 0x0708];
    expect(fromBigEndianBytes(toBigEndianBytes(words, order), order)).toEqual(words);
  });

  it('counts registers per type', () => {
    expect([registerCount('bool'), registerCount('int32'), registerCount('float64'), registerCount('string', 10)]).toEqual([1, 2, 4, 10]);
  });
});

describe('shortestFloat32', () => {
  it.each([
    [Math.fround(0.1), 0.1],
    [Math.fround(21.5), 21.5],
    [Math.fround(-123.456), -123.456],
    [Math.fround(1e-7), 1e-7],
    [Math.fround(3.4028234663852886e38), 3.4028235e38],
    [0, 0],
  ])('prints float32 %d as %d', (input, output) => {
    expect(shortestFloat32(input)).toBe(output);
    expect(Math.fround(output)).toBe(input);
  });
});
