import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import { DataType } from 'node-opcua';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfigText } from '../common/config/load.ts';
import { connect, makeClientPki, type ClientPki } from '../opcua-server/test-support.ts';
import { captureLogger } from '../test/helpers/logs.ts';
import { startBroker, type Broker } from '../test/helpers/mosquitto.ts';
import { deletePrefix, testRedisUrl, uniquePrefix } from '../test/helpers/redis.ts';
import { until } from '../test/helpers/wait.ts';
import { startGateway, type Gateway } from './app.ts';
import { gatewayConfigSchema } from './config.ts';

const NAMESPACE = 'urn:test:iot-connector';

/** The gateway runs the aggregated OPC UA server itself, fed by its real sources. */
describe('gateway with the aggregated OPC UA server', () => {
  let broker: Broker;
  let publisher: MqttClient;
  let gateway: Gateway;
  let dir: string;
  let pki: ClientPki;
  const prefix = uniquePrefix('gw-opcua');

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gw-opcua-'));
    broker = await startBroker();
    publisher = await connectAsync(broker.url, { clientId: `pub-gw-opcua-${process.pid}` });
    const config = parseConfigText(
      `
gateway: { id: gw-opcua }
log: { level: silent }
redis: { url: ${testRedisUrl()}, prefix: ${prefix} }
http: { host: 127.0.0.1, port: 0 }
opcua_server:
  enabled: true
  host: 127.0.0.1
  port: 0
  advertised_hostname: 127.0.0.1
  namespace_uri: ${NAMESPACE}
  security_modes: [None]
  allow_anonymous: true
  pki_dir: ${join(dir, 'pki')}
  shutdown_grace_ms: 0
sources:
  - name: plant
    mqtt:
      url: ${broker.url}
      subscriptions: [{ topic: "plant/+/temp", tag: "{1}/temp" }]
`,
      gatewayConfigSchema,
      {},
    );
    gateway = await startGateway(config, { log: captureLogger().log });
    pki = await makeClientPki(dir, 'gw');
    await until('the source subscribed', () => gateway.status().sources[0]?.state === 'connected');
  });
  afterAll(async () => {
    await gateway?.stop();
    await publisher?.endAsync();
    await broker?.stop();
    await deletePrefix(prefix, testRedisUrl());
    await rm(dir, { recursive: true, force: true });
  });

  it('serves every reading of a source as a variable under Objects/<source>/<tag folders>', async () => {
    const endpointUrl = gateway.opcuaEndpointUrl;
    expect(endpointUrl).toMatch(/^opc\.tcp:\/\/127\.0\.0\.1:\d+\//);
    await publisher.publishAsync('plant/line1/temp', JSON.stringify({ value: 21.5 }), { qos: 1 });
    const client = await connect(endpointUrl!, { pki }, NAMESPACE);
    try {
      const nodeId = `ns=${client.ns};s=plant/line1/temp`;
      await until('the variable has the published value', async () => (await client.session.read({ nodeId })).value.value === 21.5);
      const value = await client.session.read({ nodeId });
      expect(value.statusCode.isGood()).toBe(true);
      expect(value.value.dataType).toBe(DataType.Double);
      expect(value.sourceTimestamp).toBeInstanceOf(Date);
    } finally {
      await client.close();
    }
    expect(gateway.status().opcuaServer).toMatchObject({ endpointUrl, sources: 1 });
  });

  it('refuses a write_through for a source the config does not have, naming it', () => {
    const text = `
sources: [{ name: plant, mqtt: { url: "mqtt://127.0.0.1:1", subscriptions: [{ topic: a }] } }]
opcua_server: { enabled: true, allow_anonymous: true, write_through: { plc9: {} } }
`;
    expect(() => parseConfigText(text, gatewayConfigSchema, {})).toThrow('opcua_server.write_through.plc9: no source is named "plc9"');
  });
});
