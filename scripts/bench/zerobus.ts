import { parseArgs } from 'node:util';
import { createLogger } from '../../common/logger.ts';
import { BRONZE_MESSAGE, descriptorBytes } from '../../common/records/schemas.ts';
import { DEFAULT_MAX_INFLIGHT_BATCHES, zerobusSchema } from '../../relay/config.ts';
import { CALL_ENVELOPE_BYTES, MAX_CALL_BYTES, ZerobusClient } from '../../relay/zerobus/client.ts';
import { runBareStream } from './bare-stream.ts';
import { startEmulatorProcess, type EmulatorProcess } from './emulator-process.ts';
import { describeMachine, machine } from './machine.ts';
import { measure, type RunCost } from './measure.ts';
import { buildInput, type BenchInput } from './zerobus-input.ts';
import { fmt, reportLines, roundTo, summarize, type RunResult } from './zerobus-report.ts';

/**
 * npm run bench:zerobus: the relay's ZerobusClient against a bare grpc-js stream, both sending
 * the same batches over one stream to the emulator (a child process), in alternating rounds.
 * The last line of output is one JSON object.
 */
const DEFAULT_RECORDS = 1_000_000;
const DEFAULT_BATCH = 500;
const DEFAULT_REPEAT = 5;
const WORKSPACE_ID = '1234567890123456';
const CLIENT_ID = 'bench';
const CLIENT_SECRET = 'bench-secret';
const CLOSE_GRACE_MS = 10_000;
/** A run in which nothing moves for this long has hung: fail rather than wait forever. */
const STALL_MS = 30_000;
/** A whole run taking longer than this has hung, even if something still moves now and then. */
const RUN_TIMEOUT_MS = 300_000;
/** Throughput is in MB of record bytes, 10^6 each. */
const BYTES_PER_MB = 1_000_000;
/** RSS is shown in MiB, as process managers show it. */
const RSS_BYTES_PER_MB = 1024 * 1024;

const MESSAGE = BRONZE_MESSAGE.mqtt;
const EXIT_USAGE = 2;

interface Options {
  records: number;
  batch: number;
  inflight: number;
  repeat: number;
}

const say = (line = '') => process.stdout.write(`${line}\n`);

function options(): Options {
  const { values } = parseArgs({
    options: {
      records: { type: 'string', default: String(DEFAULT_RECORDS) },
      batch: { type: 'string', default: String(DEFAULT_BATCH) },
      inflight: { type: 'string', default: String(DEFAULT_MAX_INFLIGHT_BATCHES) },
      repeat: { type: 'string', default: String(DEFAULT_REPEAT) },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    say('usage: npm run bench:zerobus -- [--records N] [--batch N] [--inflight N] [--repeat N]');
    say(`  --records   records per run (default ${DEFAULT_RECORDS})`);
    say(`  --batch     records per batch, as the gateway enqueues them (default ${DEFAULT_BATCH})`);
    say(`  --inflight  batches sent but not acked, both runs (default: the relay's max_inflight_batches, ${DEFAULT_MAX_INFLIGHT_BATCHES})`);
    say(`  --repeat    rounds of bare then client; medians are reported, best figures beside them (default ${DEFAULT_REPEAT})`);
    process.exit(0);
  }
  const int = (name: string, text: string | undefined) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1) {
      process.stderr.write(`bench:zerobus: --${name}: expected a whole number >= 1, got ${text}\n`);
      process.exit(EXIT_USAGE);
    }
    return n;
  };
  return { records: int('records', values.records), batch: int('batch', values.batch), inflight: int('inflight', values.inflight), repeat: int('repeat', values.repeat) };
}

async function bareRun(emulator: EmulatorProcess, input: BenchInput, o: Options, table: string): Promise<RunCost> {
  const { cost } = await measure(
    () =>
      runBareStream({
        grpcAddress: emulator.grpcAddress,
        workspaceUrl: emulator.workspaceUrl,
        workspaceId: WORKSPACE_ID,
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        table,
        descriptorProto: descriptorBytes(MESSAGE),
        requests: input.bareRequests,
        window: o.inflight,
        maxSendBytes: MAX_CALL_BYTES + CALL_ENVELOPE_BYTES,
        stallMs: STALL_MS,
      }),
    emulator.cpuSeconds,
  );
  return cost;
}

