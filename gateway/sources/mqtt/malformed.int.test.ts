import { connectAsync } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type Broker } from '../../../test/helpers/mosquitto.ts';
import { until } from '../../../test/helpers/wait.ts';
import { recordingContext } from '../../test-support/context.ts';
import { mqttConfigSchema } from './config.ts';
import { MqttSource } from './driver.ts';
import { encodePayload, Payload } from './sparkplug/proto.ts';

const MALFORMED = 1_000;
const GOOD = 1_000;

let broker: Broker;
beforeAll(async () => {
  broker = await startBroker();
});
afterAll(async () => {
  await broker?.stop();
});

interface Case {
  topic: string;
  payload: Buffer;
  /** Set for a malformed payload: the rejection it must give. */
  kind?: string;
  reason?: RegExp;
}

const spData = (seq: number, alias: number, value: number) => Buffer.from(Payload.encode(Payload.create({ seq, metrics: [{ alias, doubleValue: value }] })).finish());

/** Good and malformed payloads interleaved, over every format; good ones carry value i. */
function cases(): Case[] {
  const out: Case[] = [];
  let seq = 0;
  const malformed: Array<(i: number) => Case> = [
    (i) => ({ topic: `bulk/json/d${i % 7}`, payload: Buffer.from(`{"value": ${i}`), kind: 'invalid_json', reason: /^invalid JSON: / }),
    (i) => ({ topic: `bulk/json/d${i % 7}`, payload: Buffer.from(`{"val": ${i}}`), kind: 'value_not_found', reason: /^value path 'value' not found$/ }),
    (i) => ({ topic: `bulk/json/d${i % 7}`, payload: Buffer.from(`{"value": ${i}, "ts": "noon"}`), kind: 'invalid_timestamp', reason: /^timestamp 'noon' is not an ISO 8601/ }),
    (i) => ({ topic: `bulk/plain/p${i % 3}`, payload: Buffer.from(`${i} degC`), kind: 'invalid_number', reason: / is not a decimal number$/ }),
    // JSON sent to a Sparkplug topic, a mistake seen in the field.
    (i) => ({ topic: 'spBv1.0/bulk/NDATA/edge', payload: Buffer.from(`{"value": ${i}}`), kind: 'invalid_sparkplug', reason: /^not a Sparkplug B payload: / }),
    () => ({ topic: 'spBv1.0/bulk/NDATA/edge', payload: spData(++seq % 256, 99, 0), kind: 'unknown_alias', reason: /^alias 99 is not declared in the NBIRTH of edge node bulk\/edge$/ }),
  ];
  const good: Array<(i: number) => Case> = [
    (i) => ({ topic: `bulk/json/d${i % 7}`, payload: Buffer.from(JSON.stringify({ value: i, ts: 1_714_564_800_000 + i })) }),
    (i) => ({ topic: `bulk/plain/p${i % 3}`, payload: Buffer.from(String(i)) }),
    (i) => ({ topic: 'spBv1.0/bulk/NDATA/edge', payload: spData(++seq % 256, 1, i) }),
  ];
  for (let i = 0; i < MALFORMED + GOOD; i++) {
    const n = Math.floor(i / 2);
    out.push(i % 2 === 0 ? (good[n % good.length] as (i: number) => Case)(i) : (malformed[n % malformed.length] as (i: number) => Case)(i));
  }
  return out;
}

describe('1,000 malformed payloads among good ones, against Mosquitto', () => {
  it('rejects every malformed payload with its reason and turns every good one into a reading', async () => {
    const source = new MqttSource(
      'bulk',
      mqttConfigSchema.parse({
        url: broker.url,
        subscriptions: [
          { topic: 'bulk/json/+', timestamp_path: 'ts', tag: '{2}' },
          { topic: 'bulk/plain/+', format: 'plain', tag: '{2}' },
          { topic: 'spBv1.0/bulk/#', format: 'sparkplug_b' },
        ],
      }),
    );
    const ctx = recordingContext();
    await source.start(ctx);
    await until('subscribed', () => source.status().state === 'connected');

    const pub = await connectAsync(broker.url, { clientId: `bulk-pub-${process.pid}` });
    const all = cases();
    await pub.publishAsync('spBv1.0/bulk/NBIRTH/edge', Buffer.from(encodePayload({ seq: 0, metrics: [{ name: 'v', alias: 1, type: 'Double', value: -1 }] })), { qos: 1 });
    await Promise.all(all.map((c) => pub.publishAsync(c.topic, c.payload, { qos: 1 })));
    await pub.endAsync();

    const bad = all.filter((c) => c.kind !== undefined);
    const goodCount = all.length - bad.length;
    expect([bad.length, goodCount]).toEqual([MALFORMED, GOOD]);
    await until('every message handled', () => ctx.readings.length === goodCount + 1 && ctx.rejections.length === bad.length, 20_000);

    // Every good one: one reading each, with its value (the BIRTH adds v = -1).
    const values = ctx.readings.map((r) => r.value).sort((a, b) => Number(a) - Number(b));
    const expected = all.flatMap((c, i) => (c.kind === undefined ? [i] : [])).concat(-1).sort((a, b) => a - b);
    expect(values).toEqual(expected);
    // Every malformed one: rejected in order with its topic, kind, reason and payload.
    ctx.rejections.forEach((r, i) => {
      const c = bad[i] as Case;
      expect(r.origin).toBe(c.topic);
      expect(r.kind).toBe(c.kind);
      expect(r.reason).toMatch(c.reason as RegExp);
      expect(Buffer.from(r.payload, c.topic.startsWith('spBv1.0') ? 'base64' : 'utf8').equals(c.payload)).toBe(true);
    });
    const perTopic = source.rejectedByTopic();
    expect(Object.values(perTopic).reduce((a, b) => a + b, 0)).toBe(bad.length);
    expect(perTopic['spBv1.0/bulk/NDATA/edge']).toBe(bad.filter((c) => c.topic === 'spBv1.0/bulk/NDATA/edge').length);
    expect(source.status().state).toBe('connected');
    expect(source.sparkplugStats().seqGaps).toBe(0);
    await source.stop();
  });
});
