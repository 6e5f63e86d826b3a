import { createServer, type Server } from 'node:net';
import { Aedes } from 'aedes';
import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from '../../common/logger.ts';
import { SIM_TAGS } from './signals.ts';

export const DEFAULT_SIM_RATE_PER_S = 50;
export const DEFAULT_SIM_DEVICES = 4;
export const SIM_TOPIC_ROOT = 'plant/site1';

export interface MqttSimOptions {
  /** Publish to this broker; when absent, an embedded broker is started on embeddedPort. */
  brokerUrl?: string;
  embeddedPort?: number;
  host?: string;
  ratePerSecond?: number;
  devices?: number;
  log: Logger;
}

export interface RunningMqttSim {
  url: string;
  published(): number;
  stop(): Promise<void>;
}

/**
 * Publishes JSON readings {"value": v, "ts": iso} for a few devices on
 * plant/site1/area<a>/dev<d>/<tag>, optionally on an embedded broker so the demo needs no
 * broker installed.
 */
export async function startMqttSimulator(options: MqttSimOptions): Promise<RunningMqttSim> {
  const host = options.host ?? '127.0.0.1';
  let broker: Aedes | undefined;
  let server: Server | undefined;
  let url = options.brokerUrl;
  if (!url) {
    broker = await Aedes.createBroker();
    const b = broker;
    server = createServer((socket) => b.handle(socket));
    const srv = server;
    const port = await new Promise<number>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(options.embeddedPort ?? 0, host, () => {
        const address = srv.address();
        resolve(typeof address === 'object' && address ? address.port : 0);
      });
    });
    url = `mqtt://${host}:${port}`;
    options.log.info({ url }, 'Embedded MQTT broker listening.');
  }
  const client: MqttClient = await mqtt.connectAsync(url, { clientId: `iot-sim-${process.pid}`, reconnectPeriod: 1000 });
  const devices = options.devices ?? DEFAULT_SIM_DEVICES;
  const rate = options.ratePerSecond ?? DEFAULT_SIM_RATE_PER_S;
  const points = devices * SIM_TAGS.length;
  let next = 0;
  let published = 0;
  const tick = () => {
    const now = Date.now();
    const burst = Math.max(1, Math.round(rate / 10));
    for (let i = 0; i < burst; i++) {
      const point = next++ % points;
      const device = Math.floor(point / SIM_TAGS.length);
      const tag = SIM_TAGS[point % SIM_TAGS.length];
      if (!tag) continue;
      const topic = `${SIM_TOPIC_ROOT}/area${(device % 2) + 1}/dev${device + 1}/${tag.name}`;
      client.publish(topic, JSON.stringify({ value: tag.value(now, device), ts: new Date(now).toISOString() }), { qos: 1 });
      published++;
    }
  };
  const timer = setInterval(tick, 100);
  options.log.info({ url, devices, ratePerSecond: rate, topics: `${SIM_TOPIC_ROOT}/+/+/+` }, 'MQTT simulator publishing.');
  let stopped: Promise<void> | undefined;
  return {
    url,
    published: () => published,
    stop() {
      stopped ??= (async () => {
        clearInterval(timer);
        await client.endAsync();
        if (server) await new Promise<void>((resolve) => server?.close(() => resolve()));
        if (broker) await new Promise<void>((resolve) => broker?.close(() => resolve()));
      })();
      return stopped;
    },
  };
}
