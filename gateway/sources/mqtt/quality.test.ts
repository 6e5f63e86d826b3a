import { describe, expect, it } from 'vitest';
import { fromOpcDaQuality, parseQuality } from './quality.ts';

describe('parseQuality', () => {
  it.each([
    [true, 0],
    [false, 0x80000000],
    ['good', 0],
    [' OK ', 0],
    ['Uncertain', 0x40000000],
    ['BAD', 0x80000000],
    ['fault', 0x80000000],
    ['BadNoCommunication', 0x80310000],
    ['Bad_NoCommunication', 0x80310000],
    ['uncertain_lastusablevalue', 0x40900000],
    ['0x808B0000', 0x808b0000],
    [0, 0],
    [0x80310000, 0x80310000],
  ])('reads %j as 0x%s', (input, expected) => {
    expect(parseQuality(input, 'opcua')).toBe(expected);
  });

  it.each([
    [-1, 'quality -1 is not a status code (an integer 0-0xFFFFFFFF)'],
    [1.5, 'quality 1.5 is not a status code (an integer 0-0xFFFFFFFF)'],
    [2 ** 32, 'quality 4294967296 is not a status code (an integer 0-0xFFFFFFFF)'],
    ['so-so', "quality 'so-so' is not a known quality word or OPC UA status code name"],
    [null, 'quality must be a boolean, a number or a string, got null'],
    [[1], 'quality must be a boolean, a number or a string, got array'],
  ])('refuses %j', (input, reason) => {
    expect(parseQuality(input, 'opcua')).toBe(reason);
  });

  it('reads numbers as OPC DA qualities when asked', () => {
    expect(parseQuality(192, 'opcda')).toBe(0);
    expect(parseQuality(0, 'opcda')).toBe(0x80000000);
  });
});

describe('fromOpcDaQuality (OPC UA Part 8, A.3.2.3)', () => {
  it.each([
    [0xc0, 0x00000000, 'GOOD'],
    [0xd8, 0x00960000, 'LOCAL_OVERRIDE'],
    [0x40, 0x40000000, 'UNCERTAIN'],
    [0x44, 0x40900000, 'LAST_USABLE'],
    [0x50, 0x40930000, 'SENSOR_CAL'],
    [0x54, 0x40940000, 'EGU_EXCEEDED'],
    [0x58, 0x40950000, 'SUB_NORMAL'],
    [0x00, 0x80000000, 'BAD'],
    [0x04, 0x80890000, 'CONFIG_ERROR'],
    [0x08, 0x808a0000, 'NOT_CONNECTED'],
    [0x0c, 0x808b0000, 'DEVICE_FAILURE'],
    [0x10, 0x808c0000, 'SENSOR_FAILURE'],
    [0x14, 0x808d0000, 'LAST_KNOWN'],
    [0x18, 0x80310000, 'COMM_FAILURE'],
    [0x1c, 0x808d0000, 'OUT_OF_SERVICE'],
    [0x20, 0x80320000, 'WAITING_FOR_INITIAL_DATA'],
  ])('maps 0x%s to 0x%s (%s)', (da, ua) => {
    expect(fromOpcDaQuality(da)).toBe(ua);
  });

  it('carries the limit bits over and ignores the vendor byte', () => {
    expect(fromOpcDaQuality(0xc1)).toBe(0x00000100); // Good, low limited
    expect(fromOpcDaQuality(0x56)).toBe(0x40940200); // EGU exceeded, high limited
    expect(fromOpcDaQuality(0x1b)).toBe(0x80310300); // comm failure, constant
    expect(fromOpcDaQuality(0xab00 | 0xc0)).toBe(0);
  });

  it('keeps the main quality of an unknown sub-status, and reads the unused 0b10 as Bad', () => {
    expect(fromOpcDaQuality(0xc4)).toBe(0);
    expect(fromOpcDaQuality(0x48)).toBe(0x40000000);
    expect(fromOpcDaQuality(0x80)).toBe(0x80000000);
  });
});
