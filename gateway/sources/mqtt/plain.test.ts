import { describe, expect, it } from 'vitest';
import { decodePlainPayload, type PlainType } from './plain.ts';

describe('decodePlainPayload', () => {
  it.each<[string, string | Buffer, PlainType, unknown]>([
    ['a number', '21.5', 'number', { value: 21.5 }],
    ['a negative number with spaces', ' -3\n', 'number', { value: -3 }],
    ['an exponent', '1e-3', 'number', { value: 0.001 }],
    ['a leading dot', '.5', 'number', { value: 0.5 }],
    ['text as a string', 'RUN', 'string', { value: 'RUN' }],
    ['a number as a string', '42', 'string', { value: '42' }],
    ['an empty string', '', 'string', { value: '' }],
    ['true', 'TRUE', 'boolean', { value: true }],
    ['1', '1', 'boolean', { value: true }],
    ['off', 'off', 'boolean', { value: false }],
    ['no', ' No ', 'boolean', { value: false }],
    ['text as a number', 'abc', 'number', { kind: 'invalid_number', reason: "'abc' is not a decimal number" }],
    ['hex as a number', '0x10', 'number', { kind: 'invalid_number', reason: "'0x10' is not a decimal number" }],
    ['NaN', 'NaN', 'number', { kind: 'invalid_number', reason: "'NaN' is not a decimal number" }],
    ['an overflow', '1e999', 'number', { kind: 'invalid_number', reason: "'1e999' is not a decimal number" }],
    ['a number with a unit', '12 kW', 'number', { kind: 'invalid_number', reason: "'12 kW' is not a decimal number" }],
    ['an empty number', '  ', 'number', { kind: 'empty_payload', reason: 'empty payload where a number was expected' }],
    ['maybe as a boolean', 'maybe', 'boolean', { kind: 'invalid_boolean', reason: "'maybe' is not a boolean (true/false, 1/0, on/off, yes/no)" }],
    ['bytes that are not UTF-8', Buffer.from([0xff, 0xfe]), 'string', { kind: 'invalid_utf8', reason: 'payload is not valid UTF-8 text' }],
  ])('decodes %s', (_name, payload, type, expected) => {
    expect(decodePlainPayload(Buffer.isBuffer(payload) ? payload : Buffer.from(payload), type)).toEqual(expected);
  });

  it('cuts a long refused payload in the reason', () => {
    const result = decodePlainPayload(Buffer.from('x'.repeat(100)), 'number');
    expect(result).toEqual({ kind: 'invalid_number', reason: `'${'x'.repeat(40)}...' is not a decimal number` });
  });
});
