import { describe, expect, it } from 'vitest';
import { QUALITY_GOOD } from '../../../common/quality.ts';
import { subscriptionSchema } from './config.ts';
import { MessageHandler, payloadText } from './message.ts';
import { encodePayload } from './sparkplug/proto.ts';

const sub = (input: Record<string, unknown>) => subscriptionSchema.parse(input);
const meta = { qos: 1 as const, retain: true, receivedUs: 5_000_000 };
const details = (topic: string) => ({ protocol: 'mqtt', topic, qos: 1, retain: true });

describe('MessageHandler with json', () => {
  const handler = new MessageHandler('src', [sub({ topic: 'plant/+/temp', tag: '{1}/{2}', timestamp_path: 'ts' }), sub({ topic: 'plant/#', value_path: '' })]);

  it('builds a good reading with the tag, the payload time and the MQTT details', () => {
    const out = handler.handle('plant/line1/temp', Buffer.from('{"value": 21.5, "ts": 1000}'), meta);
    expect(out).toEqual({
      readings: [
        { source: 'src', tag: 'line1/temp', value: 21.5, quality: QUALITY_GOOD, sourceTimeUs: 1_000_000, gatewayTimeUs: 5_000_000, details: details('plant/line1/temp') },
      ],
      rejections: [],
      tagsChanged: false,
    });
  });

  it('uses the time of receipt when the subscription has no timestamp path', () => {
    const out = handler.handle('plant/line1/speed', Buffer.from('7'), meta);
    expect(out.readings).toMatchObject([{ tag: 'plant/line1/speed', value: 7, sourceTimeUs: 5_000_000 }]);
  });

  it('rejects a topic no subscription matches, with the topic and the payload', () => {
    expect(handler.handle('other/x', Buffer.from('1'), meta).rejections).toEqual([
      { origin: 'other/x', kind: 'no_subscription', reason: 'no subscription matches the topic', payload: '1' },
    ]);
  });

  it('rejects a decode failure with its kind and reason', () => {
    expect(handler.handle('plant/l/temp', Buffer.from('{"ts": 1}'), meta).rejections).toEqual([
      { origin: 'plant/l/temp', kind: 'value_not_found', reason: "value path 'value' not found", payload: '{"ts": 1}' },
    ]);
  });

  it('reads one reading per field from an object, each with its own tag, time and quality', () => {
    const fields = new MessageHandler('src', [
      sub({
        topic: 'site/+/+/data',
        timestamp_path: 'ts',
        quality_path: 'q',
        fields: [{ value_path: 'temp', tag: '{1}/{2}/temperature' }, { value_path: 'speed', tag: '{1}/{2}/speed', quality_path: 'speed_q' }, { value_path: 'state' }],
      }),
    ]);
    const doc = { ts: 2000, q: 'good', temp: 20.5, speed: 1200, speed_q: 'BadSensorFailure', state: 'RUN' };
    const out = fields.handle('site/a1/d7/data', Buffer.from(JSON.stringify(doc)), meta);
    expect(out.rejections).toEqual([]);
    expect(out.readings.map((r) => [r.tag, r.value, r.quality, r.sourceTimeUs])).toEqual([
      ['a1/d7/temperature', 20.5, 0, 2_000_000],
      ['a1/d7/speed', 1200, 0x808c0000, 2_000_000],
      ['site/a1/d7/data/state', 'RUN', 0, 2_000_000],
    ]);
  });

  it('reads fields from an array, and rejects only the field that is missing', () => {
    const fields = new MessageHandler('src', [sub({ topic: 'rack/+', fields: [{ value_path: '0', tag: '{1}/a' }, { value_path: '1', tag: '{1}/b' }, { value_path: '2', tag: '{1}/c' }] })]);
    const out = fields.handle('rack/r1', Buffer.from('[1.5, true]'), meta);
    expect(out.readings.map((r) => [r.tag, r.value])).toEqual([
      ['r1/a', 1.5],
      ['r1/b', true],
    ]);
    expect(out.rejections).toEqual([{ origin: 'rack/r1', kind: 'value_not_found', reason: "value path '2' not found", payload: '[1.5, true]' }]);
  });

  it('rejects invalid JSON once, not once per field', () => {
    const fields = new MessageHandler('src', [sub({ topic: 'a', fields: [{ value_path: 'x' }, { value_path: 'y' }] })]);
    expect(fields.handle('a', Buffer.from('{'), meta).rejections).toMatchObject([{ kind: 'invalid_json' }]);
  });

  it('rejects a tag the topic cannot fill', () => {
    const wide = new MessageHandler('src', [sub({ topic: 'a/#', tag: '{3}' })]);
    expect(wide.handle('a/b', Buffer.from('{"value":1}'), meta).rejections).toMatchObject([{ kind: 'bad_tag', reason: 'tag level {3} not in topic (it has 2 levels)' }]);
  });
});

