import { Aedes } from 'aedes';
import { connectAsync, type MqttClient } from 'mqtt';
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type Broker } from '../../../test/helpers/mosquitto.ts';
import { freePort } from '../../../test/helpers/ports.ts';
import { recordingContext } from '../../test-support/context.ts';
import { until } from '../../../test/helpers/wait.ts';
import { mqttConfigSchema } from './config.ts';
import { MqttSource } from './driver.ts';

const config = (url: string, extra: Record<string, unknown> = {}) =>
  mqttConfigSchema.parse({
    url,
    reconnect_period_ms: 100,
    subscriptions: [
      { topic: 'plant/+/temp', tag: '{1}' },
      { topic: 'plant/#', value_path: '' },
    ],
    ...extra,
  });

describe('MqttSource against Mosquitto', () => {
  let broker: Broker;
  let publisher: MqttClient;

  beforeAll(async () => {
    broker = await startBroker();
    publisher = await connectAsync(broker.url, { clientId: `pub-${process.pid}` });
  });
  afterAll(async () => {
    await publisher?.endAsync();
    await broker?.stop();
  });

  it('turns messages into readings, rejects a bad payload and keeps reading after it', async () => {
    const source = new MqttSource('plant', config(broker.url));
    const ctx = recordingContext();
    await source.start(ctx);
    await until('subscribed', () => source.status().state === 'connected');

    await publisher.publishAsync('plant/line1/temp', '{"value": 21.5}', { qos: 1 });
    await publisher.publishAsync('plant/line1/temp', '{"value": ', { qos: 1 });
    await publisher.publishAsync('plant/line2/motor/speed', '1200', { qos: 1, retain: false });
    await until('two readings', () => ctx.readings.length === 2);

    expect(ctx.readings.map((r) => [r.tag, r.value, r.details])).toEqual([
      ['line1', 21.5, { protocol: 'mqtt', topic: 'plant/line1/temp', qos: 1, retain: false }],
      ['plant/line2/motor/speed', 1200, { protocol: 'mqtt', topic: 'plant/line2/motor/speed', qos: 1, retain: false }],
    ]);
    expect(ctx.readings[0]).toMatchObject({ source: 'plant', quality: 0 });
    expect(ctx.rejections).toEqual([{ origin: 'plant/line1/temp', kind: 'invalid_json', reason: expect.stringMatching(/^invalid JSON/), payload: '{"value": ' }]);

    await source.stop();
    await source.stop();
    expect(source.status().state).toBe('stopped');
  });

  it('reports a retained message with retain set', async () => {
    await publisher.publishAsync('plant/line9/temp', '{"value": 1}', { qos: 1, retain: true });
    const source = new MqttSource('plant', config(broker.url));
    const ctx = recordingContext();
    await source.start(ctx);
    // Mosquitto sends a retained message once per matching filter, so overlapping filters
    // may deliver it twice; every copy is marked retained.
    await until('the retained reading', () => ctx.readings.length >= 1);
    expect(ctx.readings[0]?.details).toEqual({ protocol: 'mqtt', topic: 'plant/line9/temp', qos: 1, retain: true });
    await source.stop();
    await publisher.publishAsync('plant/line9/temp', '', { qos: 1, retain: true });
  });
});

describe('MqttSource connection handling', () => {
  it('keeps trying while no broker listens, says why in status, and stops cleanly', async () => {
    const port = await freePort();
    const source = new MqttSource('down', config(`mqtt://127.0.0.1:${port}`));
    const ctx = recordingContext();
    await source.start(ctx);
    const status = await until('an error in status', () => (source.status().lastError ? source.status() : undefined));
    expect(status.state).not.toBe('connected');
    expect(status.lastError).toContain('ECONNREFUSED');
    const seen = new Set<string | undefined>();
    await until('three failed attempts', () => seen.add(source.status().lastErrorAt).size >= 3);
    expect(ctx.logText().split('\n').filter((l) => l.includes('MQTT connection error; retrying.'))).toHaveLength(1);
    await source.stop();
    expect(source.status().state).toBe('stopped');
  });

  it('puts the reason of an MQTT 5 DISCONNECT from the broker in status', async () => {
    const server = await startDisconnectingServer();
    const source = new MqttSource('v5', config(server.url, { protocol_version: 5 }));
    await source.start(recordingContext());
    const status = await until('the reason in status', () => (source.status().lastError ? source.status() : undefined));
    expect(status.lastError).toBe('broker disconnected the client: reason code 142');
    await source.stop();
    await server.stop();
  });

  it('reconnects by itself and subscribes again after the broker comes back', async () => {
    const port = await freePort();
    let embedded = await startAedes(port);
    const source = new MqttSource('re', config(`mqtt://127.0.0.1:${port}`));
    const ctx = recordingContext();
    await source.start(ctx);
    await until('connected', () => source.status().state === 'connected');

    await embedded.stop();
    await until('the loss noticed', () => source.status().state !== 'connected');
    embedded = await startAedes(port);
    await until('connected again', () => source.status().state === 'connected');

    const pub = await connectAsync(`mqtt://127.0.0.1:${port}`);
    await pub.publishAsync('plant/a/temp', '{"value": 3}', { qos: 1 });
    await until('the reading after reconnect', () => ctx.readings.length === 1);
    expect(ctx.readings[0]?.value).toBe(3);
    expect(ctx.logText()).toContain('Lost connection to MQTT broker; reconnecting.');
    await pub.endAsync();
    await source.stop();
    await embedded.stop();
  });
});

/**
 * Mosquitto 2.0.11 closes the socket without an MQTT 5 DISCONNECT (on session takeover and on
 * shutdown alike), so this server plays the part: it accepts each CONNECT, then sends a
 * DISCONNECT with reason code 0x8E (session taken over) and hangs up.
 */
async function startDisconnectingServer(): Promise<{ url: string; stop(): Promise<void> }> {
  const CONNACK_V5_ACCEPTED = Buffer.from([0x20, 0x03, 0x00, 0x00, 0x00]);
  const DISCONNECT_V5_TAKEN_OVER = Buffer.from([0xe0, 0x02, 0x8e, 0x00]);
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.once('data', () => {
      socket.write(CONNACK_V5_ACCEPTED);
      socket.end(DISCONNECT_V5_TAKEN_OVER);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** An in-process broker on a fixed port, so it can be stopped and started again there. */
async function startAedes(port: number): Promise<{ stop(): Promise<void> }> {
  const broker = await Aedes.createBroker();
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    broker.handle(socket);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => broker.close(() => resolve()));
    },
  };
}
