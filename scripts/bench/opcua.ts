import { parseArgs } from 'node:util';
import { benchNodeFlags } from './gateway-flags.ts';
import { describeMachine, machine } from './machine.ts';
import { runClientProcess, startSimProcess, type SimProcess } from './opcua-processes.ts';

/**
 * npm run bench:opcua: the gateway's OPC UA source against a bare node-opcua client, both
 * subscribing the same counter nodes of the simulator (a child process) at 1 s sampling. Each
 * client runs in a fresh process, one after the other, so RSS and CPU are its own, with the
 * node flags of the gateway's npm script (production's; the simulator, not the gateway, runs
 * without). The last line of output is one JSON object.
 */
const DEFAULT_SIZES = [10_000, 50_000];
const DEFAULT_SAMPLING_MS = 1_000;
const DEFAULT_MEASURE_S = 30;
/** Each node changes every two sampling intervals, so sampling sees every change and a skipped tick is a lost notification. */
const CHANGES_PER_SAMPLING = 2;
const CLIENT_TIMEOUT_MS = 600_000;
/** Between runs the simulator must be idle (its CPU below this for two samples): a client's subscriptions are gone. */
const IDLE_CPU_PCT = 10;
const IDLE_SAMPLE_MS = 1_000;
const IDLE_TIMEOUT_MS = 180_000;
const EXIT_USAGE = 2;

/** Targets from issue 5, set against Neuron's published figures. */
export const TARGETS = { rss_mb_10k: 200, rss_mb_50k: 400, subscribe_s_50k: 60, lost: 0 };

const say = (line = '') => process.stdout.write(`${line}\n`);
const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits;

const KINDS = ['bare', 'gateway', 'encode'] as const;

interface Run {
  kind: (typeof KINDS)[number];
  nodes: number;
  subscribe_s: number;
  first_values_s: number;
  notifications_per_s: number;
  lost: number;
  lost_before_window: number;
  cpu_pct: number;
  rss_peak_mb: number;
  rss_end_mb: number;
  sim_cpu_pct: number | null;
}

function options(): { sizes: number[]; samplingMs: number; measureS: number } {
  const { values } = parseArgs({
    options: {
      nodes: { type: 'string', default: DEFAULT_SIZES.join(',') },
      'sampling-ms': { type: 'string', default: String(DEFAULT_SAMPLING_MS) },
      'measure-s': { type: 'string', default: String(DEFAULT_MEASURE_S) },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    say('usage: npm run bench:opcua -- [--nodes 10000,50000] [--sampling-ms 1000] [--measure-s 30]');
    say('  --nodes        subscription sizes, each run by both clients (default 10000,50000)');
    say('  --sampling-ms  sampling and publishing interval; nodes change every two intervals (default 1000)');
    say('  --measure-s    steady-state window per run, after every node delivered a value (default 30)');
    process.exit(0);
  }
  const int = (name: string, text: string) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1) {
      process.stderr.write(`bench:opcua: --${name}: expected a whole number >= 1, got ${text}\n`);
      process.exit(EXIT_USAGE);
    }
    return n;
  };
  return { sizes: values.nodes.split(',').map((s) => int('nodes', s)), samplingMs: int('sampling-ms', values['sampling-ms']), measureS: int('measure-s', values['measure-s']) };
}

async function measured(sim: SimProcess, kind: Run['kind'], nodes: number, samplingMs: number, measureS: number, changeMs: number, nodeFlags: string[]): Promise<Run> {
  const cpu0 = sim.cpuSeconds();
  const t0 = Date.now();
  const r = await runClientProcess(
    ['--kind', kind, '--endpoint', sim.endpointUrl, '--ns', String(sim.namespaceIndex), '--nodes', String(nodes), '--sampling-ms', String(samplingMs), '--measure-s', String(measureS), '--change-ms', String(changeMs)],
    CLIENT_TIMEOUT_MS,
    nodeFlags,
  );
  const cpu1 = sim.cpuSeconds();
  const simCpu = cpu0 === undefined || cpu1 === undefined ? null : ((cpu1 - cpu0) / ((Date.now() - t0) / 1000)) * 100;
  return { ...(r as unknown as Run), kind, sim_cpu_pct: simCpu };
}

/**
 * Waits until the simulator is idle, so a run does not pay for the subscriptions of the one
 * before (a client that exits before its DeleteSubscriptions completes leaves them sampling
 * until their lifetime ends). Returns the seconds waited, or undefined if it never got idle.
 */
async function waitIdle(sim: SimProcess): Promise<number | undefined> {
  const t0 = Date.now();
  let quiet = 0;
  const first = sim.cpuSeconds();
  if (first === undefined) return 0;
  let last: number = first;
  while (Date.now() - t0 < IDLE_TIMEOUT_MS) {
    await new Promise((r) => setTimeout(r, IDLE_SAMPLE_MS));
    const now: number = sim.cpuSeconds() ?? last;
    quiet = ((now - last) * 1000) / IDLE_SAMPLE_MS < IDLE_CPU_PCT / 100 ? quiet + 1 : 0;
    last = now;
    if (quiet >= 2) return (Date.now() - t0) / 1000;
  }
  return undefined;
}

