import { describe, expect, it } from 'vitest';
import { parseTagTemplate, DEFAULT_SPARKPLUG_TAG_TEMPLATE, type TagPart } from '../tag.ts';
import { SparkplugHost, type HostResult, type HostRoute } from './host.ts';
import { DataType, encodePayload, Payload, type ProtoPayload, type UPayload } from './proto.ts';
import { parseSparkplugTopic, type SparkplugTopic } from './topic.ts';

const BAD_NO_COMMUNICATION = 0x80310000;
const tagParts = parseTagTemplate(DEFAULT_SPARKPLUG_TAG_TEMPLATE, 'sparkplug') as TagPart[];
const quiet: HostRoute = { tagParts, rebirth: false, rebirthMinIntervalMs: 5000 };
const rebirthing: HostRoute = { ...quiet, rebirth: true };

/** Plays one message into the host, as the driver would after decoding it. */
function play(host: SparkplugHost, topic: string, payload: Uint8Array, route = quiet, receivedUs = 9_000_000): HostResult {
  const t = parseSparkplugTopic(topic) as SparkplugTopic;
  return host.handle(t, Payload.decode(payload), route, { source: 'src', topic, qos: 0, retain: false, receivedUs });
}
/** Tahu's encoder: every metric carries its datatype, as a BIRTH must. */
const tahu = (p: UPayload) => encodePayload(p);
/** Raw protobuf, for DATA metrics that carry only an alias and a value, as Sparkplug 3.0 recommends. */
const raw = (p: ProtoPayload) => Payload.encode(Payload.create(p)).finish();
const values = (r: HostResult) => r.readings.map((x) => [x.tag, x.value]);

function nbirth(host: SparkplugHost, route = quiet) {
  return play(
    host,
    'spBv1.0/G/NBIRTH/E',
    tahu({
      timestamp: 1000,
      seq: 0,
      metrics: [
        { name: 'bdSeq', type: 'Int64', value: 7 },
        { name: 'Temp', alias: 1, type: 'Double', value: 20.5, properties: { engUnit: { type: 'String', value: 'degC' }, engLow: { type: 'Double', value: -50 }, engHigh: { type: 'Double', value: 150 } } },
        { name: 'Count', alias: 2, type: 'Int32', value: -3 },
        { name: 'Node Control/Rebirth', type: 'Boolean', value: false },
      ],
    }),
    route,
  );
}

