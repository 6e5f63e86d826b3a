import { parseArgs } from 'node:util';
import { connect, connectAsync, type MqttClient } from 'mqtt';
import { createLogger } from '../../common/logger.ts';
import { mqttConfigSchema } from '../../gateway/sources/mqtt/config.ts';
import { AckBatch } from '../../gateway/sources/mqtt/ack-batch.ts';
import { MqttSource } from '../../gateway/sources/mqtt/driver.ts';
import type { SourceContext } from '../../gateway/sources/types.ts';
import { startBroker, type Broker } from '../../test/helpers/mosquitto.ts';
import { describeMachine, machine } from './machine.ts';
import { measure, type RunCost } from './measure.ts';
import { processCpuSeconds } from './cpu.ts';

/**
 * npm run bench:mqtt: readings/s from a Mosquitto broker through the MQTT source (routing,
 * JSON decoding, tag templates) to the pipeline's entry point, SourceContext.emit, against a
 * bare mqtt.js subscriber that only counts messages, in the same run. The source sends the
 * acknowledgements of a burst in one write (gateway/sources/mqtt/ack-batch.ts), which a bare
 * subscriber does not: a third run, the bare subscriber with that same batching, shows what
 * the source's own work costs, like for like.
 *
 * Each run drains a backlog: the subscriber's persistent session (clean: false, QoS 1) is
 * created, the subscriber goes away, N messages are published and queued at the broker, and
 * the clock runs from reconnecting until the N-th message arrives. So the publisher's pace
 * never limits the figure, and both subscribers get the same queue. The last line of output
 * is one JSON object.
 */
const DEFAULT_MESSAGES = 200_000;
const DEFAULT_REPEAT = 3;
const DEVICES = 100;
const TOPIC_FILTER = 'bench/+/data';
const RUN_TIMEOUT_MS = 300_000;
const PUBLISH_WINDOW = 1_000;
const TARGET_RATIO = 0.8;
const EXIT_USAGE = 2;

interface Options {
  messages: number;
  repeat: number;
}

const KINDS = ['bare', 'bare_batched', 'source'] as const;

interface Run {
  kind: (typeof KINDS)[number];
  round: number;
  perS: number;
  cost: RunCost;
}

const say = (line = '') => process.stdout.write(`${line}\n`);
const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const round3 = (n: number) => Math.round(n * 1000) / 1000;

function options(): Options {
  const { values } = parseArgs({
    options: {
      messages: { type: 'string', default: String(DEFAULT_MESSAGES) },
      repeat: { type: 'string', default: String(DEFAULT_REPEAT) },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    say('usage: npm run bench:mqtt -- [--messages N] [--repeat N]');
    say(`  --messages  messages per run (default ${DEFAULT_MESSAGES})`);
    say(`  --repeat    rounds of bare, bare_batched and source; medians are reported (default ${DEFAULT_REPEAT})`);
    process.exit(0);
  }
  const int = (name: string, text: string | undefined) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1) {
      process.stderr.write(`bench:mqtt: --${name}: expected a whole number >= 1, got ${text}\n`);
      process.exit(EXIT_USAGE);
    }
    return n;
  };
  return { messages: int('messages', values.messages), repeat: int('repeat', values.repeat) };
}

/** The JSON payloads gateways typically see: a value and an ISO timestamp. */
function payloads(n: number): Array<{ topic: string; payload: Buffer }> {
  const base = Date.parse('2024-05-01T12:00:00Z');
  return Array.from({ length: n }, (_, i) => ({
    topic: `bench/dev${i % DEVICES}/data`,
    payload: Buffer.from(JSON.stringify({ value: Math.round(Math.sin(i) * 10_000) / 100, ts: new Date(base + i).toISOString() })),
  }));
}

async function publishAll(url: string, messages: Array<{ topic: string; payload: Buffer }>): Promise<void> {
  const pub = await connectAsync(url, { clientId: `bench-pub-${process.pid}` });
  for (let i = 0; i < messages.length; i += PUBLISH_WINDOW) {
    await Promise.all(messages.slice(i, i + PUBLISH_WINDOW).map((m) => pub.publishAsync(m.topic, m.payload, { qos: 1 })));
  }
  await pub.endAsync();
}