async function main(): Promise<number> {
  const o = options();
  const host = machine();
  say(describeMachine(host));
  const maxNodes = Math.max(...o.sizes);
  const changeMs = o.samplingMs * CHANGES_PER_SAMPLING;
  let t = Date.now();
  const sim = await startSimProcess(maxNodes, changeMs);
  say(`simulator: pid ${sim.pid}, ${sim.endpointUrl}, ${fmt(maxNodes)} counters changing every ${changeMs} ms, started in ${fmt((Date.now() - t) / 1000, 1)} s, RSS ${fmt(sim.rssMb() ?? 0)} MB`);
  say(`each run: a fresh client process subscribes N counters (sampling and publishing ${o.samplingMs} ms, queue 10, 1,000 items per call, 10,000 per subscription),`);
  say(`  waits for a value from every node, then measures about ${o.measureS} s of steady state (whole change periods, from the start of a burst).`);
  say('  bare: node-opcua ClientSubscription + ClientMonitoredItemGroup. gateway: the OPC UA source, readings handed to a pipeline context that');
  say('  stamps them. encode: the same, plus each reading encoded to its bronze protobuf record (no batching, no Redis). lost = ticks skipped by a node.');
  const { flags: nodeFlags, from: flagsFrom } = benchNodeFlags();
  say(`  node flags of every client: ${nodeFlags.join(' ') || '(none)'} (${flagsFrom}; docs/opcua.md)`);
  const onSignal = () => void sim.stop().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const runs: Run[] = [];
  try {
    for (const nodes of o.sizes) {
      for (const kind of KINDS) {
        const waited = await waitIdle(sim);
        if (waited === undefined) say(`  note: the simulator was still busy after ${IDLE_TIMEOUT_MS / 1000} s; the next run shares it`);
        t = Date.now();
        const run = await measured(sim, kind, nodes, o.samplingMs, o.measureS, changeMs, nodeFlags);
        runs.push(run);
        say(
          `  ${kind.padEnd(8)} ${fmt(nodes).padStart(6)} nodes: subscribed in ${fmt(run.subscribe_s, 1)} s, ${fmt(run.notifications_per_s)} notifications/s, CPU ${fmt(run.cpu_pct)} %, RSS peak ${fmt(run.rss_peak_mb)} MB (end ${fmt(run.rss_end_mb)}), lost ${run.lost}, simulator CPU ${run.sim_cpu_pct === null ? '-' : fmt(run.sim_cpu_pct)} % (${fmt((Date.now() - t) / 1000)} s)`,
        );
      }
    }
  } finally {
    await sim.stop();
  }

  const pick = (kind: Run['kind'], nodes: number) => runs.find((r) => r.kind === kind && r.nodes === nodes);
  const figures: Record<string, unknown> = {};
  const ratios: Record<string, number | null> = {};
  let lostTotal = 0;
  for (const nodes of o.sizes) {
    const g = pick('gateway', nodes);
    const b = pick('bare', nodes);
    const e = pick('encode', nodes);
    if (!g || !b || !e) continue;
    const key = nodes % 1000 === 0 ? `${nodes / 1000}k` : String(nodes);
    const ratio = g.notifications_per_s / b.notifications_per_s;
    ratios[key] = round(ratio, 3);
    lostTotal += g.lost + g.lost_before_window + e.lost + e.lost_before_window;
    Object.assign(figures, {
      [`rss_mb_${key}`]: round(g.rss_peak_mb, 1),
      [`rss_end_mb_${key}`]: round(g.rss_end_mb, 1),
      [`subscribe_s_${key}`]: round(g.subscribe_s, 2),
      [`notifications_per_s_${key}`]: Math.round(g.notifications_per_s),
      [`cpu_pct_${key}`]: round(g.cpu_pct, 1),
      [`lost_${key}`]: g.lost + g.lost_before_window,
      [`bare_rss_mb_${key}`]: round(b.rss_peak_mb, 1),
      [`bare_subscribe_s_${key}`]: round(b.subscribe_s, 2),
      [`bare_notifications_per_s_${key}`]: Math.round(b.notifications_per_s),
      [`bare_cpu_pct_${key}`]: round(b.cpu_pct, 1),
      [`bare_lost_${key}`]: b.lost + b.lost_before_window,
      [`ratio_${key}`]: round(ratio, 3),
      [`rss_ratio_${key}`]: round(g.rss_peak_mb / b.rss_peak_mb, 3),
      [`encode_rss_mb_${key}`]: round(e.rss_peak_mb, 1),
      [`encode_rss_end_mb_${key}`]: round(e.rss_end_mb, 1),
      [`encode_notifications_per_s_${key}`]: Math.round(e.notifications_per_s),
      [`encode_cpu_pct_${key}`]: round(e.cpu_pct, 1),
      [`encode_lost_${key}`]: e.lost + e.lost_before_window,
      [`sim_cpu_pct_${key}`]: g.sim_cpu_pct === null ? null : round(g.sim_cpu_pct, 1),
    });
  }
  const headline = ratios['50k'] ?? Object.values(ratios).at(-1) ?? null;
  const met = (key: string, limit: number) => (typeof figures[key] === 'number' ? (figures[key] as number) <= limit : null);
  const targets = {
    rss_mb_10k: met('rss_mb_10k', TARGETS.rss_mb_10k),
    rss_mb_50k: met('rss_mb_50k', TARGETS.rss_mb_50k),
    encode_rss_mb_10k: met('encode_rss_mb_10k', TARGETS.rss_mb_10k),
    encode_rss_mb_50k: met('encode_rss_mb_50k', TARGETS.rss_mb_50k),
    subscribe_s_50k: met('subscribe_s_50k', TARGETS.subscribe_s_50k),
    lost: lostTotal === TARGETS.lost,
  };
  say();
  say(`ratio gateway/bare notifications/s: ${Object.entries(ratios).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  say(`targets: ${Object.entries(targets).map(([k, v]) => `${k} ${v === null ? 'not measured' : v ? 'met' : 'NOT MET'}`).join(', ')}`);
  say(JSON.stringify({ bench: 'opcua', machine: host, node_flags: nodeFlags.join(' '), sampling_ms: o.samplingMs, change_ms: changeMs, measure_s: o.measureS, ...figures, lost: lostTotal, ratio: headline, targets: TARGETS, targets_met: targets }));
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench:opcua failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
