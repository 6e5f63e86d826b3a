import type { Reading } from '../../common/reading.ts';

/** A stamped MQTT reading for tests that encode records without a gateway. */
export function mqttReading(seq: number, value: number | string | boolean | null = seq * 1.5, source = 'test-src'): Reading {
  const t = 1_763_856_000_000_000 + seq * 1000;
  return {
    source,
    tag: `line1/temp${seq % 10}`,
    value,
    quality: 0,
    sourceTimeUs: t,
    gatewayTimeUs: t + 250,
    gatewayId: 'gw-test',
    runId: 'run-1',
    seq,
    details: { protocol: 'mqtt', topic: `plant/line1/temp${seq % 10}`, qos: 1, retain: false },
  };
}
