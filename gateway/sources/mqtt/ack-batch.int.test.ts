import { connectAsync, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type Broker } from '../../../test/helpers/mosquitto.ts';
import { startTcpProxy } from '../../../test/helpers/tcp-proxy.ts';
import { until } from '../../../test/helpers/wait.ts';
import { recordingContext } from '../../test-support/context.ts';
import { mqttConfigSchema } from './config.ts';
import { MqttSource } from './driver.ts';

/**
 * The source sends the acknowledgements of a burst in one write (ack-batch.ts). Whether each
 * one reached the broker shows in the session: a message the broker saw no PUBACK (or, at
 * QoS 2, PUBREC) for is delivered again when the session resumes.
 */
const BURST = 300;
/** Ample for a few kilobytes to cross two loopback hops; acknowledgements go out within one turn of the event loop. */
const ACK_GRACE_MS = 500;

let broker: Broker;
let publisher: MqttClient;
beforeAll(async () => {
  broker = await startBroker();
  publisher = await connectAsync(broker.url, { clientId: `acks-pub-${process.pid}` });
});
afterAll(async () => {
  await publisher?.endAsync();
  await broker?.stop();
});

async function run(name: string, qos: 1 | 2, url = broker.url) {
  const source = new MqttSource(
    name,
    mqttConfigSchema.parse({ url, clean: false, client_id: `acks-${name}-${process.pid}`, subscriptions: [{ topic: `${name}/+`, qos, format: 'plain', tag: '{1}' }] }),
  );
  const ctx = recordingContext();
  await source.start(ctx);
  await until('connected', () => source.status().state === 'connected');
  return { source, ctx };
}

describe('acknowledgements of a burst, against Mosquitto', () => {
  it.each([1, 2] as const)('reach the broker at QoS %s: a resumed session delivers nothing again', async (qos) => {
    const name = `burst${qos}`;
    const first = await run(name, qos);
    await first.source.stop();
    // Queued at the broker while the source is away: they come as one burst on the next connect.
    await Promise.all(Array.from({ length: BURST }, (_, i) => publisher.publishAsync(`${name}/v`, String(i + 1), { qos })));

    // Through a relay that is then cut hard: what was not written by then never reaches the broker.
    const relay = await startTcpProxy(Number(new URL(broker.url).port));
    const second = await run(name, qos, `mqtt://127.0.0.1:${relay.port}`);
    try {
      await until('the burst read', () => second.ctx.readings.length === BURST);
      expect(second.ctx.readings.map((r) => r.value)).toEqual(Array.from({ length: BURST }, (_, i) => i + 1));
      await new Promise((r) => setTimeout(r, ACK_GRACE_MS));
      await relay.down();
    } finally {
      await second.source.stop();
      await relay.close();
    }

    const third = await run(name, qos);
    try {
      // In order behind anything the broker would deliver again: once the marker is read, nothing else came.
      await publisher.publishAsync(`${name}/v`, '-1', { qos });
      await until('the marker read', () => third.ctx.readings.length > 0);
      expect(third.ctx.readings.map((r) => r.value)).toEqual([-1]);
    } finally {
      await third.source.stop();
    }
  });
});
