import { describe, expect, it } from 'vitest';
import { QUALITY_GOOD } from '../../../common/quality.ts';
import { subscriptionSchema } from './config.ts';
import { buildRouter, messageToReading, payloadText } from './message.ts';

const router = buildRouter([
  subscriptionSchema.parse({ topic: 'plant/+/temp', tag: '{1}/{2}', timestamp_path: 'ts' }),
  subscriptionSchema.parse({ topic: 'plant/#', value_path: '' }),
]);
const meta = { qos: 1 as const, retain: true, receivedUs: 5_000_000 };

describe('messageToReading', () => {
  it('builds a good reading with the tag, the payload time and the MQTT details', () => {
    const result = messageToReading('src', router, 'plant/line1/temp', Buffer.from('{"value": 21.5, "ts": 1000}'), meta);
    expect(result).toEqual({
      reading: {
        source: 'src',
        tag: 'line1/temp',
        value: 21.5,
        quality: QUALITY_GOOD,
        sourceTimeUs: 1_000_000,
        gatewayTimeUs: 5_000_000,
        details: { protocol: 'mqtt', topic: 'plant/line1/temp', qos: 1, retain: true },
      },
    });
  });

  it('uses the time of receipt when the subscription has no timestamp path', () => {
    const result = messageToReading('src', router, 'plant/line1/speed', Buffer.from('7'), meta);
    expect(result).toMatchObject({ reading: { tag: 'plant/line1/speed', value: 7, sourceTimeUs: 5_000_000 } });
  });

  it('reports a topic no subscription matches', () => {
    expect(messageToReading('src', router, 'other/x', Buffer.from('1'), meta)).toEqual({ kind: 'no_subscription', reason: 'no subscription matches the topic' });
  });

  it('passes a decode failure on with its kind', () => {
    expect(messageToReading('src', router, 'plant/l/temp', Buffer.from('{"ts": 1}'), meta)).toEqual({
      kind: 'value_not_found',
      reason: "value path 'value' not found",
    });
  });
});

describe('payloadText', () => {
  it('keeps UTF-8 as text and turns other bytes into base64', () => {
    expect(payloadText(Buffer.from('{"a":"é"}'))).toBe('{"a":"é"}');
    expect(payloadText(Buffer.from([0xff, 0xfe, 0x00]))).toBe('//4A');
  });
});
