import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import type { Reading } from '../../common/reading.ts';
import { encodeReading } from '../../common/records/encode.ts';
import { descriptorBytes } from '../../common/records/schemas.ts';
import { RECORD_TYPE, type StreamRequest } from '../../common/zerobus/wire.ts';
import { Refusal, decodeIngest, recordFormat, type RecordFormat } from './decode.ts';

const MQTT = 'iot.bronze.MqttReading';

const reading: Reading = {
  source: 'press-1',
  tag: 'line1/pressure',
  value: 0,
  quality: 0,
  sourceTimeUs: 1_763_856_000_123_456,
  gatewayTimeUs: 1_763_856_000_223_456,
  gatewayId: 'gw-a',
  runId: 'run-7',
  seq: 9_007_199_254_740,
  details: { protocol: 'mqtt', topic: 'plant/line1/pressure', qos: 1, retain: false },
};
const protoBytes = (r: Reading) => Buffer.from(encodeReading(r, 'proto').data, 'base64');
const proto = (): RecordFormat => recordFormat({ table_name: 'a.b.c', record_type: RECORD_TYPE.PROTO, descriptor_proto: descriptorBytes(MQTT) });
const json: RecordFormat = { kind: 'json' };

function refusal(run: () => unknown): Refusal {
  try {
    run();
  } catch (err) {
    if (err instanceof Refusal) return err;
    throw err;
  }
  throw new Error('expected a Refusal');
}

describe('recordFormat', () => {
  it('builds the record type from descriptor_proto for PROTO and for an unset record_type', () => {
    expect(proto()).toMatchObject({ kind: 'proto', type: { name: 'MqttReading' } });
    expect(recordFormat({ table_name: 'a.b.c', descriptor_proto: descriptorBytes(MQTT) } as never)).toMatchObject({ kind: 'proto' });
  });

  it('reads JSON=2 as JSON records', () => {
    expect(recordFormat({ table_name: 'a.b.c', record_type: RECORD_TYPE.JSON })).toEqual({ kind: 'json' });
  });

  it.each([
    ['no descriptor for PROTO', { record_type: RECORD_TYPE.PROTO }, 'create_stream without descriptor_proto for PROTO records'],
    ['a descriptor that does not parse', { record_type: RECORD_TYPE.PROTO, descriptor_proto: Buffer.from([0xff, 0x01, 0x02]) }, 'descriptor_proto is not a valid DescriptorProto: invalid wire type 7 at offset 2'],
    ['AVRO', { record_type: RECORD_TYPE.AVRO }, 'record_type 4 is not supported by the emulator (PROTO=1 or JSON=2)'],
    ['RECORD_TYPE_UNSPECIFIED sent explicitly', { record_type: 0 }, 'record_type 0 is not supported by the emulator (PROTO=1 or JSON=2)'],
  ])('refuses %s as INVALID_ARGUMENT', (_case, create, message) => {
    expect(refusal(() => recordFormat({ table_name: 'a.b.c', ...create }))).toMatchObject({ code: status.INVALID_ARGUMENT, message });
  });
});

