import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildDist, builtPath } from './built.ts';
import { benchNodeFlags } from './gateway-flags.ts';
import { describeMachine, machine } from './machine.ts';

/**
 * npm run bench:opcua-server: the aggregated OPC UA server serving N variables, each updated
 * once a second, to one client subscribed to all of them (samplingInterval 0) in a child
 * process. For each size it runs a bare node-opcua server (plain variables, setValueFromSource)
 * as the library's ceiling, then the aggregated server fed through the gateway's event bus,
 * each in a fresh process. Both run as production does: built (dist/, no TypeScript loader;
 * --from-source runs them under tsx instead) and with the node flags of the gateway's npm script. Prints changes delivered/s, the ratio to changes fed, the server's CPU and
 * RSS, and start time; the last line is one JSON object.
 */
const DEFAULT_SIZES = [10_000, 50_000];
const DEFAULT_SECONDS = 20;
const DEFAULT_WARMUP_S = 5;
const TARGET_DELIVERED_RATIO_10K = 0.99;
const TARGET_RSS_MB_50K = 400;
const RUN_TIMEOUT_MS = 900_000;
/** A run that fed less than this share of N changes/s did not keep the 1 Hz pace. */
const NOMINAL_RATE_SHORTFALL = 0.97;
const EXIT_USAGE = 2;
const RUN = fileURLToPath(new URL('./opcua-server-run.ts', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface RunResult {
  mode: 'ours' | 'bare';
  variables: number;
  start_s: number;
  build_s: number;
  subscribe_s: number;
  stop_s: number;
  fed: number;
  fed_per_s: number;
  delivered: number;
  delivered_per_s: number;
  delivered_ratio: number;
  cpu_pct: number;
  rss_mb_peak: number;
  rss_mb_mean: number;
  heap_mb_end: number;
  heap_total_mb_peak: number;
  external_mb_peak: number;
  rss_mb_live: number;
  heap_mb_live: number;
  loop_lag_p99_ms: number;
}

const say = (line = '') => process.stdout.write(`${line}\n`);
const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
const label = (n: number) => (n % 1000 === 0 ? `${n / 1000}k` : String(n));

interface Options {
  sizes: number[];
  seconds: number;
  warmup: number;
  bare: boolean;
  fromSource: boolean;
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      sizes: { type: 'string', default: DEFAULT_SIZES.join(',') },
      seconds: { type: 'string', default: String(DEFAULT_SECONDS) },
      warmup: { type: 'string', default: String(DEFAULT_WARMUP_S) },
      'no-bare': { type: 'boolean', default: false },
      'from-source': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    say('usage: npm run bench:opcua-server -- [--sizes 10000,50000] [--seconds N] [--warmup N] [--no-bare] [--from-source]');
    say(`  --sizes    variable counts, one run each (default ${DEFAULT_SIZES.join(',')}); e.g. --sizes 2000 for a quick check`);
    say(`  --seconds  measured seconds per run, after the warm-up (default ${DEFAULT_SECONDS})`);
    say(`  --warmup   seconds of updates before measuring (default ${DEFAULT_WARMUP_S})`);
    say('  --no-bare  skip the bare node-opcua server runs');
    say('  --from-source  run the servers from the TypeScript sources under tsx, as npm run gateway does, instead of');
    say('             the build in dist/ that compose and npm run start:gateway run (about 40 MB more RSS)');
    process.exit(0);
  }
  const int = (name: string, text: string) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1) {
      process.stderr.write(`bench:opcua-server: --${name}: expected a whole number >= 1, got ${text}\n`);
      process.exit(EXIT_USAGE);
    }
    return n;
  };
  return {
    sizes: values.sizes.split(',').map((s) => int('sizes', s.trim())),
    seconds: int('seconds', values.seconds),
    warmup: int('warmup', values.warmup),
    bare: !values['no-bare'],
    fromSource: values['from-source'],
  };
}

/** The node command line of one run: built (dist/) or from source under tsx. */
function entry(fromSource: boolean): string[] {
  return fromSource ? ['--import', 'tsx', RUN] : [builtPath(RUN)];
}

function run(mode: 'ours' | 'bare', variables: number, seconds: number, warmup: number, nodeFlags: string[], fromSource: boolean): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeFlags, '--expose-gc', ...entry(fromSource), '--mode', mode, '--variables', String(variables), '--seconds', String(seconds), '--warmup', String(warmup)], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let last = '';
    const errors: string[] = [];
    createInterface({ input: child.stdout }).on('line', (line) => (last = line));
    // node-opcua writes its own warnings to the console; keep them for a failure report only.
    createInterface({ input: child.stderr }).on('line', (line) => errors.push(line) > 20 && errors.shift());
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
    child.once('exit', (code) => {
      clearTimeout(timer);
      try {
        if (code !== 0) throw new Error(`exit ${code}`);
        resolve(JSON.parse(last) as RunResult);
      } catch (err) {
        reject(new Error(`${mode} run with ${variables} variables failed (${(err as Error).message}):\n${errors.join('\n')}`));
      }
    });
  });
}

function describe(r: RunResult): string {
  return (
    `  ${r.mode.padEnd(4)} ${label(r.variables).padStart(4)}: ${round(r.delivered_per_s, 0)} changes/s delivered of ${round(r.fed_per_s, 0)} fed ` +
    `(${round(r.delivered_ratio * 100, 2)}%), server CPU ${round(r.cpu_pct)}%, RSS ${round(r.rss_mb_peak)} MB peak (V8 heap ${round(r.heap_total_mb_peak)} MB, external ${round(r.external_mb_peak)} MB), ` +
    `${round(r.rss_mb_live)} MB after a full GC (heap ${round(r.heap_mb_live)} MB), ` +
    `start ${round(r.start_s, 2)} s, ${r.variables} variables built in ${round(r.build_s, 2)} s, client subscribed in ${round(r.subscribe_s, 1)} s, ` +
    `event-loop lag p99 ${round(r.loop_lag_p99_ms)} ms` +
    (r.fed_per_s < r.variables * NOMINAL_RATE_SHORTFALL ? `\n        only ${round((r.fed_per_s / r.variables) * 100, 0)}% of the nominal ${r.variables} changes/s were fed: the server process could not keep up (or the machine is busy)` : '')
  );
}