/**
 * Ends a run's persistent session at the broker (a clean connect discards it). Left in place,
 * every later run's messages would also be queued for it: the broker's work and memory would
 * grow round after round, and the rounds would not measure the same thing.
 */
async function dropSession(url: string, clientId: string): Promise<void> {
  const client = await connectAsync(url, { clientId, clean: true });
  await client.endAsync();
}

/** Resolves when count() reaches n; fails if it stops moving for a long time. */
function reached(count: () => number, n: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const timer = setInterval(() => {
      if (count() >= n) {
        clearInterval(timer);
        resolve();
      } else if (Date.now() - started > RUN_TIMEOUT_MS) {
        clearInterval(timer);
        reject(new Error(`only ${count()} of ${n} messages arrived within ${RUN_TIMEOUT_MS} ms`));
      }
    }, 1);
  });
}

async function bareRun(broker: Broker, messages: Array<{ topic: string; payload: Buffer }>, round: number, batched: boolean): Promise<RunCost> {
  const clientId = `bench-bare-${batched ? 'batched-' : ''}${process.pid}-${round}`;
  const acks = new AckBatch();
  const session = await connectAsync(broker.url, { clientId, clean: false });
  await session.subscribeAsync(TOPIC_FILTER, { qos: 1 });
  await session.endAsync();
  await publishAll(broker.url, messages);
  let received = 0;
  let client: MqttClient | undefined;
  const { cost } = await measure(async () => {
    // Listen before the CONNACK: the broker sends the queue right behind it.
    const c = connect(broker.url, { clientId, clean: false });
    client = c;
    c.on('message', (_topic, _payload, packet) => {
      if (batched && packet.qos > 0) acks.hold(c.stream);
      received++;
    });
    await reached(() => received, messages.length);
  }, brokerCpu(broker));
  await client?.endAsync();
  await dropSession(broker.url, clientId);
  return cost;
}

async function sourceRun(broker: Broker, messages: Array<{ topic: string; payload: Buffer }>, round: number): Promise<RunCost> {
  const config = mqttConfigSchema.parse({
    url: broker.url,
    client_id: `bench-source-${process.pid}-${round}`,
    clean: false,
    subscriptions: [{ topic: TOPIC_FILTER, qos: 1, value_path: 'value', timestamp_path: 'ts', tag: '{1}' }],
  });
  const log = createLogger({ name: 'bench', level: 'warn' });
  let readings = 0;
  let rejected = 0;
  const ctx: SourceContext = { emit: () => readings++, reject: () => rejected++, describe: () => undefined, log };
  const warmup = new MqttSource('bench', config);
  await warmup.start(ctx);
  await reached(() => (warmup.status().state === 'connected' ? 1 : 0), 1);
  await warmup.stop();
  await publishAll(broker.url, messages);
  const source = new MqttSource('bench', config);
  const { cost } = await measure(async () => {
    await source.start(ctx);
    await reached(() => readings + rejected, messages.length);
  }, brokerCpu(broker));
  await source.stop();
  await dropSession(broker.url, config.client_id!);
  if (rejected > 0) throw new Error(`${rejected} payloads were rejected: the benchmark input is wrong`);
  return cost;
}

function brokerCpu(broker: Broker): () => number | undefined {
  return () => processCpuSeconds(broker.pid);
}

/** CPU time of this process per message: what each side costs, whatever else shares the machine. */
function cpuUsPer(run: Run, messages: number): number {
  return ((run.cost.cpuUserMs + run.cost.cpuSysMs) * 1000) / messages;
}

function median(runs: Run[], kind: Run['kind']): Run {
  const sorted = runs.filter((r) => r.kind === kind).sort((a, b) => a.perS - b.perS);
  const m = sorted[(sorted.length - 1) >> 1];
  if (!m) throw new Error(`no ${kind} run`);
  return m;
}

