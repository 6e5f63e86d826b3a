import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { BATCH_JOB_NAME, BATCH_JOB_VERSION, queueNameFor, type BatchJob } from '../../common/batch.ts';
import { freePort } from '../../common/net/free-port.ts';
import { BRONZE_MESSAGE } from '../../common/records/schemas.ts';
import { deletePrefix } from '../../common/redis/delete-prefix.ts';
import { DEFAULT_WORKER_CONCURRENCY } from '../../relay/config.ts';
import type { RelayStatus } from '../../relay/status.ts';
import { startCpuMeter, type CpuShares } from './cpu.ts';
import { startEmulatorProcess, type EmulatorProcess } from './emulator-process.ts';
import { describeMachine, machine } from './machine.ts';
import { formatRun, notes, runJson, type RunFigures } from './relay-report.ts';
import { buildInput } from './zerobus-input.ts';

/**
 * npm run bench:relay: queue to emulator records/s through relay processes (relay/main.ts),
 * with one relay and with two on the same queue, against a bare BullMQ consumer whose
 * processor does nothing, all in the same run. Each run's jobs are queued while the queue is
 * paused; timing starts at resume and ends when every job has completed (and every row is
 * checked in the emulator). Each run also shows the CPU of every process involved (relays,
 * emulator, Redis, this process) and of the whole machine, and the relays' ack latency, so the
 * output says what set the pace. --ack-delay-ms makes the emulator ack as late as Zerobus does
 * (about 150 ms at p50). The last line of output is one JSON object.
 */
const DEFAULT_RECORDS = 200_000;
const DEFAULT_BATCH = 500;
const WORKSPACE_ID = '1234567890123456';
const ADD_CHUNK = 500;
/**
 * Jobs every consumer takes before the clock starts: opening the Zerobus stream, fetching its
 * token and the JIT compiling the hot path would otherwise weigh on short runs; the relays
 * measured are meant to be running already, as they are in production.
 */
const WARMUP_JOBS = 50;
const POLL_MS = 25;
const RELAY_START_TIMEOUT_MS = 30_000;
const RUN_TIMEOUT_MS = 300_000;
const STOP_GRACE_MS = 10_000;
const EXIT_USAGE = 2;
const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

interface Options {
  records: number;
  batch: number;
  concurrency: number;
  ackDelayMs: number;
}

const say = (line = '') => process.stdout.write(`${line}\n`);
const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