describe('SparkplugHost births', () => {
  it('reads an NBIRTH: every metric but bdSeq, with its datatype, unit and range declared', () => {
    const host = new SparkplugHost();
    const r = nbirth(host);
    expect(r.failures).toEqual([]);
    expect(values(r)).toEqual([
      ['G/E/Temp', 20.5],
      ['G/E/Count', -3],
      ['G/E/Node Control/Rebirth', false],
    ]);
    expect(r.readings[0]).toMatchObject({ source: 'src', quality: 0, sourceTimeUs: 1_000_000, gatewayTimeUs: 9_000_000 });
    expect(r.tagsChanged).toBe(true);
    expect(host.tags()).toEqual([
      { tag: 'G/E/Temp', dataType: 'Double', unit: 'degC', euRange: { low: -50, high: 150 } },
      { tag: 'G/E/Count', dataType: 'Int32' },
      { tag: 'G/E/Node Control/Rebirth', dataType: 'Boolean' },
    ]);
    expect(nbirth(host).tagsChanged).toBe(false);
  });

  it('decodes every scalar datatype exactly', () => {
    const host = new SparkplugHost();
    const r = play(
      host,
      'spBv1.0/G/NBIRTH/E',
      tahu({
        seq: 0,
        metrics: [
          { name: 'i8', type: 'Int8', value: -1 },
          { name: 'i16', type: 'Int16', value: -300 },
          { name: 'u8', type: 'UInt8', value: 255 },
          { name: 'u16', type: 'UInt16', value: 65535 },
          { name: 'u32', type: 'UInt32', value: 3_000_000_000 },
          { name: 'i64', type: 'Int64', value: -5 },
          { name: 'f', type: 'Float', value: 0.1 },
          { name: 'd', type: 'Double', value: 0.1 },
          { name: 's', type: 'String', value: 'RUN' },
          { name: 'dt', type: 'DateTime', value: 1_714_564_800_000 },
          { name: 'b', type: 'Bytes', value: new Uint8Array([1, 2, 255]) },
          { name: 'n', type: 'Double', value: null },
        ],
      }),
    );
    expect(r.failures).toEqual([]);
    expect(values(r)).toEqual([
      ['G/E/i8', -1],
      ['G/E/i16', -300],
      ['G/E/u8', 255],
      ['G/E/u16', 65535],
      ['G/E/u32', 3_000_000_000],
      ['G/E/i64', -5],
      ['G/E/f', 0.1],
      ['G/E/d', 0.1],
      ['G/E/s', 'RUN'],
      ['G/E/dt', '2024-05-01T12:00:00.000Z'],
      ['G/E/b', 'AQL/'],
      ['G/E/n', null],
    ]);
  });

  it('keeps 64-bit integers past 2^53 exact, as text', () => {
    const host = new SparkplugHost();
    const r = play(
      host,
      'spBv1.0/G/NBIRTH/E',
      raw({
        seq: 0,
        metrics: [
          { name: 'u64', datatype: DataType.UInt64, longValue: { low: -1, high: -1, unsigned: true } as never },
          { name: 'i64', datatype: DataType.Int64, longValue: { low: 0, high: -2147483648, unsigned: true } as never },
        ],
      }),
    );
    expect(values(r)).toEqual([
      ['G/E/u64', '18446744073709551615'],
      ['G/E/i64', '-9223372036854775808'],
    ]);
  });

  it('flattens a template instance into its members and skips template definitions', () => {
    const host = new SparkplugHost();
    const motor = { metrics: [{ name: 'Speed', type: 'Float', value: 1450 }, { name: 'Amps', type: 'Double', value: 12.5 }] };
    const r = play(
      host,
      'spBv1.0/G/NBIRTH/E',
      tahu({
        seq: 0,
        metrics: [
          { name: 'MotorType', type: 'Template', value: { isDefinition: true, metrics: [{ name: 'Speed', type: 'Float', value: 0 }] } },
          { name: 'Motor1', alias: 10, type: 'Template', value: { isDefinition: false, templateRef: 'MotorType', ...motor } },
        ],
      } as UPayload),
    );
    expect(r.failures).toEqual([]);
    expect(values(r)).toEqual([
      ['G/E/Motor1/Speed', 1450],
      ['G/E/Motor1/Amps', 12.5],
    ]);
    expect(host.tags().map((t) => [t.tag, t.dataType])).toEqual([
      ['G/E/Motor1/Speed', 'Float'],
      ['G/E/Motor1/Amps', 'Double'],
    ]);
  });

  it('decodes Sparkplug 3.0 arrays and data sets as JSON text', () => {
    const host = new SparkplugHost();
    const int16s = Buffer.alloc(6);
    [-1, 2, 300].forEach((v, i) => int16s.writeInt16LE(v, i * 2));
    const r = play(
      host,
      'spBv1.0/G/NBIRTH/E',
      raw({
        seq: 0,
        metrics: [
          { name: 'a', datatype: DataType.Int16Array, bytesValue: int16s },
          { name: 's', datatype: DataType.StringArray, bytesValue: Buffer.from('ab\u0000cd\u0000') },
          { name: 'odd', datatype: DataType.Int32Array, bytesValue: Buffer.from([1, 2, 3]) },
          { name: 'bits', datatype: DataType.BooleanArray, bytesValue: Buffer.from([1, 0, 0, 0, 0x80]) },
          {
            name: 'ds',
            datatype: DataType.DataSet,
            datasetValue: { numOfColumns: 2 as never, columns: ['n', 'v'], types: [DataType.String, DataType.Int32], rows: [{ elements: [{ stringValue: 'x' }, { intValue: 4294967295 }] }] },
          },
        ],
      }),
    );
    expect(values(r)).toEqual([
      ['G/E/a', '[-1,2,300]'],
      ['G/E/s', '["ab","cd"]'],
      ['G/E/ds', '{"columns":["n","v"],"types":["String","Int32"],"rows":[["x",-1]]}'],
    ]);
    expect(r.failures).toEqual([
      { kind: 'invalid_value', reason: "metric 'odd': Int32Array of 3 bytes is not a whole number of 4-byte elements" },
      { kind: 'invalid_birth', reason: "metric 'bits': datatype BooleanArray is not supported" },
    ]);
    expect(host.tags().find((t) => t.tag === 'G/E/a')).toEqual({ tag: 'G/E/a', dataType: 'Int16', isArray: true });
  });

  it('refuses BIRTH metrics without a name or a datatype, and keeps the others', () => {
    const host = new SparkplugHost();
    const r = play(host, 'spBv1.0/G/NBIRTH/E', raw({ seq: 0, metrics: [{ alias: 3, intValue: 1 }, { name: 'x', intValue: 1 }, { name: 'ok', datatype: DataType.Int32, intValue: 1 }] }));
    expect(r.failures).toEqual([
      { kind: 'invalid_birth', reason: 'metric #0 of the BIRTH has no name' },
      { kind: 'invalid_birth', reason: "metric 'x' of the BIRTH has no datatype" },
    ]);
    expect(values(r)).toEqual([['G/E/ok', 1]]);
  });
});

