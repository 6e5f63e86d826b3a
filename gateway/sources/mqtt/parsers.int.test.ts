import { connectAsync, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type Broker } from '../../../test/helpers/mosquitto.ts';
import { until } from '../../../test/helpers/wait.ts';
import { recordingContext } from '../../test-support/context.ts';
import { mqttConfigSchema } from './config.ts';
import { MqttSource } from './driver.ts';
import { DataType, encodePayload, Payload, type ProtoPayload } from './sparkplug/proto.ts';

const BAD_NO_COMMUNICATION = 0x80310000;

let broker: Broker;
let publisher: MqttClient;

beforeAll(async () => {
  broker = await startBroker();
  publisher = await connectAsync(broker.url, { clientId: `pub-parsers-${process.pid}` });
});
afterAll(async () => {
  await publisher?.endAsync();
  await broker?.stop();
});

async function started(subscriptions: unknown[], name = 'src') {
  const source = new MqttSource(name, mqttConfigSchema.parse({ url: broker.url, reconnect_period_ms: 100, subscriptions }));
  const ctx = recordingContext();
  await source.start(ctx);
  await until('subscribed', () => source.status().state === 'connected');
  return { source, ctx };
}

/** QoS 1 and awaited one by one, so the source sees them in this order. */
async function publish(topic: string, payload: string | Uint8Array, retain = false): Promise<void> {
  await publisher.publishAsync(topic, typeof payload === 'string' ? payload : Buffer.from(payload), { qos: 1, retain });
}

describe('json payloads against Mosquitto', () => {
  it('reads one reading per field, with timestamps and qualities, through + and # wildcards', async () => {
    const { source, ctx } = await started([
      {
        topic: 'j/+/+/data',
        timestamp_path: 'ts',
        quality_path: 'q',
        quality_numbers: 'opcda',
        fields: [{ value_path: 'temp', tag: '{1}/{2}/temperature' }, { value_path: 'speed', tag: '{1}/{2}/speed' }],
      },
      { topic: 'j/#', value_path: 'v' },
      { topic: 'j/site1/fixed', value_path: 'reading.value', quality_path: 'reading.status', tag: 'site1/fixed' },
    ]);
    expect(ctx.tags).toEqual([{ tag: 'site1/fixed' }]);

    await publish('j/site1/press4/data', JSON.stringify({ ts: '2024-05-01T12:00:00Z', q: 192, temp: 61.5, speed: 1450 }));
    await publish('j/site1/press4/data', JSON.stringify({ ts: 1714564801000, q: 24, temp: 61.7, speed: 0 }));
    await publish('j/any/deeper/level/x', '{"v": "on"}');
    await publish('j/site1/fixed', '{"reading": {"value": 3, "status": "Bad_SensorFailure"}}');
    await until('six readings', () => ctx.readings.length === 6);

    expect(ctx.readings.map((r) => [r.tag, r.value, r.quality, r.sourceTimeUs])).toEqual([
      ['site1/press4/temperature', 61.5, 0, 1_714_564_800_000_000],
      ['site1/press4/speed', 1450, 0, 1_714_564_800_000_000],
      ['site1/press4/temperature', 61.7, BAD_NO_COMMUNICATION, 1_714_564_801_000_000],
      ['site1/press4/speed', 0, BAD_NO_COMMUNICATION, 1_714_564_801_000_000],
      ['j/any/deeper/level/x', 'on', 0, ctx.readings[4]?.gatewayTimeUs],
      ['site1/fixed', 3, 0x808c0000, ctx.readings[5]?.gatewayTimeUs],
    ]);
    expect(ctx.rejections).toEqual([]);
    await source.stop();
  });
});

