import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../common/config/load.ts';
import { captureLogger } from '../../test/helpers/logs.ts';
import { deletePrefix, testRedisUrl, uniquePrefix } from '../../test/helpers/redis.ts';
import { until } from '../../test/helpers/wait.ts';
import { startGateway, type Gateway } from '../app.ts';
import { gatewayConfigSchema } from '../config.ts';
import { startLoggingBroker, type LoggingBroker } from '../test-support/logging-broker.ts';

const TOKEN = 'reload-test-token-0123456789';
const ENV = { GW_TOKEN: TOKEN };

describe('hot reload of a running gateway', () => {
  let broker: LoggingBroker;
  let publisher: MqttClient;
  let dir: string;
  const prefixes: string[] = [];

  beforeAll(async () => {
    broker = await startLoggingBroker();
    publisher = await connectAsync(broker.url, { clientId: `reload-pub-${process.pid}` });
    dir = await mkdtemp(join(tmpdir(), 'gw-reload-'));
  });
  afterAll(async () => {
    await publisher?.endAsync();
    await broker?.stop();
    await rm(dir, { recursive: true, force: true });
    for (const p of prefixes) await deletePrefix(p, testRedisUrl());
  });

  const source = (name: string, extra = '') =>
    `  - name: ${name}\n    mqtt: { url: "${broker.url}", client_id: gw-${name}, subscriptions: [{ topic: "${name}/#", format: plain }] }\n${extra}`;

  async function start(file: string, body: string, reload = '{ watch: false }') {
    const prefix = uniquePrefix('reload');
    prefixes.push(prefix);
    const head = `gateway: { id: gw-reload }\nredis: { url: "${testRedisUrl()}", prefix: ${prefix} }\nhttp: { host: 127.0.0.1, port: 0, api_token: "\${GW_TOKEN}" }\nbatching: { max_wait_ms: 10 }\nreload: ${reload}\n`;
    const write = (sources: string, extraHead = '') => writeFile(file, `${head}${extraHead}sources:\n${sources}`);
    await write(body);
    const logs = captureLogger();
    const gateway = await startGateway(await loadConfigFile(file, gatewayConfigSchema, ENV), { log: logs.log, configFile: file, env: ENV });
    const events: string[] = [];
    gateway.events.on('sourceAdded', (h) => events.push(`+${h.name}`));
    gateway.events.on('sourceRemoved', (name) => events.push(`-${name}`));
    return { gateway, write, logs, events };
  }

  const state = (gateway: Gateway, name: string) => gateway.status().sources.find((s) => s.name === name);
  const reload = async (gateway: Gateway, token?: string) => {
    const res = await fetch(`http://127.0.0.1:${gateway.httpPort}/config/reload`, { method: 'POST', ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}) });
    return { status: res.status, body: (await res.json().catch(() => undefined)) as Record<string, any> };
  };
  const publishAndSee = async (gateway: Gateway, name: string, value: string) => {
    const before = state(gateway, name)?.readings ?? 0;
    await publisher.publishAsync(`${name}/x`, value, { qos: 1 });
    await until(`a reading from ${name}`, () => (state(gateway, name)?.readings ?? 0) > before);
  };

  it('keeps the old config on an invalid reload, adds a source without touching another, and restarts only what changed', async () => {
    const file = join(dir, 'http.yaml');
    const { gateway, write, events } = await start(file, source('a'));
    try {
      await until('a connected', () => state(gateway, 'a')?.state === 'connected');
      expect(broker.connections().filter((c) => c === 'gw-a')).toHaveLength(1);

      expect((await reload(gateway)).status).toBe(401);
      expect((await reload(gateway, 'not-the-token-not-the-token')).status).toBe(401);

      // Invalid: a bad URL and a duplicate name. Refused with every problem; nothing changes.
      await write(`${source('a')}${source('a')}  - name: c\n    mqtt: { url: "http://nope", subscriptions: [{ topic: t }] }\n`);
      const refused = await reload(gateway, TOKEN);
      expect(refused.status).toBe(400);
      expect(refused.body.errors).toEqual([
        'config error: sources[2].mqtt.url: expected an mqtt://, mqtts://, ws:// or wss:// URL, got "http://nope"',
        'config error: sources[1].name: duplicate source name "a" (also sources[0])',
      ]);
      expect(gateway.status().sources.map((s) => [s.name, s.state])).toEqual([['a', 'connected']]);
      expect(gateway.status().config.lastReload).toMatchObject({ ok: false, trigger: 'http' });
      await publishAndSee(gateway, 'a', '1');

      // Valid: b is added; a keeps its driver and its one connection to the broker.
      await write(`${source('a')}${source('b')}`);
      const added = await reload(gateway, TOKEN);
      expect(added.status).toBe(200);
      expect(added.body).toMatchObject({ ok: true, sources: { added: ['b'], removed: [], restarted: [], updated: [], unchanged: ['a'], failed: [] }, restartRequired: [] });
      await until('b connected', () => state(gateway, 'b')?.state === 'connected');
      await publishAndSee(gateway, 'a', '2');
      await publishAndSee(gateway, 'b', '3');
      expect(broker.connections().filter((c) => c === 'gw-a')).toHaveLength(1);
      expect(broker.connections().filter((c) => c === 'gw-b')).toHaveLength(1);
      expect(events).toEqual(['+b']);

      // Report-by-exception only: applied in place, no reconnect; a repeat is now filtered.
      await write(`${source('a', '    report: { mode: change }\n')}${source('b')}`);
      expect((await reload(gateway, TOKEN)).body.sources).toMatchObject({ updated: ['a'], unchanged: ['b'] });
      await publishAndSee(gateway, 'a', '7');
      await publishAndSee(gateway, 'a', '7');
      expect(state(gateway, 'a')).toMatchObject({ filtered: 1 });
      expect(broker.connections().filter((c) => c === 'gw-a')).toHaveLength(1);

      // b's subscription changes: b alone is restarted (a new connection), c is removed... and a restart-only key is reported.
      await write(`${source('a', '    report: { mode: change }\n')}  - name: b\n    mqtt: { url: "${broker.url}", client_id: gw-b, subscriptions: [{ topic: "b2/#", format: plain }] }\n`, 'queue: { max_batches: 5000 }\n');
      const changed = await reload(gateway, TOKEN);
      expect(changed.body).toMatchObject({ sources: { restarted: ['b'], unchanged: ['a'] }, restartRequired: ['queue.max_batches'] });
      expect(gateway.status().config.restartRequired).toEqual(['queue.max_batches']);
      await until('b reconnected', () => broker.connections().filter((c) => c === 'gw-b').length === 2 && state(gateway, 'b')?.state === 'connected');
      expect(broker.connections().filter((c) => c === 'gw-a')).toHaveLength(1);
      expect(events).toEqual(['+b', '-b', '+b']);

      // Removing b stops it.
      await write(source('a', '    report: { mode: change }\n'));
      expect((await reload(gateway, TOKEN)).body.sources).toMatchObject({ removed: ['b'] });
      expect(gateway.status().sources.map((s) => s.name)).toEqual(['a']);
      expect(events).toEqual(['+b', '-b', '+b', '-b']);
    } finally {
      await gateway.stop();
    }
  });

  it('reloads when the file changes, once it is quiet, and keeps running on a broken save', async () => {
    const file = join(dir, 'watch.yaml');
    const { gateway, write, logs } = await start(file, source('w1'), '{ watch: true, debounce_ms: 100 }');
    try {
      await until('w1 connected', () => state(gateway, 'w1')?.state === 'connected');
      await write(`${source('w1')}  - name: w2\n    mqtt: { url: "${broker.url}"`);
      await until('the broken save refused', () => gateway.status().config.lastReload?.ok === false);
      expect(logs.text()).toContain('Refused the new configuration; the running one stays.');
      expect(gateway.status().sources.map((s) => s.name)).toEqual(['w1']);
      await write(`${source('w1')}${source('w2')}`);
      await until('w2 added by the file watch', () => state(gateway, 'w2')?.state === 'connected');
      expect(gateway.status().config.lastReload).toMatchObject({ ok: true, trigger: 'file' });
      expect(broker.connections().filter((c) => c === 'gw-w1')).toHaveLength(1);
    } finally {
      await gateway.stop();
    }
  });
});