describe('SparkplugHost data', () => {
  it('reads NDATA by alias with the datatype the NBIRTH declared, and the metric timestamp', () => {
    const host = new SparkplugHost();
    nbirth(host);
    const r = play(host, 'spBv1.0/G/NDATA/E', raw({ timestamp: 2000, seq: 1, metrics: [{ alias: 1, doubleValue: 21.25, timestamp: 1500 }, { alias: 2, intValue: 4294967295 }] }));
    expect(r.failures).toEqual([]);
    expect(r.readings.map((x) => [x.tag, x.value, x.sourceTimeUs])).toEqual([
      ['G/E/Temp', 21.25, 1_500_000],
      ['G/E/Count', -1, 2_000_000],
    ]);
    expect(r.seqGap).toBeUndefined();
  });

  it('reads DBIRTH and DDATA per device, where aliases belong to their device', () => {
    const host = new SparkplugHost();
    nbirth(host);
    const birth = play(host, 'spBv1.0/G/DBIRTH/E/D1', tahu({ seq: 1, metrics: [{ name: 'Pressure', alias: 100, type: 'Float', value: 1.5 }] }));
    expect(values(birth)).toEqual([['G/E/D1/Pressure', 1.5]]);
    const data = play(host, 'spBv1.0/G/DDATA/E/D1', raw({ seq: 2, metrics: [{ alias: 100, floatValue: 2.5 }] }));
    expect(values(data)).toEqual([['G/E/D1/Pressure', 2.5]]);
    // Alias 1 is a node metric: a device cannot use it.
    const wrong = play(host, 'spBv1.0/G/DDATA/E/D1', raw({ seq: 3, metrics: [{ alias: 1, doubleValue: 1 }] }));
    expect(wrong.failures).toEqual([{ kind: 'unknown_alias', reason: 'alias 1 is not declared in the DBIRTH of device G/E/D1' }]);
  });

  it('rejects an alias no BIRTH declared, reads the rest, and asks for a rebirth when configured', () => {
    const host = new SparkplugHost();
    nbirth(host, rebirthing);
    const r = play(host, 'spBv1.0/G/NDATA/E', raw({ seq: 1, metrics: [{ alias: 99, intValue: 1 }, { alias: 2, intValue: 5 }] }), rebirthing);
    expect(r.failures).toEqual([{ kind: 'unknown_alias', reason: 'alias 99 is not declared in the NBIRTH of edge node G/E' }]);
    expect(values(r)).toEqual([['G/E/Count', 5]]);
    expect(r.rebirth?.topic).toBe('spBv1.0/G/NCMD/E');
    const command = Payload.decode(r.rebirth?.payload as Uint8Array);
    expect(command.metrics.map((m) => [m.name, m.datatype, m.booleanValue])).toEqual([['Node Control/Rebirth', DataType.Boolean, true]]);
  });

  it('rejects DATA before any BIRTH, and rate-limits rebirth requests per edge node', () => {
    const host = new SparkplugHost();
    const data = raw({ seq: 5, metrics: [{ alias: 1, intValue: 1 }] });
    const first = play(host, 'spBv1.0/G/NDATA/E', data, rebirthing, 1_000_000);
    expect(first.failures).toEqual([{ kind: 'no_birth', reason: 'NDATA from edge node G/E before its NBIRTH' }]);
    expect(first.rebirth).toBeDefined();
    expect(play(host, 'spBv1.0/G/NDATA/E', data, rebirthing, 5_999_999).rebirth).toBeUndefined();
    expect(play(host, 'spBv1.0/G/NDATA/E', data, rebirthing, 6_000_000).rebirth).toBeDefined();
    expect(play(host, 'spBv1.0/G/NDATA/E2', data, rebirthing, 6_000_000).rebirth?.topic).toBe('spBv1.0/G/NCMD/E2');
    expect(play(host, 'spBv1.0/G/NDATA/E3', data, quiet).rebirth).toBeUndefined();
    expect(host.stats().rebirthRequests).toBe(3);
  });

  it('rejects DDATA from a device without DBIRTH', () => {
    const host = new SparkplugHost();
    nbirth(host);
    const r = play(host, 'spBv1.0/G/DDATA/E/D9', raw({ seq: 1, metrics: [{ alias: 1, intValue: 1 }] }));
    expect(r.failures).toEqual([{ kind: 'no_birth', reason: 'DDATA from device G/E/D9 before its DBIRTH' }]);
  });

  it('rejects a value of the wrong type and keeps the other metrics', () => {
    const host = new SparkplugHost();
    nbirth(host);
    const r = play(host, 'spBv1.0/G/NDATA/E', raw({ seq: 1, metrics: [{ alias: 1, stringValue: 'hot' }, { name: 'Count', intValue: 9 }] }));
    expect(r.failures).toEqual([{ kind: 'type_mismatch', reason: "metric 'Temp': declared Double but the metric carries stringValue" }]);
    expect(values(r)).toEqual([['G/E/Count', 9]]);
  });

  it('accepts a named metric the BIRTH lacked when it carries a datatype, and declares it', () => {
    const host = new SparkplugHost();
    nbirth(host);
    const r = play(host, 'spBv1.0/G/NDATA/E', raw({ seq: 1, metrics: [{ name: 'New', datatype: DataType.Boolean, booleanValue: true }, { name: 'Other', intValue: 1 }] }));
    expect(values(r)).toEqual([['G/E/New', true]]);
    expect(r.tagsChanged).toBe(true);
    expect(r.failures).toEqual([{ kind: 'unknown_metric', reason: "metric 'Other' is not in the NBIRTH of edge node G/E and carries no usable datatype" }]);
  });
});

