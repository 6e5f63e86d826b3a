import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectAsync } from 'mqtt';
import { startBroker } from '../test/helpers/mosquitto.ts';
import { freePort } from '../test/helpers/ports.ts';
import { deletePrefix, testRedisUrl, uniquePrefix } from '../test/helpers/redis.ts';
import type { GatewayStatus } from './status.ts';
import { until } from '../test/helpers/wait.ts';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

const SOURCE = ['sources:', '  - name: a', '    mqtt:', '      url: mqtt://127.0.0.1:1883', '      subscriptions: [{ topic: "plant/#" }]'];

function gateway(args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'gateway/main.ts', ...args], {
    cwd: join(import.meta.dirname, '..'),
    env: { PATH: process.env.PATH, ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += String(d)));
  child.stderr.on('data', (d) => (stderr += String(d)));
  const done = new Promise<Run>((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
  return { child, done, stdout: () => stdout };
}

describe('gateway CLI', () => {
  let dir: string;
  const file = async (name: string, lines: string[]) => {
    const path = join(dir, name);
    await writeFile(path, `${lines.join('\n')}\n`);
    return path;
  };
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gateway-cli-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it.each([
    ['a wrong type', ['batching:', '  max_records: many', ...SOURCE], 'config error: batching.max_records: expected number, got "many"\n'],
    ['an unknown key', ['gateway:', '  idd: x', ...SOURCE], 'config error: gateway.idd: unknown key\n'],
    [
      'a missing required key',
      ['sources:', '  - name: a', '    mqtt:', '      subscriptions: [{ topic: t }]'],
      'config error: sources[0].mqtt.url: required key is missing\n',
    ],
    ['an unset environment variable', ['redis:', '  url: ${GW_TEST_UNSET_URL}', ...SOURCE], 'config error: redis.url: environment variable GW_TEST_UNSET_URL is not set\n'],
    ['an invalid enum value', ['routing:', '  record_type: avro', ...SOURCE], 'config error: routing.record_type: expected one of proto, json; got "avro"\n'],
    [
      'several problems at once',
      ['log:', '  level: loud', 'sources:', '  - name: a', '    mqtt:', '      url: http://h', '      subscriptions: [{ topic: "a/#/b", qos: 3 }]'],
      [
        'config error: log.level: expected one of fatal, error, warn, info, debug, trace, silent; got "loud"',
        'config error: sources[0].mqtt.url: expected an mqtt://, mqtts://, ws:// or wss:// URL, got "http://h"',
        "config error: sources[0].mqtt.subscriptions[0].topic: '#' must be a whole level and the last one, as in site/#",
        'config error: sources[0].mqtt.subscriptions[0].qos: expected one of 0, 1, 2; got number 3',
        '',
      ].join('\n'),
    ],
  ])('--validate refuses %s with the exact message and exit code 2', async (_name, lines, expected) => {
    const run = await gateway(['--validate', '--config', await file('bad.yaml', lines)]).done;
    expect(run).toEqual({ code: 2, stdout: '', stderr: expected });
  });

  it('--validate accepts a valid file with exit code 0', async () => {
    const path = await file('good.yaml', SOURCE);
    expect(await gateway(['--validate', '--config', path]).done).toEqual({ code: 0, stdout: `config ok: ${path}\n`, stderr: '' });
  });

  it('--validate accepts the shipped example config', async () => {
    const run = await gateway(['--validate', '--config', 'config/gateway.example.yaml']).done;
    expect(run).toEqual({ code: 0, stdout: 'config ok: config/gateway.example.yaml\n', stderr: '' });
  });

  it('takes the config path from GATEWAY_CONFIG', async () => {
    const path = await file('env.yaml', SOURCE);
    expect((await gateway(['--validate'], { GATEWAY_CONFIG: path }).done).code).toBe(0);
  });

  it('says when the file cannot be read', async () => {
    const path = join(dir, 'absent.yaml');
    expect(await gateway(['--validate', '--config', path]).done).toEqual({ code: 2, stdout: '', stderr: `config error: (file): cannot read ${path}: ENOENT\n` });
  });

  it('refuses to start on a bad config without --validate: exit 2, no log line, nothing started', async () => {
    const run = await gateway(['--config', await file('bad2.yaml', ['gateway:', '  idd: x', ...SOURCE])]).done;
    expect(run).toEqual({ code: 2, stdout: '', stderr: 'config error: gateway.idd: unknown key\n' });
  });

  it('refuses an unknown option with usage and exit code 2', async () => {
    const run = await gateway(['--bogus']).done;
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('usage: gateway [--config FILE] [--validate]');
  });

  it('starts, logs its identity, and on SIGTERM stops and exits 0', async () => {
    const prefix = uniquePrefix('cli');
    const brokerPort = await freePort();
    const path = await file('run.yaml', [
      'gateway: { id: gw-cli }',
      `redis: { url: ${testRedisUrl()}, prefix: ${prefix} }`,
      'http: { port: 0 }',
      'sources:',
      '  - name: a',
      '    mqtt:',
      `      url: mqtt://127.0.0.1:${brokerPort}`,
      '      subscriptions: [{ topic: "plant/#" }]',
    ]);
    const proc = gateway(['--config', path]);
    const started = await until('the start line', () =>
      proc
        .stdout()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .find((l) => l.msg === 'Gateway started.'),
    );
    expect(started).toMatchObject({ gatewayId: 'gw-cli', runId: expect.any(String), sources: ['a'], tables: ['main.iot.mqtt_bronze'], httpPort: expect.any(Number) });
    proc.child.kill('SIGTERM');
    const run = await proc.done;
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('"msg":"Gateway stopped."');
    await deletePrefix(prefix, testRedisUrl());
  });

  describe('with Redis unreachable', () => {
    /** Starts the gateway against a live broker and a dead Redis, and waits for one batch to be pending. */
    async function startWithPendingBatch(stopTimeoutMs: number) {
      const broker = await startBroker();
      const redisPort = await freePort();
      const path = await file(`dead-redis-${stopTimeoutMs}.yaml`, [
        `gateway: { id: gw-dead, stop_timeout_ms: ${stopTimeoutMs} }`,
        `redis: { url: "redis://127.0.0.1:${redisPort}" }`,
        'http: { port: 0 }',
        'batching: { max_wait_ms: 10 }',
        'sources:',
        '  - name: a',
        '    mqtt:',
        `      url: ${broker.url}`,
        '      subscriptions: [{ topic: "plant/#" }]',
      ]);
      const proc = gateway(['--config', path]);
      const lines = () =>
        proc
          .stdout()
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as Record<string, unknown>);
      const started = await until('the start line', () => lines().find((l) => l.msg === 'Gateway started.'));
      const status = async () => (await (await fetch(`http://127.0.0.1:${String(started.httpPort)}/status`)).json()) as GatewayStatus;
      await until('subscribed', async () => (await status()).sources[0]?.state === 'connected');
      const pub = await connectAsync(broker.url);
      await pub.publishAsync('plant/t', '{"value": 1}', { qos: 1 });
      await pub.endAsync();
      // Pending, and the first write to the dead Redis has failed (so its warning is logged).
      await until('one batch pending after a failed write', async () => {
        const s = await status();
        return s.queue.batches === 1 && s.redis.consecutiveFailures >= 1;
      });
      return { proc, lines, broker };
    }

    it('keeps the batch, warns once, and at stop logs what was lost at ERROR and exits 0', async () => {
      const { proc, lines, broker } = await startWithPendingBatch(300);
      proc.child.kill('SIGTERM');
      const run = await proc.done;
      await broker.stop();
      expect(run.code).toBe(0);
      expect(lines().filter((l) => l.msg === 'Cannot write batches to Redis; keeping them in memory and retrying.')).toHaveLength(1);
      expect(lines().find((l) => l.level === 'error')).toMatchObject({ msg: 'Lost batches that were neither written to Redis nor spooled before shutdown.', reason: 'shutdown', batches: 1, records: 1 });
    });

    it('exits 1 at once on a second signal while the stop is still waiting', async () => {
      const { proc, lines, broker } = await startWithPendingBatch(60_000);
      proc.child.kill('SIGTERM');
      await until('the stop begun', () => lines().some((l) => l.msg === 'Stopping gateway.'));
      proc.child.kill('SIGINT');
      const run = await proc.done;
      await broker.stop();
      expect(run.code).toBe(1);
      expect(lines().map((l) => l.msg)).toContain('Second signal; exiting without waiting for the stop to finish.');
    });
  });
});
