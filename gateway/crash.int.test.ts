import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { connectAsync } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBatchJob, queueNameFor } from '../common/batch.ts';
import { decodeRecord } from '../common/records/encode.ts';
import { startBroker, type Broker } from '../test/helpers/mosquitto.ts';
import { freePort } from '../test/helpers/ports.ts';
import { startRedisServer } from '../test/helpers/redis-server.ts';
import { until } from '../test/helpers/wait.ts';
import type { GatewayStatus } from './status.ts';

const TABLE = 'main.iot.crash';
const MARK = 'plain-secret-';
const KEY = randomBytes(32).toString('base64');
const START_DEADLINE_MS = 30_000;

/** The gateway as a child process, as an operator runs it. */
function gateway(configFile: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'gateway/main.ts', '--config', configFile], {
    cwd: join(import.meta.dirname, '..'),
    env: { PATH: process.env.PATH, SPOOL_KEY: KEY },
  });
  let stdout = '';
  child.stdout.on('data', (d) => (stdout += String(d)));
  child.stderr.on('data', (d) => (stdout += String(d)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const lines = () =>
    stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  const started = until('the start line', () => lines().find((l) => l.msg === 'Gateway started.'), START_DEADLINE_MS);
  const status = async () => {
    const port = (await started).httpPort;
    return (await (await fetch(`http://127.0.0.1:${String(port)}/status`)).json()) as GatewayStatus;
  };
  return { child, exited, lines, started, status };
}

describe('the gateway killed with SIGKILL while spooling', () => {
  let broker: Broker;
  let dir: string;
  beforeAll(async () => {
    broker = await startBroker();
    dir = await mkdtemp(join(tmpdir(), 'gw-crash-'));
  });
  afterAll(async () => {
    await broker?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('loses nothing it had spooled: the next run delivers it all, keeps the spool encrypted, and reloads on SIGHUP', async () => {
    const redisPort = await freePort();
    const spoolDir = join(dir, 'spool');
    const file = join(dir, 'gateway.yaml');
    const source = (name: string) =>
      `  - name: ${name}\n    table: ${TABLE}\n    mqtt: { url: "${broker.url}", reconnect_period_ms: 100, subscriptions: [{ topic: "${name}/v", format: plain, plain_type: string }] }\n`;
    const head = [
      'gateway: { id: gw-crash }',
      `redis: { url: "redis://127.0.0.1:${redisPort}", prefix: crash }`,
      'http: { port: 0 }',
      'batching: { max_wait_ms: 10 }',
      `spool: { dir: "${spoolDir}", segment_bytes: 16384, encryption: { key: "\${SPOOL_KEY}" } }`,
      'reload: { watch: false }',
      'sources:',
      '',
    ].join('\n');
    await writeFile(file, head + source('k'));

    // Run 1: Redis is down from the start, so everything goes to the spool.
    const first = gateway(file);
    const runId = String((await first.started).runId);
    await until('subscribed', async () => (await first.status()).sources[0]?.state === 'connected');
    const publisher = await connectAsync(broker.url, { clientId: `crash-pub-${process.pid}` });
    let sending = true;
    let sent = 0;
    const publishing = (async () => {
      while (sending) {
        await Promise.all(Array.from({ length: 20 }, () => publisher.publishAsync('k/v', `${MARK}${++sent}`, { qos: 1 })));
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    let spooled = 0;
    await until(
      'a good part spooled',
      async () => {
        spooled = (await first.status()).tables[TABLE]?.recordsSpooled ?? 0;
        return spooled >= 1500;
      },
      30_000,
    );
    // The spool on disk holds none of the values in the clear.
    const segments = (await readdir(spoolDir)).filter((f) => f.endsWith('.seg'));
    const onDisk = Buffer.concat(await Promise.all(segments.map((f) => readFile(join(spoolDir, f)))));
    expect(onDisk.length).toBeGreaterThan(16384);
    expect(onDisk.includes(MARK)).toBe(false);
    expect(onDisk.includes(TABLE)).toBe(false);

    first.child.kill('SIGKILL');
    expect(await first.exited).toBe(null);
    sending = false;
    await publishing;
    await publisher.endAsync();

    // Run 2, with Redis back: it drains what run 1 spooled, oldest first.
    const redis = await startRedisServer(redisPort);
    const second = gateway(file);
    try {
      await second.started;
      expect(second.lines().find((l) => l.msg === 'Spool holds batches from an earlier run; delivering them before new data.')).toBeDefined();
      await until('the spool drained', async () => {
        const s = await second.status();
        return s.spool.enabled && s.spool.batches === 0 && !s.spooling;
      }, 30_000);

      const queue = new Queue(queueNameFor(TABLE), { connection: { url: redis.url }, prefix: 'crash' });
      try {
        const jobs = await queue.getJobs(['waiting'], 0, -1, true);
        const rows = jobs.flatMap((j) => {
          assertBatchJob(j.data);
          const job = j.data;
          return job.records.map((r) => decodeRecord(job.messageType, r));
        });
        const run1 = rows.filter((r) => r.run_id === runId);
        // Everything run 1 reported as spooled (and maybe a few more written just before the kill), without gap or repeat.
        expect(run1.length).toBeGreaterThanOrEqual(spooled);
        expect(run1.map((r) => r.seq)).toEqual(Array.from({ length: run1.length }, (_, i) => i + 1));
        expect(run1.map((r) => r.value_string)).toEqual(run1.map((r) => `${MARK}${String(r.seq)}`));
      } finally {
        await queue.close();
      }

      // SIGHUP reloads the file: a second source appears without a restart.
      await writeFile(file, head + source('k') + source('k2'));
      second.child.kill('SIGHUP');
      await until('k2 added on SIGHUP', async () => (await second.status()).sources.some((s) => s.name === 'k2' && s.state === 'connected'));
      expect(second.lines().find((l) => l.msg === 'Reloaded the configuration.')).toMatchObject({ trigger: 'sighup', added: ['k2'] });
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
    } finally {
      if (second.child.exitCode === null) second.child.kill('SIGKILL');
      await redis.stop();
    }
  }, 120_000);
});