describe('SparkplugHost sequence numbers', () => {
  it('counts a gap, wraps from 255 to 0 without one, and asks for a rebirth on a gap when configured', () => {
    const host = new SparkplugHost();
    play(host, 'spBv1.0/G/NBIRTH/E', tahu({ seq: 254, metrics: [{ name: 'x', alias: 1, type: 'Int32', value: 0 }] }), rebirthing);
    expect(play(host, 'spBv1.0/G/NDATA/E', raw({ seq: 255, metrics: [] }), rebirthing).seqGap).toBeUndefined();
    expect(play(host, 'spBv1.0/G/NDATA/E', raw({ seq: 0, metrics: [] }), rebirthing).seqGap).toBeUndefined();
    const gap = play(host, 'spBv1.0/G/NDATA/E', raw({ seq: 3, metrics: [{ alias: 1, intValue: 4 }] }), rebirthing);
    expect(gap.seqGap).toEqual({ edgeNode: 'G/E', expected: 1, got: 3 });
    expect(values(gap)).toEqual([['G/E/x', 4]]);
    expect(gap.rebirth).toBeDefined();
    expect(play(host, 'spBv1.0/G/NDATA/E', raw({ seq: 4, metrics: [] }), rebirthing).seqGap).toBeUndefined();
    expect(host.stats()).toMatchObject({ edgeNodes: 1, online: 1, seqGaps: 1 });
  });

  it('counts DBIRTH and DDATA in the edge node sequence', () => {
    const host = new SparkplugHost();
    nbirth(host);
    expect(play(host, 'spBv1.0/G/DBIRTH/E/D', tahu({ seq: 1, metrics: [] })).seqGap).toBeUndefined();
    expect(play(host, 'spBv1.0/G/DDATA/E/D', raw({ seq: 2, metrics: [] })).seqGap).toBeUndefined();
    expect(play(host, 'spBv1.0/G/NDATA/E', raw({ seq: 2, metrics: [] })).seqGap).toEqual({ edgeNode: 'G/E', expected: 3, got: 2 });
  });
});

