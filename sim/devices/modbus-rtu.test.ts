import { describe, expect, it } from 'vitest';
import { crc16, withCrc } from './modbus-rtu.ts';
import { encodeSimValue } from './modbus-unit.ts';

describe('RTU framing', () => {
  it('computes the Modbus CRC of the specification example, low byte first on the wire', () => {
    // Read 10 holding registers from address 0 of unit 1: 01 03 00 00 00 0A C5 CD.
    const frame = withCrc(Buffer.from([0x01, 0x03, 0x00, 0x00, 0x00, 0x0a]));
    expect(frame.toString('hex')).toBe('01030000000ac5cd');
    expect(crc16(frame)).toBe(0);
  });
});

describe('encodeSimValue', () => {
  it.each([
    ['float32', 'ABCD', 1, [0x3f80, 0x0000]],
    ['float32', 'CDAB', 1, [0x0000, 0x3f80]],
    ['float32', 'BADC', 1, [0x803f, 0x0000]],
    ['float32', 'DCBA', 1, [0x0000, 0x803f]],
    ['uint64', 'CDAB', 0x0102030405060708n, [0x0708, 0x0506, 0x0304, 0x0102]],
    ['int16', 'BADC', 255, [0xff00]],
  ] as const)('lays out %s in %s', (type, order, value, words) => {
    expect(encodeSimValue(type, order, value)).toEqual(words);
  });
});