function options(): Options {
  const { values } = parseArgs({
    options: {
      records: { type: 'string', default: process.env.BENCH_RECORDS ?? String(DEFAULT_RECORDS) },
      batch: { type: 'string', default: String(DEFAULT_BATCH) },
      concurrency: { type: 'string', default: String(DEFAULT_WORKER_CONCURRENCY) },
      'ack-delay-ms': { type: 'string', default: '0' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    say('usage: npm run bench:relay -- [--records N] [--batch N] [--concurrency N]');
    say(`  --records      records per run (default ${DEFAULT_RECORDS}, or $BENCH_RECORDS)`);
    say(`  --batch        records per job, as the gateway enqueues them (default ${DEFAULT_BATCH})`);
    say(`  --concurrency  jobs in progress per relay, and for the bare consumer (default ${DEFAULT_WORKER_CONCURRENCY})`);
    say('  --ack-delay-ms the emulator delays every durability ack this long (default 0; Zerobus takes about 150 ms at p50)');
    say('  Redis: $REDIS_URL (default redis://127.0.0.1:6379), under a key prefix of its own, removed afterwards.');
    process.exit(0);
  }
  const int = (name: string, text: string | undefined, min = 1) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < min) {
      process.stderr.write(`bench:relay: --${name}: expected a whole number >= ${min}, got ${text}\n`);
      process.exit(EXIT_USAGE);
    }
    return n;
  };
  return {
    records: int('records', values.records),
    batch: int('batch', values.batch),
    concurrency: int('concurrency', values.concurrency),
    ackDelayMs: int('ack-delay-ms', values['ack-delay-ms'], 0),
  };
}

/** Queues the batches on a paused queue: nothing runs until resume(). */
async function fill(queue: Queue<BatchJob>, table: string, batches: string[][], idPrefix = 'b'): Promise<void> {
  await queue.pause();
  for (let i = 0; i < batches.length; i += ADD_CHUNK) {
    await queue.addBulk(
      batches.slice(i, i + ADD_CHUNK).map((records, j) => ({
        name: BATCH_JOB_NAME,
        data: { v: BATCH_JOB_VERSION, table, messageType: BRONZE_MESSAGE.mqtt, recordType: 'proto', records, gatewayId: 'bench', createdAtMs: Date.now() },
        opts: { jobId: `${idPrefix}${i + j}`, removeOnComplete: true },
      })),
    );
  }
}

/** Resumes the queue and waits until every job has completed; returns the seconds it took. */
async function timeDrain(queue: Queue<BatchJob>, jobs: number): Promise<number> {
  const t0 = performance.now();
  await queue.resume();
  const deadline = Date.now() + RUN_TIMEOUT_MS;
  for (;;) {
    const c = await queue.getJobCounts('wait', 'prioritized', 'active', 'delayed', 'failed');
    if ((c.wait ?? 0) + (c.prioritized ?? 0) + (c.active ?? 0) + (c.delayed ?? 0) === 0) {
      if ((c.failed ?? 0) > 0) throw new Error(`${c.failed} jobs failed`);
      return (performance.now() - t0) / 1000;
    }
    if (Date.now() > deadline) throw new Error(`the queue did not drain within ${RUN_TIMEOUT_MS} ms (${jobs} jobs)`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** Runs the warm-up jobs through the consumers already started, then queues the measured ones on the paused queue. */
async function warmUpThenFill(queue: Queue<BatchJob>, table: string, batches: string[][]): Promise<void> {
  await timeDrain(queue, WARMUP_JOBS);
  await fill(queue, table, batches);
}

async function bareRun(redisUrl: string, prefix: string, table: string, batches: string[][], o: Options): Promise<RunFigures> {
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue<BatchJob>(queueNameFor(table), { connection, prefix });
  await fill(queue, table, batches.slice(0, WARMUP_JOBS), 'w');
  const worker = new Worker<BatchJob>(queueNameFor(table), async () => undefined, { connection, prefix, concurrency: o.concurrency });
  await worker.waitUntilReady();
  try {
    await warmUpThenFill(queue, table, batches);
    const cpu = await startCpuMeter({ processes: {}, redis: connection });
    const seconds = await timeDrain(queue, batches.length);
    return { seconds, records: o.records, jobs: batches.length, cpu: await cpu(seconds * 1000), ackLatencyMs: undefined };
  } finally {
    await worker.close();
    await queue.close();
    connection.disconnect();
  }
}

interface RelayChild {
  child: ChildProcess;
  exited: Promise<number | null>;
  url: string;
}

async function startRelays(count: number, o: { dir: string; redisUrl: string; prefix: string; table: string; emulator: EmulatorProcess; concurrency: number }): Promise<RelayChild[]> {
  const relays: RelayChild[] = [];
  for (let i = 1; i <= count; i++) {
    const port = await freePort();
    const file = join(o.dir, `relay-${count}-${i}.yaml`);
    writeFileSync(
      file,
      `relay: { id: bench-relay-${i} }
log: { level: warn }
redis: { url: ${JSON.stringify(o.redisUrl)}, prefix: ${o.prefix} }
http: { host: 127.0.0.1, port: ${port} }
zerobus:
  endpoint: ${o.emulator.grpcAddress}
  workspace_url: ${o.emulator.workspaceUrl}
  workspace_id: "${WORKSPACE_ID}"
  client_id: bench
  client_secret: bench-secret
  insecure: true
workers: { tables: [${o.table}], concurrency: ${o.concurrency} }
`,
    );
    const child = spawn(process.execPath, ['--import', 'tsx', 'relay/main.ts', '--config', file], { stdio: ['ignore', 'ignore', 'inherit'] });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    relays.push({ child, exited, url: `http://127.0.0.1:${port}` });
    const deadline = Date.now() + RELAY_START_TIMEOUT_MS;
    while (!(await fetch(`http://127.0.0.1:${port}/ready`).then((r) => r.ok, () => false))) {
      if (child.exitCode !== null) throw new Error(`relay ${i} exited with ${child.exitCode} before it was ready`);
      if (Date.now() > deadline) throw new Error(`relay ${i} was not ready within ${RELAY_START_TIMEOUT_MS} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return relays;
}

async function stopRelays(relays: RelayChild[]): Promise<void> {
  await Promise.all(
    relays.map(async ({ child, exited }) => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    }),
  );
}

/** The relays' own ack latency (send to durability ack) over the run; the worst p50 and p99 of them. */
async function ackLatency(relays: RelayChild[]): Promise<{ p50: number; p99: number } | undefined> {
  const seen = await Promise.all(
    relays.map(async (r) => {
      const status = (await (await fetch(`${r.url}/status`)).json()) as RelayStatus;
      return status.tables[0]?.ackLatencyMs;
    }),
  );
  const known = seen.filter((l): l is { p50: number; p99: number } => typeof l?.p50 === 'number' && typeof l.p99 === 'number');
  return known.length === 0 ? undefined : { p50: Math.max(...known.map((l) => l.p50)), p99: Math.max(...known.map((l) => l.p99)) };
}

async function relayRun(count: number, o: Options & { dir: string; redisUrl: string; prefix: string; emulator: EmulatorProcess }, batches: string[][]): Promise<RunFigures> {
  const table = `main.bench.relay${count}_${process.pid}`;
  const connection = new Redis(o.redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue<BatchJob>(queueNameFor(table), { connection, prefix: o.prefix });
  const warmup = batches.slice(0, WARMUP_JOBS);
  await fill(queue, table, warmup, 'w');
  const relays = await startRelays(count, { ...o, table });
  try {
    await warmUpThenFill(queue, table, batches);
    const warmupRecords = warmup.reduce((n, b) => n + b.length, 0);
    const processes: Record<string, number | undefined> = { emulator: o.emulator.pid };
    relays.forEach((r, i) => (processes[`relay${i + 1}`] = r.child.pid));
    const cpu = await startCpuMeter({ processes, redis: connection });
    const seconds = await timeDrain(queue, batches.length);
    const shares: CpuShares = await cpu(seconds * 1000);
    const latency = await ackLatency(relays);
    const rows = (await o.emulator.count(table)) - warmupRecords;
    if (rows !== o.records) throw new Error(`DATA LOSS OR DUPLICATES: ${table} has ${rows} rows after ${o.records} records were queued (warm-up rows left out)`);
    await o.emulator.discardRows(table);
    return { seconds, records: o.records, jobs: batches.length, cpu: shares, ackLatencyMs: latency };
  } finally {
    await stopRelays(relays);
    await queue.close();
    connection.disconnect();
  }
}

async function main(): Promise<number> {
  const o = options();
  const host = machine();
  say(describeMachine(host));
  const redisUrl = process.env.REDIS_URL ?? DEFAULT_REDIS_URL;
  const prefix = `bench-relay-${process.pid}`;
  const input = buildInput(o.records, o.batch);
  const batches = input.base64Batches;
  say(`input: ${fmt(o.records)} MqttReading records (${fmt(input.recordBytes / o.records, 1)} bytes each, protobuf) in ${fmt(batches.length)} jobs of ${o.batch}; Redis ${redisUrl}, prefix ${prefix}`);
  say(`  each run: consumers started and warmed up on ${WARMUP_JOBS} jobs (not timed), then jobs queued on the paused queue, timed from resume until every job completed; concurrency ${o.concurrency} per consumer`);
  say(`  relay runs: relay/main.ts child processes writing to the emulator (a child process, acks delayed ${o.ackDelayMs} ms); every row is counted after the run`);
  say('  bare run:   a BullMQ Worker in this process whose processor does nothing');
  say(`  CPU: % of one core over the run (${host.cores} cores = ${host.cores * 100} %); Redis counts every client it served; "others" is machine time none of these used`);

  const emulator = await startEmulatorProcess(o.ackDelayMs > 0 ? `faults: { ack_delay_ms: ${o.ackDelayMs} }\n` : '');
  const dir = mkdtempSync(join(tmpdir(), 'bench-relay-'));
  const cleanup = async () => {
    await emulator.stop();
    rmSync(dir, { recursive: true, force: true });
    await deletePrefix(prefix, redisUrl).catch(() => undefined);
  };
  process.once('SIGINT', () => void cleanup().finally(() => process.exit(130)));
  const runs: Record<string, RunFigures> = {};
  try {
    runs.bare = await bareRun(redisUrl, prefix, `main.bench.bare_${process.pid}`, batches, o);
    say(formatRun('bare:    ', runs.bare));
    for (const count of [1, 2]) {
      const run = await relayRun(count, { ...o, dir, redisUrl, prefix, emulator }, batches);
      runs[`relay${count}`] = run;
      say(formatRun(`${count} relay${count > 1 ? 's' : ' '}:`, run, `, ${fmt(o.records)} rows checked`));
    }
  } finally {
    await cleanup();
  }
  const rate = (run: RunFigures | undefined) => (run ? run.records / run.seconds : 0);
  const one = rate(runs.relay1);
  const two = rate(runs.relay2);
  const bare = rate(runs.bare);
  say();
  say(`relay / bare consumer: ${fmt(one / bare, 3)} with one relay, ${fmt(two / bare, 3)} with two; two relays / one: ${fmt(two / one, 2)}`);
  const found = notes(runs, { cores: host.cores, concurrency: o.concurrency, batch: o.batch });
  for (const line of found.lines) say(`note: ${line}`);
  say(
    JSON.stringify({
      bench: 'relay',
      machine: host,
      records: o.records,
      batch: o.batch,
      concurrency: o.concurrency,
      ack_delay_ms: o.ackDelayMs,
      records_per_s_1: Math.round(one),
      records_per_s_2: Math.round(two),
      bare_records_per_s: Math.round(bare),
      ratio: Math.round((one / bare) * 1000) / 1000,
      ratio_2: Math.round((two / bare) * 1000) / 1000,
      scaling_2_over_1: Math.round((two / one) * 100) / 100,
      emulator_bound: found.emulatorBound,
      machine_saturated: found.machineSaturated,
      runs: Object.fromEntries(Object.entries(runs).map(([name, run]) => [name, runJson(run)])),
    }),
  );
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench:relay failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