describe('plain payloads against Mosquitto', () => {
  it('reads numbers, strings and booleans, and rejects what does not parse', async () => {
    const { source, ctx } = await started([
      { topic: 'p/+/count', format: 'plain', tag: '{1}/count' },
      { topic: 'p/+/state', format: 'plain', plain_type: 'string', tag: '{1}/state' },
      { topic: 'p/+/run', format: 'plain', plain_type: 'boolean', tag: '{1}/run' },
    ]);
    await publish('p/m1/count', '1234');
    await publish('p/m1/state', 'RUNNING');
    await publish('p/m1/run', 'true');
    await publish('p/m1/count', 'n/a');
    await publish('p/m1/run', '0');
    await until('four readings and one rejection', () => ctx.readings.length === 4 && ctx.rejections.length === 1);
    expect(ctx.readings.map((r) => [r.tag, r.value])).toEqual([
      ['m1/count', 1234],
      ['m1/state', 'RUNNING'],
      ['m1/run', true],
      ['m1/run', false],
    ]);
    expect(ctx.rejections).toEqual([{ origin: 'p/m1/count', kind: 'invalid_number', reason: "'n/a' is not a decimal number", payload: 'n/a' }]);
    expect(source.rejectedByTopic()).toEqual({ 'p/m1/count': 1 });
    await source.stop();
  });
});