async function main(): Promise<number> {
  const o = options();
  const host = machine();
  say(describeMachine(host));
  const messages = payloads(o.messages);
  const meanBytes = messages.reduce((n, m) => n + m.payload.length, 0) / messages.length;
  say(`input: ${fmt(o.messages)} JSON messages of ${fmt(meanBytes, 1)} bytes on ${DEVICES} topics (${TOPIC_FILTER}), QoS 1, queued at the broker before each run`);
  say('  bare run:   mqtt.js client, persistent session, counts messages (one PUBACK write per message, mqtt.js as it comes)');
  say('  bare_batched run: the same, with the PUBACKs of a burst sent in one write, as the source does');
  say('  source run: MqttSource (route, JSON value and timestamp, tag template) emitting readings to a counting SourceContext');
  const broker = await startBroker();
  say(`broker: mosquitto ${broker.url}${broker.pid ? `, pid ${broker.pid}` : ''}`);
  const runs: Run[] = [];
  try {
    for (let round = 1; round <= o.repeat; round++) {
      for (const kind of KINDS) {
        const cost = kind === 'source' ? await sourceRun(broker, messages, round) : await bareRun(broker, messages, round, kind === 'bare_batched');
        const run = { kind, round, perS: o.messages / (cost.wallMs / 1000), cost };
        runs.push(run);
        const peer = cost.peerCpuPct === undefined ? '' : `, broker CPU ${fmt(cost.peerCpuPct)} %`;
        say(`  ${kind} #${round}: ${fmt(run.perS)} messages/s, CPU ${fmt(cost.cpuPct)} %, RSS peak ${fmt(cost.rssPeakMb)} MB${peer}`);
      }
    }
  } finally {
    await broker.stop();
  }
  const bare = median(runs, 'bare');
  const batched = median(runs, 'bare_batched');
  const source = median(runs, 'source');
  const ratio = source.perS / bare.perS;
  const ratioBatched = source.perS / batched.perS;
  say();
  say(`readings/s (median of ${o.repeat}): ${fmt(source.perS)}; bare mqtt.js messages/s: ${fmt(bare.perS)}; ratio ${ratio.toFixed(3)} (target ${TARGET_RATIO})`);
  say(`like for like, against the bare subscriber batching its PUBACKs too: ${fmt(batched.perS)} messages/s, ratio ${ratioBatched.toFixed(3)}`);
  say(
    `CPU per message in this process: source ${fmt(cpuUsPer(source, o.messages), 2)} µs, bare ${fmt(cpuUsPer(bare, o.messages), 2)} µs, bare_batched ${fmt(cpuUsPer(batched, o.messages), 2)} µs`,
  );
  say(
    JSON.stringify({
      bench: 'mqtt',
      machine: host,
      messages: o.messages,
      repeat: o.repeat,
      payload_bytes: Math.round(meanBytes * 10) / 10,
      readings_per_s: Math.round(source.perS),
      bare_per_s: Math.round(bare.perS),
      ratio: round3(ratio),
      batched_bare_per_s: Math.round(batched.perS),
      ratio_vs_batched_bare: round3(ratioBatched),
      batched_bare_cpu_us_per_message: Math.round(cpuUsPer(batched, o.messages) * 100) / 100,
      cpu_pct: Math.round(source.cost.cpuPct),
      bare_cpu_pct: Math.round(bare.cost.cpuPct),
      cpu_us_per_reading: Math.round(cpuUsPer(source, o.messages) * 100) / 100,
      bare_cpu_us_per_message: Math.round(cpuUsPer(bare, o.messages) * 100) / 100,
      rss_mb: Math.round(source.cost.rssPeakMb),
      broker_cpu_pct: source.cost.peerCpuPct === undefined ? null : Math.round(source.cost.peerCpuPct),
      bare_broker_cpu_pct: bare.cost.peerCpuPct === undefined ? null : Math.round(bare.cost.peerCpuPct),
      round_ratios: Array.from({ length: o.repeat }, (_, i) => {
        const b = runs.find((r) => r.kind === 'bare' && r.round === i + 1);
        const s = runs.find((r) => r.kind === 'source' && r.round === i + 1);
        return b && s ? round3(s.perS / b.perS) : null;
      }),
      target_ratio: TARGET_RATIO,
      target_met: ratio >= TARGET_RATIO,
    }),
  );
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench:mqtt failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