describe('SparkplugHost deaths', () => {
  it('marks every metric of the node and its devices Bad on NDEATH, dated on arrival', () => {
    const host = new SparkplugHost();
    nbirth(host);
    play(host, 'spBv1.0/G/DBIRTH/E/D1', tahu({ seq: 1, metrics: [{ name: 'Pressure', alias: 100, type: 'Float', value: 1.5 }] }));
    const r = play(host, 'spBv1.0/G/NDEATH/E', tahu({ timestamp: 1, metrics: [{ name: 'bdSeq', type: 'Int64', value: 7 }] }), quiet, 8_000_000);
    expect(r.readings.map((x) => [x.tag, x.value, x.quality, x.sourceTimeUs])).toEqual([
      ['G/E/Temp', null, BAD_NO_COMMUNICATION, 8_000_000],
      ['G/E/Count', null, BAD_NO_COMMUNICATION, 8_000_000],
      ['G/E/Node Control/Rebirth', null, BAD_NO_COMMUNICATION, 8_000_000],
      ['G/E/D1/Pressure', null, BAD_NO_COMMUNICATION, 8_000_000],
    ]);
    expect(host.stats()).toMatchObject({ edgeNodes: 1, online: 0 });
    expect(play(host, 'spBv1.0/G/NDATA/E', raw({ seq: 2, metrics: [{ alias: 1, doubleValue: 1 }] })).failures).toMatchObject([{ kind: 'no_birth' }]);
  });

  it('ignores an NDEATH whose bdSeq belongs to an older session', () => {
    const host = new SparkplugHost();
    nbirth(host);
    const r = play(host, 'spBv1.0/G/NDEATH/E', tahu({ metrics: [{ name: 'bdSeq', type: 'Int64', value: 6 }] }));
    expect(r.readings).toEqual([]);
    expect(host.stats()).toMatchObject({ online: 1, staleDeaths: 1 });
  });

  it('marks only the device metrics Bad on DDEATH, with its timestamp', () => {
    const host = new SparkplugHost();
    nbirth(host);
    play(host, 'spBv1.0/G/DBIRTH/E/D1', tahu({ seq: 1, metrics: [{ name: 'Pressure', alias: 100, type: 'Float', value: 1.5 }] }));
    const r = play(host, 'spBv1.0/G/DDEATH/E/D1', raw({ seq: 2, timestamp: 3000 }));
    expect(r.readings.map((x) => [x.tag, x.value, x.quality, x.sourceTimeUs])).toEqual([['G/E/D1/Pressure', null, BAD_NO_COMMUNICATION, 3_000_000]]);
    expect(play(host, 'spBv1.0/G/DDATA/E/D1', raw({ seq: 3, metrics: [{ alias: 100, floatValue: 1 }] })).failures).toMatchObject([{ kind: 'no_birth' }]);
    expect(values(play(host, 'spBv1.0/G/NDATA/E', raw({ seq: 4, metrics: [{ alias: 2, intValue: 1 }] })))).toEqual([['G/E/Count', 1]]);
  });
});