describe('MessageHandler with plain', () => {
  const handler = new MessageHandler('src', [
    sub({ topic: 'dev/+/temp', format: 'plain', tag: '{1}/temp' }),
    sub({ topic: 'dev/+/state', format: 'plain', plain_type: 'string', tag: '{1}/state' }),
    sub({ topic: 'dev/+/run', format: 'plain', plain_type: 'boolean', tag: '{1}/run' }),
  ]);

  it.each([
    ['dev/d1/temp', '21.5', 'd1/temp', 21.5],
    ['dev/d1/state', 'RUNNING', 'd1/state', 'RUNNING'],
    ['dev/d1/run', 'on', 'd1/run', true],
  ])('reads %s = %s', (topic, payload, tag, value) => {
    expect(handler.handle(topic, Buffer.from(payload), meta).readings).toMatchObject([{ tag, value, quality: 0 }]);
  });

  it('rejects text where a number is expected', () => {
    expect(handler.handle('dev/d1/temp', Buffer.from('hot'), meta).rejections).toEqual([
      { origin: 'dev/d1/temp', kind: 'invalid_number', reason: "'hot' is not a decimal number", payload: 'hot' },
    ]);
  });
});

describe('MessageHandler with sparkplug_b', () => {
  const handler = new MessageHandler('src', [sub({ topic: 'spBv1.0/#', format: 'sparkplug_b' })]);

  it('reads an NBIRTH and keeps binary payloads of rejections as base64', () => {
    const birth = encodePayload({ timestamp: 1000, seq: 0, metrics: [{ name: 'Temp', type: 'Double', value: 20.5 }] });
    const out = handler.handle('spBv1.0/G/NBIRTH/E', Buffer.from(birth), meta);
    expect(out.readings).toMatchObject([{ tag: 'G/E/Temp', value: 20.5, quality: 0, sourceTimeUs: 1_000_000 }]);
    expect(out.tagsChanged).toBe(true);
    expect(handler.declaredTags()).toEqual([{ tag: 'G/E/Temp', dataType: 'Double' }]);

    const garbage = Buffer.from([0xff, 0xff, 0xff]);
    const bad = handler.handle('spBv1.0/G/NDATA/E', garbage, meta);
    expect(bad.rejections).toEqual([{ origin: 'spBv1.0/G/NDATA/E', kind: 'invalid_sparkplug', reason: expect.stringMatching(/^not a Sparkplug B payload: /), payload: '////' }]);
  });

  it('passes over commands and host state, and rejects a topic that is not Sparkplug', () => {
    expect(handler.handle('spBv1.0/G/NCMD/E', Buffer.from([]), meta)).toEqual({ readings: [], rejections: [], tagsChanged: false });
    expect(handler.handle('spBv1.0/STATE/host1', Buffer.from('{"online":true}'), meta).rejections).toEqual([]);
    expect(handler.handle('spBv1.0/G/NDATA', Buffer.from([]), meta).rejections).toMatchObject([{ kind: 'invalid_topic', reason: 'a NDATA topic is spBv1.0/<group_id>/NDATA/<edge_node_id>' }]);
  });
});

describe('declaredTags', () => {
  it('declares the tags of fixed topics, with the plain type, and leaves wildcard topics out', () => {
    const handler = new MessageHandler('src', [
      sub({ topic: 'plant/line1/temp', tag: '{1}/{2}' }),
      sub({ topic: 'plant/line1/state', format: 'plain', plain_type: 'string', tag: 'line1/state' }),
      sub({ topic: 'plant/line1/run', format: 'plain', plain_type: 'boolean' }),
      sub({ topic: 'plant/line1/data', fields: [{ value_path: 'a' }, { value_path: 'b', tag: 'line1/b' }] }),
      sub({ topic: 'plant/+/speed', format: 'plain' }),
    ]);
    expect(handler.declaredTags()).toEqual([
      { tag: 'line1/temp' },
      { tag: 'line1/state', dataType: 'String' },
      { tag: 'plant/line1/run', dataType: 'Boolean' },
      { tag: 'plant/line1/data/a' },
      { tag: 'line1/b' },
    ]);
  });
});

describe('payloadText', () => {
  it('keeps UTF-8 as text and turns other bytes into base64', () => {
    expect(payloadText(Buffer.from('{"a":"é"}'))).toBe('{"a":"é"}');
    expect(payloadText(Buffer.from([0xff, 0xfe, 0x00]))).toBe('//4A');
  });
});
