import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfigText } from '../common/config/load.ts';
import { startGateway, type Gateway } from '../gateway/app.ts';
import { gatewayConfigSchema } from '../gateway/config.ts';
import { startRelay, type RunningRelay } from '../relay/app.ts';
import { relayConfigSchema } from '../relay/config.ts';
import { startTestEmulator, TEST_CLIENT_SECRET, type TestEmulator } from './helpers/emulator.ts';
import { captureLogger } from './helpers/logs.ts';
import { startBroker, type Broker } from './helpers/mosquitto.ts';
import { deletePrefix, testRedisUrl, uniquePrefix } from './helpers/redis.ts';
import { until } from './helpers/wait.ts';

const MESSAGES = 10_000;
const DEVICES = 10;
const PUBLISH_WINDOW = 500;
const LANDING_DEADLINE_MS = 90_000;

describe('MQTT to Zerobus, end to end', () => {
  const prefix = uniquePrefix('e2e');
  const table = `main.iot.e2e_${prefix.replace(/-/g, '_')}`;
  const topicRoot = `e2e/${prefix}`;
  const logs = captureLogger('e2e');
  let broker: Broker;
  let emulator: TestEmulator;
  let gateway: Gateway;
  let relay: RunningRelay;

  beforeAll(async () => {
    broker = await startBroker();
    emulator = await startTestEmulator();
    const env = { MQTT_URL: broker.url, REDIS_URL: testRedisUrl(), ZB_SECRET: TEST_CLIENT_SECRET };
    const gatewayYaml = `
gateway: { id: gw-e2e }
redis: { url: "\${REDIS_URL}", prefix: ${prefix} }
http: { port: 0 }
sources:
  - name: line1
    table: ${table}
    mqtt:
      url: \${MQTT_URL}
      subscriptions:
        - { topic: "${topicRoot}/+/temperature", qos: 1, value_path: reading.value, tag: "{2}/{3}" }
`;
    const relayYaml = `
redis: { url: "\${REDIS_URL}", prefix: ${prefix} }
http: { port: 0 }
zerobus:
  endpoint: ${emulator.grpcAddress}
  workspace_url: ${emulator.workspaceUrl}
  workspace_id: "1234567890123456"
  client_id: test-client
  client_secret: \${ZB_SECRET}
  insecure: true
workers: { concurrency: 4, discovery_interval_ms: 200 }
`;
    relay = await startRelay(parseConfigText(relayYaml, relayConfigSchema, env), { log: logs.log.child({ process: 'relay' }) });
    gateway = await startGateway(parseConfigText(gatewayYaml, gatewayConfigSchema, env), { log: logs.log.child({ process: 'gateway' }) });
    await until('the MQTT source to subscribe', () => gateway.status().sources[0]?.state === 'connected');
  });

  afterAll(async () => {
    await gateway?.stop();
    await relay?.stop();
    await emulator?.stop();
    await broker?.stop();
    await deletePrefix(prefix, testRedisUrl());
  });

  it(`lands all ${MESSAGES} messages exactly once, decoded through the descriptor`, async () => {
    const publisher = await mqtt.connectAsync(broker.url, { clientId: `${prefix}-pub` });
    for (let start = 0; start < MESSAGES; start += PUBLISH_WINDOW) {
      const window = [];
      for (let i = start; i < Math.min(start + PUBLISH_WINDOW, MESSAGES); i++) {
        const payload = JSON.stringify({ reading: { value: i * 0.5 }, n: i });
        window.push(publisher.publishAsync(`${topicRoot}/dev${i % DEVICES}/temperature`, payload, { qos: 1 }));
      }
      await Promise.all(window);
    }
    await publisher.endAsync();

    await until(`${MESSAGES} rows in the emulator`, async () => (await emulator.count(table)) >= MESSAGES || undefined, LANDING_DEADLINE_MS);
    expect(await emulator.count(table)).toBe(MESSAGES);
    expect(await emulator.duplicates(table)).toMatchObject({ rows: MESSAGES, distinct: MESSAGES, duplicates: 0 });

    const rows = await emulator.rows(table, MESSAGES);
    const values = rows.map((r) => r.value_number as number).sort((a, b) => a - b);
    expect(values).toEqual(Array.from({ length: MESSAGES }, (_, i) => i * 0.5));
    // One source: its sequence numbers are 1..N with no gap and no repeat.
    expect(rows.map((r) => r.seq as number).sort((a, b) => a - b)).toEqual(Array.from({ length: MESSAGES }, (_, i) => i + 1));
    const sample = rows.find((r) => r.value_number === 21);
    expect(sample).toMatchObject({
      source_name: 'line1',
      gateway_id: 'gw-e2e',
      run_id: gateway.runId,
      tag: 'dev2/temperature',
      topic: `${topicRoot}/dev2/temperature`,
      qos: 1,
      quality: 0,
      value_string: '21',
      value_type: 'number',
    });
    expect(typeof sample?.event_time).toBe('number');
    expect(sample?.ingest_time as number).toBeGreaterThanOrEqual(sample?.event_time as number);
  });

  it('keeps the Zerobus secret out of every log line', () => {
    expect(logs.lines.length).toBeGreaterThan(0);
    expect(logs.text()).not.toContain(TEST_CLIENT_SECRET);
  });
});
