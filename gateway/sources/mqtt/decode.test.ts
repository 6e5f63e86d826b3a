import { describe, expect, it } from 'vitest';
import { decodeJsonPayload, extractReading, parseTimestampUs, type DecodeSpec } from './decode.ts';

const spec = (value_path = 'value', timestamp_path?: string): DecodeSpec => ({ value_path, timestamp_path });

describe('decodeJsonPayload', () => {
  it.each([
    ['a number', '{"value": 21.5}', spec(), { value: 21.5 }],
    ['a string', '{"value": "RUN"}', spec(), { value: 'RUN' }],
    ['a boolean', '{"value": true}', spec(), { value: true }],
    ['null', '{"value": null}', spec(), { value: null }],
    ['zero is a value, not a missing one', '{"value": 0}', spec(), { value: 0 }],
    ['an array as JSON text', '{"value": [1, 2]}', spec(), { value: '[1,2]' }],
    ['an object as JSON text', '{"value": {"a": 1}}', spec(), { value: '{"a":1}' }],
    ['a nested dot path', '{"data": {"temp": 7}}', spec('data.temp'), { value: 7 }],
    ['an array index in the path', '{"values": [3, 4]}', spec('values.1'), { value: 4 }],
    ['the whole payload with ""', '42', spec(''), { value: 42 }],
    ['a whole object payload with ""', '{"a":1}', spec(''), { value: '{"a":1}' }],
    ['an ISO timestamp', '{"value": 1, "ts": "2024-05-01T12:00:00Z"}', spec('value', 'ts'), { value: 1, sourceTimeUs: 1_714_564_800_000_000 }],
    ['an epoch ms timestamp', '{"value": 1, "ts": 1714564800123}', spec('value', 'ts'), { value: 1, sourceTimeUs: 1_714_564_800_123_000 }],
    ['a missing path', '{"v": 1}', spec(), { kind: 'value_not_found', reason: "value path 'value' not found" }],
    ['a path through a scalar', '{"data": 5}', spec('data.temp'), { kind: 'value_not_found', reason: "value path 'data.temp' not found" }],
    ['an index past the end', '{"values": [3]}', spec('values.1'), { kind: 'value_not_found', reason: "value path 'values.1' not found" }],
    ['invalid JSON', '{"value": ', spec(), { kind: 'invalid_json', reason: expect.stringMatching(/^invalid JSON: /) }],
    ['plain text', 'hello', spec(''), { kind: 'invalid_json', reason: expect.stringMatching(/^invalid JSON: /) }],
    ['an empty payload', '', spec(), { kind: 'empty_payload', reason: 'empty payload' }],
    ['a missing timestamp', '{"value": 1}', spec('value', 'ts'), { kind: 'timestamp_not_found', reason: "timestamp path 'ts' not found" }],
    [
      'a timestamp without time zone',
      '{"value": 1, "ts": "2024-05-01T12:00:00"}',
      spec('value', 'ts'),
      { kind: 'invalid_timestamp', reason: "timestamp '2024-05-01T12:00:00' is not an ISO 8601 date-time with a time zone" },
    ],
    [
      'a boolean timestamp',
      '{"value": 1, "ts": true}',
      spec('value', 'ts'),
      { kind: 'invalid_timestamp', reason: 'timestamp must be an ISO 8601 string or epoch milliseconds, got boolean' },
    ],
  ])('decodes %s', (_name, payload, s, expected) => {
    expect(decodeJsonPayload(Buffer.from(payload), s)).toEqual(expected);
  });
});

describe('quality_path', () => {
  const q = (quality_path: string, quality_numbers?: 'opcua' | 'opcda'): DecodeSpec => ({ value_path: 'v', quality_path, quality_numbers });
  it.each([
    ['a word', { v: 1, q: 'GOOD' }, q('q'), { value: 1, quality: 0 }],
    ['a StatusCode number', { v: 1, q: 0x80310000 }, q('q'), { value: 1, quality: 0x80310000 }],
    ['an OPC DA number', { v: 1, q: 24 }, q('q', 'opcda'), { value: 1, quality: 0x80310000 }],
    ['a nested path', { v: 1, meta: { ok: false } }, q('meta.ok'), { value: 1, quality: 0x80000000 }],
    ['a missing quality', { v: 1 }, q('q'), { kind: 'quality_not_found', reason: "quality path 'q' not found" }],
    ['an unknown word', { v: 1, q: 'meh' }, q('q'), { kind: 'invalid_quality', reason: "quality 'meh' is not a known quality word or OPC UA status code name" }],
  ])('reads %s', (_name, doc, s, expected) => {
    expect(extractReading(doc, s)).toEqual(expected);
  });
});

describe('parseTimestampUs', () => {
  it.each([
    ['2024-05-01T12:00:00Z', 1_714_564_800_000_000],
    ['2024-05-01T12:00:00.123456Z', 1_714_564_800_123_456],
    ['2024-05-01T12:00:00.1234567z', 1_714_564_800_123_456],
    ['2024-05-01T14:00:00+02:00', 1_714_564_800_000_000],
    ['2024-05-01T14:00:00+0200', 1_714_564_800_000_000],
    ['2024-05-01 12:00:00.5Z', 1_714_564_800_500_000],
    [1_714_564_800_000.5, 1_714_564_800_000_500],
    ['2024-05-01T06:30:00-05:30', 1_714_564_800_000_000],
    ['2024-02-29T00:00:00Z', 1_709_164_800_000_000],
    ['2024-05-01t12:00:00.000001z', 1_714_564_800_000_001],
  ])('reads %s as %i µs', (input, expected) => {
    expect(parseTimestampUs(input)).toBe(expected);
  });

  it.each([[-1], [Number.NaN], [9e15], ['2024-13-45T00:00:00Z'], ['2023-02-29T00:00:00Z'], ['2024-05-01T24:00:00Z'], ['2024-05-01T12:00:00+25:00'], ['2024-05-01T12:00:00.Z'], ['2024-05-01T12:00:00Zx'], ['2024-05-01X12:00:00Z'], ['2024-05-01T12:00:00+02:0'], ['2024/05/01T12:00:00Z'], ['2024-05-01T12:00:00'], ['yesterday']])('refuses %s', (input) => {
    expect(typeof parseTimestampUs(input)).toBe('string');
  });
});
