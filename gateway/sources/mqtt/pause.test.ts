import { describe, expect, it } from 'vitest';
import { mqttConfigSchema } from './config.ts';
import { pauseRefusal } from './driver.ts';

const config = (over: Record<string, unknown>) =>
  mqttConfigSchema.parse({ url: 'mqtt://127.0.0.1:1883', client_id: 'gw', subscriptions: [{ topic: 'a/#' }, { topic: 'b/#', qos: 2 }], ...over });

describe('pauseRefusal', () => {
  it('allows a pause only with a persistent session whose subscriptions are all QoS 1 or 2', () => {
    expect(pauseRefusal(config({ clean: false }))).toBeUndefined();
    expect(pauseRefusal(config({ clean: true }))).toMatch(/^clean session \(clean: true\): the broker keeps nothing/);
    expect(pauseRefusal(config({ clean: false, subscriptions: [{ topic: 'a/#' }, { topic: 'c/+', qos: 0 }, { topic: 'd', qos: 0 }] }))).toBe(
      'QoS 0 subscriptions (c/+, d): the broker does not queue QoS 0 messages for a disconnected client',
    );
  });
});
