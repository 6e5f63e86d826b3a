import { connectAsync, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type Broker } from '../../../test/helpers/mosquitto.ts';
import { startTcpProxy } from '../../../test/helpers/tcp-proxy.ts';
import { until } from '../../../test/helpers/wait.ts';
import { recordingContext } from '../../test-support/context.ts';
import { mqttConfigSchema } from './config.ts';
import { MqttSource } from './driver.ts';

const WHILE_PAUSED = 200;

let broker: Broker;
let publisher: MqttClient;
beforeAll(async () => {
  broker = await startBroker();
  publisher = await connectAsync(broker.url, { clientId: `pause-pub-${process.pid}` });
});
afterAll(async () => {
  await publisher?.endAsync();
  await broker?.stop();
});

/** A TCP relay to the broker that can be cut and restored on the same port: the broker "away" and "back". */
async function relayTo(target: string) {
  const proxy = await startTcpProxy(Number(new URL(target).port));
  return { ...proxy, url: `mqtt://127.0.0.1:${proxy.port}` };
}

async function started(name: string, over: Record<string, unknown>) {
  const source = new MqttSource(name, mqttConfigSchema.parse({ url: broker.url, reconnect_period_ms: 100, subscriptions: [{ topic: `${name}/+`, format: 'plain', tag: '{1}' }], ...over }));
  const ctx = recordingContext();
  await source.start(ctx);
  await until('subscribed', () => source.status().state === 'connected');
  return { source, ctx };
}

const publish = (topic: string, from: number, to: number) =>
  Promise.all(Array.from({ length: to - from + 1 }, (_, i) => publisher.publishAsync(topic, String(from + i), { qos: 1 })));
const details = (source: MqttSource) => source.status().details as Record<string, unknown>;

describe('pausing the MQTT source (queue policy block), against Mosquitto', () => {
  it.each([4, 5] as const)('with a persistent QoS 1 session (MQTT %s) disconnects, and receives what was published meanwhile after resume', async (version) => {
    const name = `persist${version}`;
    const { source, ctx } = await started(name, { protocol_version: version, clean: false, client_id: `gw-pause-${version}-${process.pid}` });
    try {
      await publish(`${name}/v`, 1, 5);
      await until('the first five read', () => ctx.readings.length === 5);

      expect(source.pause()).toBe(true);
      expect(source.pause()).toBe(true);
      await until('disconnected', () => source.status().state === 'disconnected');
      expect(details(source)).toMatchObject({ paused: true, clean: false });
      // The broker took these (PUBACK) and keeps them in the session: nothing reaches the source.
      await publish(`${name}/v`, 6, 5 + WHILE_PAUSED);
      expect(ctx.readings).toHaveLength(5);

      source.resume();
      await until('every message read', () => ctx.readings.length === 5 + WHILE_PAUSED);
      expect(ctx.readings.map((r) => r.value)).toEqual(Array.from({ length: 5 + WHILE_PAUSED }, (_, i) => i + 1));
      expect(source.status()).toMatchObject({ state: 'connected', details: { paused: false, sessionPresent: true, messages: 5 + WHILE_PAUSED } });
      expect(ctx.logText()).toContain('Pausing: disconnecting from the MQTT broker');
      expect(ctx.logText()).not.toContain('Data was lost');
      expect(ctx.logText()).not.toContain('Lost connection to MQTT broker');
    } finally {
      await source.stop();
    }
  });

  it('pauses while the broker is away, and resumes on one clean connection once it is back', async () => {
    const relay = await relayTo(broker.url);
    const { source, ctx } = await started('away', { url: relay.url, clean: false, client_id: `gw-pause-away-${process.pid}` });
    try {
      await publish('away/v', 1, 2);
      await until('the first two read', () => ctx.readings.length === 2);
      await relay.down();
      await until('the loss noticed', () => source.status().state !== 'connected');
      expect(source.pause()).toBe(true);
      await publish('away/v', 3, 7);
      await relay.up();
      const before = relay.connections();
      source.resume();
      // QoS 1 is at least once: a message whose PUBACK the cut lost comes again, so count distinct values.
      const values = () => new Set(ctx.readings.map((r) => r.value));
      await until('the queued messages read', () => values().size === 7);
      await until('connected', () => source.status().state === 'connected');
      expect([...values()].sort()).toEqual([1, 2, 3, 4, 5, 6, 7]);
      // One connection after resume, kept: no stale DISCONNECT from the pause went out on it.
      await publish('away/v', 8, 8);
      await until('a message after resume read', () => values().has(8));
      expect(relay.connections()).toBe(before + 1);
      expect(ctx.logText().match(/Connected to MQTT broker/g)).toHaveLength(2);
      expect(source.status()).toMatchObject({ state: 'connected', details: { paused: false, sessionPresent: true } });
    } finally {
      await source.stop();
      await relay.down();
    }
  });

  it('refuses with a clean session, says why, and keeps reading', async () => {
    const { source, ctx } = await started('clean', { clean: true });
    try {
      expect(source.pause()).toBe(false);
      expect(ctx.logText()).toContain('Cannot pause this MQTT source without losing data');
      expect(ctx.logText()).toContain('clean session (clean: true)');
      await publish('clean/v', 1, 10);
      await until('read while asked to pause', () => ctx.readings.length === 10);
      expect(source.status()).toMatchObject({ state: 'connected', details: { paused: false } });
    } finally {
      await source.stop();
    }
  });

  it('stays connected when resumed before the disconnect went out, and stops cleanly while paused', async () => {
    const { source, ctx } = await started('quick', { clean: false, client_id: `gw-pause-quick-${process.pid}` });
    source.pause();
    source.resume();
    await publish('quick/v', 1, 3);
    await until('read', () => ctx.readings.length === 3);
    expect(source.status().state).toBe('connected');
    expect(ctx.logText()).not.toContain('Resuming');

    source.pause();
    await until('disconnected', () => source.status().state === 'disconnected');
    await source.stop();
    await source.stop();
    expect(source.status()).toMatchObject({ state: 'stopped' });
  });
});