describe('Sparkplug B against Mosquitto', () => {
  const raw = (p: ProtoPayload) => Payload.encode(Payload.create(p)).finish();

  it('learns BIRTHs, reads DATA by alias, asks for a rebirth, counts a gap and marks metrics Bad on NDEATH', async () => {
    const { source, ctx } = await started([{ topic: 'spBv1.0/plant1/#', format: 'sparkplug_b', rebirth: true, rebirth_min_interval_ms: 60_000 }]);
    const commands: ProtoPayload[] = [];
    const watcher = await connectAsync(broker.url, { clientId: `ncmd-watch-${process.pid}` });
    await watcher.subscribeAsync('spBv1.0/plant1/NCMD/#', { qos: 1 });
    watcher.on('message', (_topic, payload) => commands.push(Payload.decode(payload)));
    // The edge node registers its NDEATH as its will, as Sparkplug requires.
    const edge = await connectAsync(broker.url, {
      clientId: `edge1-${process.pid}`,
      will: { topic: 'spBv1.0/plant1/NDEATH/edge1', payload: Buffer.from(encodePayload({ timestamp: 1, metrics: [{ name: 'bdSeq', type: 'Int64', value: 0 }] })), qos: 1, retain: false },
    });

    try {
      // DATA before any BIRTH: rejected, and a Rebirth request goes out.
      await publish('spBv1.0/plant1/NDATA/edge1', raw({ seq: 9, metrics: [{ alias: 1, doubleValue: 1 }] }));
      await until('the rebirth request', () => commands.length === 1);
      expect((commands[0]?.metrics ?? []).map((m) => [m.name, m.booleanValue])).toEqual([['Node Control/Rebirth', true]]);
      expect(ctx.rejections).toEqual([
        { origin: 'spBv1.0/plant1/NDATA/edge1', kind: 'no_birth', reason: 'NDATA from edge node plant1/edge1 before its NBIRTH', payload: expect.any(String) },
      ]);
      const kept = Buffer.from(ctx.rejections[0]?.payload ?? '', 'base64');
      expect(String(Payload.decode(kept).seq)).toBe('9');

      const birth = {
        timestamp: 1_714_564_800_000,
        seq: 0,
        metrics: [
          { name: 'bdSeq', type: 'Int64' as const, value: 0 },
          { name: 'Temp', alias: 1, type: 'Double' as const, value: 20, properties: { engUnit: { type: 'String' as const, value: 'degC' } } },
          { name: 'Status', alias: 2, type: 'String' as const, value: 'IDLE' },
        ],
      };
      await edge.publishAsync('spBv1.0/plant1/NBIRTH/edge1', Buffer.from(encodePayload(birth)), { qos: 1 });
      await edge.publishAsync('spBv1.0/plant1/DBIRTH/edge1/press1', Buffer.from(encodePayload({ seq: 1, metrics: [{ name: 'Pressure', alias: 10, type: 'Float', value: 1.5 }] })), { qos: 1 });
      await edge.publishAsync('spBv1.0/plant1/NDATA/edge1', Buffer.from(raw({ seq: 2, metrics: [{ alias: 1, doubleValue: 21.5, timestamp: 1_714_564_801_000 }] })), { qos: 1 });
      await edge.publishAsync('spBv1.0/plant1/DDATA/edge1/press1', Buffer.from(raw({ seq: 3, metrics: [{ alias: 10, floatValue: 1.25 }] })), { qos: 1 });
      await edge.publishAsync('spBv1.0/plant1/NDATA/edge1', Buffer.from(raw({ seq: 7, metrics: [{ alias: 2, stringValue: 'RUN' }] })), { qos: 1 });
      await until('the readings', () => ctx.readings.length === 6);
      expect(ctx.readings.map((r) => [r.tag, r.value, r.quality])).toEqual([
        ['plant1/edge1/Temp', 20, 0],
        ['plant1/edge1/Status', 'IDLE', 0],
        ['plant1/edge1/press1/Pressure', 1.5, 0],
        ['plant1/edge1/Temp', 21.5, 0],
        ['plant1/edge1/press1/Pressure', 1.25, 0],
        ['plant1/edge1/Status', 'RUN', 0],
      ]);
      expect(ctx.readings[3]?.sourceTimeUs).toBe(1_714_564_801_000_000);
      expect(source.sparkplugStats()).toMatchObject({ edgeNodes: 1, online: 1, seqGaps: 1 });
      // The gap would ask for a rebirth too, but one was asked for less than a minute ago.
      expect(ctx.logText()).toContain('Sparkplug sequence gap: messages from the edge node were lost.');
      await until('the tags declared', () => ctx.tags.length === 3);
      expect(ctx.tags).toEqual([
        { tag: 'plant1/edge1/Temp', dataType: 'Double', unit: 'degC' },
        { tag: 'plant1/edge1/Status', dataType: 'String' },
        { tag: 'plant1/edge1/press1/Pressure', dataType: 'Float' },
      ]);

      // The edge node drops off the network: the broker publishes its NDEATH will.
      edge.end(true);
      await until('the death readings', () => ctx.readings.length === 9);
      expect(ctx.readings.slice(6).map((r) => [r.tag, r.value, r.quality])).toEqual([
        ['plant1/edge1/Temp', null, BAD_NO_COMMUNICATION],
        ['plant1/edge1/Status', null, BAD_NO_COMMUNICATION],
        ['plant1/edge1/press1/Pressure', null, BAD_NO_COMMUNICATION],
      ]);
      expect(source.sparkplugStats()).toMatchObject({ online: 0, rebirthRequests: 1 });
      expect(commands).toHaveLength(1);
    } finally {
      edge.end(true);
      await watcher.endAsync();
      await source.stop();
    }
  });

  it('reads 64-bit, DateTime and array metrics without losing precision', async () => {
    const { source, ctx } = await started([{ topic: 'spBv1.0/plant2/#', format: 'sparkplug_b', tag: 'plc/{edge_node_id}/{metric}' }]);
    const floats = Buffer.alloc(8);
    floats.writeFloatLE(0.1, 0);
    floats.writeFloatLE(-2.5, 4);
    await publish(
      'spBv1.0/plant2/NBIRTH/n1',
      raw({
        seq: 0,
        metrics: [
          { name: 'Counter', datatype: DataType.UInt64, longValue: { low: -1, high: 0x1fffff, unsigned: true } as never },
          { name: 'Big', datatype: DataType.UInt64, longValue: { low: 0, high: 0x200000, unsigned: true } as never },
          { name: 'Started', datatype: DataType.DateTime, longValue: 1_714_564_800_000 },
          { name: 'Profile', datatype: DataType.FloatArray, bytesValue: floats },
        ],
      }),
    );
    await until('four readings', () => ctx.readings.length === 4);
    expect(ctx.readings.map((r) => [r.tag, r.value])).toEqual([
      ['plc/n1/Counter', 9_007_199_254_740_991],
      ['plc/n1/Big', '9007199254740992'],
      ['plc/n1/Started', '2024-05-01T12:00:00.000Z'],
      ['plc/n1/Profile', '[0.1,-2.5]'],
    ]);
    await source.stop();
  });
});