async function main(): Promise<void> {
  const o = options();
  const host = machine();
  say(describeMachine(host));
  say(`each run: a fresh server process, N Double variables all changed once a second (in 10 slices), ${o.warmup} s warm-up then ${o.seconds} s measured;`);
  say('  one client in a child process subscribed to every variable (samplingInterval 0, queue 2, publishing 250 ms, security None);');
  say('  delivered = notifications for the measured rounds received by the client, counted 3 s after the last round; CPU and RSS are the server process (feeding included).');
  say('  RSS peak: sampled every 200 ms in the measured window, V8 collecting when it chooses (V8 heap = heapTotal at that sample); after a full GC: forced (--expose-gc) after the window, the live memory.');
  say('  bare = node-opcua OPCUAServer with plain variables and setValueFromSource (library ceiling); ours = startAggregatedServer fed Readings through GatewayEvents.');
  const { flags: nodeFlags, from: flagsFrom } = benchNodeFlags();
  say(`  node flags of every run: ${nodeFlags.join(' ') || '(none)'} (${flagsFrom}; docs/opcua-server.md, Sizing)`);
  say(`  NODE_OPTIONS: ${process.env.NODE_OPTIONS || '(none)'} (inherited by every run)`);
  if (o.fromSource) {
    say('  form: from the TypeScript sources under tsx (--from-source), as npm run gateway runs; not the built form production runs');
  } else {
    say('  form: built, as compose and npm run start:gateway run it: building dist/ (npm run build) ...');
    await buildDist();
  }
  const results: RunResult[] = [];
  for (const size of o.sizes) {
    for (const mode of o.bare ? (['bare', 'ours'] as const) : (['ours'] as const)) {
      const result = await run(mode, size, o.seconds, o.warmup, nodeFlags, o.fromSource);
      results.push(result);
      say(describe(result));
    }
  }
  const ours = results.filter((r) => r.mode === 'ours');
  const bare = (n: number) => results.find((r) => r.mode === 'bare' && r.variables === n);
  say();
  const figures: Record<string, number> = {};
  for (const r of ours) {
    const k = label(r.variables);
    figures[`delivered_ratio_${k}`] = round(r.delivered_ratio, 4);
    figures[`delivered_per_s_${k}`] = round(r.delivered_per_s, 0);
    figures[`fed_per_s_${k}`] = round(r.fed_per_s, 0);
    figures[`cpu_pct_${k}`] = round(r.cpu_pct);
    figures[`rss_mb_${k}`] = round(r.rss_mb_peak);
    figures[`rss_mb_live_${k}`] = round(r.rss_mb_live);
    figures[`heap_mb_live_${k}`] = round(r.heap_mb_live);
    figures[`heap_total_mb_peak_${k}`] = round(r.heap_total_mb_peak);
    figures[`build_s_${k}`] = round(r.build_s, 2);
    const b = bare(r.variables);
    if (b) {
      figures[`bare_delivered_ratio_${k}`] = round(b.delivered_ratio, 4);
      figures[`bare_rss_mb_${k}`] = round(b.rss_mb_peak);
      figures[`bare_rss_mb_live_${k}`] = round(b.rss_mb_live);
      figures[`bare_cpu_pct_${k}`] = round(b.cpu_pct);
      figures[`rss_vs_bare_${k}`] = round(r.rss_mb_peak / b.rss_mb_peak, 2);
      figures[`cpu_vs_bare_${k}`] = round(r.cpu_pct / b.cpu_pct, 2);
      figures[`delivered_vs_bare_${k}`] = round(r.delivered_ratio / b.delivered_ratio, 4);
      say(`  ${label(r.variables)}: vs bare node-opcua: delivered ×${figures[`delivered_vs_bare_${k}`]}, RSS ×${figures[`rss_vs_bare_${k}`]}, CPU ×${figures[`cpu_vs_bare_${k}`]}`);
    }
  }
  const startS = ours[0] ? round(ours[0].start_s, 2) : undefined;
  const ratio10k = figures.delivered_ratio_10k;
  const rss50k = figures.rss_mb_50k;
  if (ratio10k !== undefined) say(`  target: >= ${TARGET_DELIVERED_RATIO_10K * 100}% delivered at 10k: ${ratio10k >= TARGET_DELIVERED_RATIO_10K ? 'met' : 'MISSED'} (${round(ratio10k * 100, 2)}%)`);
  if (rss50k !== undefined) {
    say(`  target: RSS <= ${TARGET_RSS_MB_50K} MB at 50k: ${rss50k <= TARGET_RSS_MB_50K ? 'met' : 'MISSED'} (${rss50k} MB peak; ${figures.rss_mb_live_50k} MB after a full GC)`);
  }
  say(`  start_s: the first aggregated-server run, from the call to listening, including a new PKI key and self-signed certificate: ${startS} s`);
  say(JSON.stringify({ bench: 'opcua-server', machine: host, form: o.fromSource ? 'source (tsx)' : 'built (dist/)', node_flags: nodeFlags.join(' '), node_options: process.env.NODE_OPTIONS ?? '', seconds: o.seconds, warmup_s: o.warmup, sizes: o.sizes, start_s: startS, ...figures }));
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench:opcua-server failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