describe('decodeIngest', () => {
  it('decodes a bronze record to a row with the proto column names, int64 as numbers and zeros kept', () => {
    const { offset, lines } = decodeIngest({ ingest_record_batch: { offset_id: 3, proto_encoded_batch: { records: [protoBytes(reading)] } } }, 3, proto());
    expect(offset).toBe(3);
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      {
        event_time: 1_763_856_000_123_456,
        ingest_time: 1_763_856_000_223_456,
        source_name: 'press-1',
        gateway_id: 'gw-a',
        run_id: 'run-7',
        seq: 9_007_199_254_740,
        tag: 'line1/pressure',
        quality: 0,
        topic: 'plant/line1/pressure',
        qos: 1,
        retain: false,
        value_number: 0,
        value_string: '0',
        value_type: 'number',
      },
    ]);
  });

  it('decodes every record of a batch in order, and a single ingest_record', () => {
    const records = [1, 2, 3].map((seq) => protoBytes({ ...reading, seq }));
    const batch = decodeIngest({ ingest_record_batch: { offset_id: 0, proto_encoded_batch: { records } } }, 0, proto());
    expect(batch.lines.map((l) => JSON.parse(l).seq)).toEqual([1, 2, 3]);
    const single = decodeIngest({ ingest_record: { offset_id: 5, proto_encoded_record: protoBytes(reading) } }, 5, proto());
    expect(single.lines).toHaveLength(1);
  });

  it('reads JSON objects as rows, in a batch or one at a time', () => {
    const batch = decodeIngest({ ingest_record_batch: { offset_id: 0, json_batch: { records: ['{"a":1}', '{ "b" : "x" }'] } } }, 0, json);
    expect(batch.lines).toEqual(['{"a":1}', '{"b":"x"}']);
    expect(decodeIngest({ ingest_record: { offset_id: 1, json_record: '{"c":true}' } }, 1, json).lines).toEqual(['{"c":true}']);
  });

  const good = protoBytes(reading);
  it.each<[string, StreamRequest, number, RecordFormat | 'proto', string]>([
    ['an offset ahead of the expected one', { ingest_record_batch: { offset_id: 2, proto_encoded_batch: { records: [good] } } }, 1, 'proto', 'offset_id: expected 1, got 2'],
    ['an offset already used', { ingest_record: { offset_id: 0, proto_encoded_record: good } }, 1, 'proto', 'offset_id: expected 1, got 0'],
    ['a create_stream after the first message', { create_stream: { table_name: 'a.b.c', record_type: 1 } }, 0, 'proto', 'expected ingest_record or ingest_record_batch after create_stream'],
    ['an empty PROTO batch', { ingest_record_batch: { offset_id: 0, proto_encoded_batch: { records: [] } } }, 0, 'proto', 'offset 0: no protobuf records in a PROTO stream'],
    ['JSON records on a PROTO stream', { ingest_record_batch: { offset_id: 0, json_batch: { records: ['{}'] } } }, 0, 'proto', 'offset 0: no protobuf records in a PROTO stream'],
    ['an undecodable record, by index', { ingest_record_batch: { offset_id: 4, proto_encoded_batch: { records: [good, good, Buffer.from([0xff, 0xff, 0xff])] } } }, 4, 'proto', 'offset 4 record 2: cannot decode as MqttReading: index out of range: 3 + 1 > 3'],
    ['a truncated record', { ingest_record: { offset_id: 0, proto_encoded_record: good.subarray(0, good.length - 3) } }, 0, 'proto', 'offset 0 record 0: cannot decode as MqttReading'],
    ['JSON that does not parse', { ingest_record_batch: { offset_id: 0, json_batch: { records: ['{}', '{"a":'] } } }, 0, json, 'offset 0 record 1: not valid JSON'],
    ['a JSON array', { ingest_record: { offset_id: 0, json_record: '[1,2]' } }, 0, json, 'offset 0 record 0: expected a JSON object'],
    ['a JSON string', { ingest_record: { offset_id: 0, json_record: '"x"' } }, 0, json, 'offset 0 record 0: expected a JSON object'],
    ['JSON null', { ingest_record: { offset_id: 0, json_record: 'null' } }, 0, json, 'offset 0 record 0: expected a JSON object'],
    ['protobuf records on a JSON stream', { ingest_record: { offset_id: 0, proto_encoded_record: good } }, 0, json, 'offset 0: no JSON records in a JSON stream'],
  ])('refuses %s as INVALID_ARGUMENT', (_case, request, expected, format, message) => {
    const err = refusal(() => decodeIngest(request, expected, format === 'proto' ? proto() : format));
    expect(err.code).toBe(status.INVALID_ARGUMENT);
    expect(err.message).toContain(message);
  });
});
