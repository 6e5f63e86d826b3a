import { describe, expect, it } from 'vitest';
import { decodeRequest, encodeRequest } from '../../common/zerobus/wire.ts';
import { encodeBatch, framedBytes, ingestRequestBytes, recordBytes, varintBytes } from './encode.ts';

const bytesOf = (n: number, seed: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff));
const OFFSETS = [0, 1, 127, 128, 300, 16_383, 16_384, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 40 + 5, Number.MAX_SAFE_INTEGER];

describe('ingestRequestBytes', () => {
  it.each(OFFSETS)('writes protobuf records at offset %d exactly as protobufjs encodes the request', (offset) => {
    const records = [bytesOf(0, 1), bytesOf(1, 2), bytesOf(127, 3), bytesOf(128, 4), bytesOf(20_000, 5)];
    const batch = encodeBatch(
      records.map((r) => r.toString('base64')),
      'proto',
    );
    const expected = encodeRequest({ ingest_record_batch: { offset_id: offset, proto_encoded_batch: { records } } });
    expect(ingestRequestBytes(offset, batch).equals(expected)).toBe(true);
  });

  it('writes JSON records, UTF-8 included, exactly as protobufjs encodes the request', () => {
    const records = ['{"a":1}', JSON.stringify({ tag: 'Ofen/Temperatur °C', v: 'ü'.repeat(200) }), '', '{"emoji":"\u{1F600}"}'];
    const expected = encodeRequest({ ingest_record_batch: { offset_id: 42, json_batch: { records } } });
    expect(ingestRequestBytes(42, encodeBatch(records, 'json')).equals(expected)).toBe(true);
  });

  it('carries a batch with no records', () => {
    const request = decodeRequest(ingestRequestBytes(3, encodeBatch([], 'proto')));
    expect(request.ingest_record_batch?.offset_id).toBe(3);
  });
});

describe('encodeBatch', () => {
  it('encodes a range of the records', () => {
    const texts = [bytesOf(5, 1), bytesOf(6, 2), bytesOf(7, 3), bytesOf(8, 4)].map((b) => b.toString('base64'));
    const batch = encodeBatch(texts, 'proto', 1, 3);
    expect(batch.records).toBe(2);
    const decoded = decodeRequest(ingestRequestBytes(0, batch)).ingest_record_batch?.proto_encoded_batch?.records;
    expect(decoded).toEqual([bytesOf(6, 2), bytesOf(7, 3)]);
  });

  it.each([
    ['characters outside the alphabet', 'AQID!!BA=='],
    ['whitespace inside', 'AQID\nBAUG'],
    ['URL-safe characters', '-_-_'],
  ])('decodes malformed base64 (%s) as Buffer.from does', (_, text) => {
    const batch = encodeBatch(['AQID', text, 'BAUG'], 'proto');
    const decoded = decodeRequest(ingestRequestBytes(0, batch)).ingest_record_batch?.proto_encoded_batch?.records;
    expect(decoded).toEqual([Buffer.from('AQID', 'base64'), Buffer.from(text, 'base64'), Buffer.from('BAUG', 'base64')]);
  });
});

describe('sizes', () => {
  it.each([
    [0, 1],
    [127, 1],
    [128, 2],
    [16_383, 2],
    [16_384, 3],
    [2 ** 32, 5],
    [Number.MAX_SAFE_INTEGER, 8],
  ])('varint of %d takes %d bytes', (value, bytes) => {
    expect(varintBytes(value)).toBe(bytes);
  });

  it('counts a record as its tag, its length and its decoded bytes', () => {
    expect(recordBytes(bytesOf(200, 9).toString('base64'), 'proto')).toBe(200);
    expect(recordBytes('{"a":"é"}', 'json')).toBe(10);
    expect(framedBytes(200)).toBe(1 + 2 + 200);
  });
});