async function clientRun(emulator: EmulatorProcess, input: BenchInput, o: Options, table: string): Promise<RunCost> {
  const config = zerobusSchema.parse({
    endpoint: emulator.grpcAddress,
    workspace_url: emulator.workspaceUrl,
    workspace_id: WORKSPACE_ID,
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
    insecure: true,
    max_inflight_batches: o.inflight,
  });
  const log = createLogger({ name: 'bench', level: 'warn' });
  const batches = input.base64Batches;
  const { cost } = await measure(async () => {
    const client = new ZerobusClient(config, log);
    let next = 0;
    // As many callers as the window: each awaits its batch's durability, then takes the next.
    const caller = async () => {
      while (next < batches.length) {
        const records = batches[next++] ?? [];
        await client.ingest({ table, messageType: MESSAGE, recordType: 'proto', records });
      }
    };
    await Promise.all(Array.from({ length: o.inflight }, caller));
    await client.close(CLOSE_GRACE_MS);
  }, emulator.cpuSeconds);
  return cost;
}

async function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms)));
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function checkLanded(emulator: EmulatorProcess, table: string, expected: number): Promise<void> {
  const rows = await emulator.count(table);
  if (rows !== expected) throw new Error(`DATA LOSS OR DUPLICATES: ${table} has ${rows} rows after sending ${expected} records`);
}

async function main(): Promise<number> {
  const o = options();
  const host = machine();
  say(describeMachine(host));
  let t0 = Date.now();
  const input = buildInput(o.records, o.batch);
  const recordBytes = input.recordBytes / input.records;
  const inputRssMb = process.memoryUsage.rss() / RSS_BYTES_PER_MB;
  say(`input: ${fmt(o.records)} MqttReading records, mean ${fmt(recordBytes, 1)} bytes (protobuf), ${fmt(input.bareRequests.length)} batches of ${o.batch}, built in ${fmt((Date.now() - t0) / 1000, 1)} s; RSS with the input held: ${fmt(inputRssMb)} MB`);
  say(`  client run: ZerobusClient.ingest() fed base64 strings (IngestBatch.records, as a BullMQ job carries them), ${o.inflight} callers so ${o.inflight} batches in flight`);
  say(`  bare run:   grpc-js makeBidiStreamRequest, requests pre-serialized with wire.ts before timing and written with an identity serializer, window ${o.inflight}`);
  say(`  timed per run: token fetch, stream open, every batch, the last ack, close; ${o.repeat} rounds of bare then client; headline figures are medians, best figures beside them`);

  t0 = Date.now();
  const emulator = await startEmulatorProcess();
  say(`emulator: pid ${emulator.pid}, gRPC ${emulator.grpcAddress}, ${emulator.workspaceUrl}, started in ${fmt((Date.now() - t0) / 1000, 1)} s`);
  const onSignal = (signal: NodeJS.Signals) => {
    say(`${signal}: stopping the emulator`);
    void emulator.stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const runs: RunResult[] = [];
  try {
    for (let round = 1; round <= o.repeat; round++) {
      for (const kind of ['bare', 'client'] as const) {
        const table = `main.bench.${kind}_${process.pid}_r${round}`;
        const run = kind === 'bare' ? bareRun(emulator, input, o, table) : clientRun(emulator, input, o, table);
        const cost = await withTimeout(run, RUN_TIMEOUT_MS, `${kind} run ${round}`);
        await checkLanded(emulator, table, o.records);
        await emulator.discardRows(table);
        const seconds = cost.wallMs / 1000;
        const result: RunResult = { kind, round, records: o.records, recordsPerS: o.records / seconds, mbPerS: input.recordBytes / BYTES_PER_MB / seconds, cost };
        runs.push(result);
        say(`  ${kind} #${round}: ${fmt(o.records)} rows landed in ${table} (checked), ${fmt(result.recordsPerS)} records/s`);
      }
    }
  } finally {
    await emulator.stop();
  }

  const summary = summarize(runs);
  say();
  for (const line of reportLines(runs, summary)) say(line);
  say(
    JSON.stringify({
      bench: 'zerobus',
      machine: host,
      records: o.records,
      batch: o.batch,
      inflight: o.inflight,
      repeat: o.repeat,
      record_bytes: roundTo(recordBytes, 1),
      client_input: 'base64',
      bare_serializer: 'identity (pre-serialized requests)',
      input_rss_mb: roundTo(inputRssMb, 1),
      ...summary.json,
    }),
  );
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench:zerobus failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
