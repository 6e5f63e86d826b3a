import { parseArgs } from 'node:util';
import type { SourceReading } from '../../common/reading.ts';
import { CompiledReport, reportSchema } from '../../gateway/pipeline/report/config.ts';
import { SourceFilter, type FilterClock } from '../../gateway/pipeline/report/filter.ts';
import { isReported } from '../../gateway/pipeline/report/rules.ts';
import { slowSignal } from '../../gateway/test-support/signal.ts';
import { describeMachine, machine } from './machine.ts';

/**
 * npm run bench:rbe: what report-by-exception keeps from Redis on slowly changing signals, and
 * what it costs. Each tag is a tank-temperature-like signal (20-80 over a 2-hour sine, noise
 * +-0.05, EURange 0-100) sampled every second; a day is replayed on a simulated clock, so
 * heartbeats fire as they would. The ceiling is the 1% deadband written inline for this one
 * case; its count of sent readings must equal the filter's. Rates are the fastest of 3 runs
 * after a warm-up.
 * The last line of output is one JSON object.
 */
const DEFAULT_SECONDS = 86_400;
const DEFAULT_TAGS = 20;
const PERIOD_S = 7_200;
const CENTRE = 50;
const AMPLITUDE = 30;
const NOISE = 0.05;
const MS_PER_S = 1000;
const US_PER_MS = 1000;
const NS_PER_MS = 1e6;
const PERCENT = 100;
const EXIT_USAGE = 2;
/** Each figure is the fastest of this many runs, after one warm-up run (the JIT settles). */
const REPEAT = 3;

const MODES: Array<{ name: string; report: Record<string, unknown> }> = [
  { name: 'none', report: { mode: 'none' } },
  { name: 'change', report: { mode: 'change' } },
  { name: 'deadband_abs_0.1', report: { mode: 'deadband', deadband_abs: 0.1 } },
  { name: 'deadband_0.5pct_range', report: { mode: 'deadband', deadband_pct: 0.5 } },
  { name: 'deadband_1pct_range', report: { mode: 'deadband', deadband_pct: 1 } },
  { name: 'deadband_1pct_range_hb300', report: { mode: 'deadband', deadband_pct: 1, heartbeat_s: 300 } },
];

const say = (line = '') => process.stdout.write(`${line}\n`);

function options(): { seconds: number; tags: number } {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: String(DEFAULT_SECONDS) },
      tags: { type: 'string', default: String(DEFAULT_TAGS) },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    say('usage: npm run bench:rbe -- [--seconds N] [--tags N]');
    say(`  --seconds   1 s samples per tag (default ${DEFAULT_SECONDS}, one day)`);
    say(`  --tags      tags, each its own signal (default ${DEFAULT_TAGS})`);
    process.exit(0);
  }
  const seconds = Number(values.seconds);
  const tags = Number(values.tags);
  if (!Number.isInteger(seconds) || seconds < 1 || !Number.isInteger(tags) || tags < 1) {
    process.stderr.write('--seconds and --tags take whole numbers of at least 1\n');
    process.exit(EXIT_USAGE);
  }
  return { seconds, tags };
}

/** A clock the replay moves by hand; the filter's one timer fires when the replay passes it. */
class ManualClock implements FilterClock {
  nowMs = 0;
  #timer: { fn: () => void; at: number } | undefined;
  now(): number {
    return this.nowMs;
  }
  setTimer(fn: () => void, ms: number): unknown {
    this.#timer = { fn, at: this.nowMs + ms };
    return this.#timer;
  }
  clearTimer(handle: unknown): void {
    if (this.#timer === handle) this.#timer = undefined;
  }
  advanceTo(ms: number): void {
    while (this.#timer && this.#timer.at <= ms) {
      const { fn, at } = this.#timer;
      this.#timer = undefined;
      this.nowMs = at;
      fn();
    }
    this.nowMs = ms;
  }
}

/** Samples of every tag, interleaved by time as a source would emit them. */
function workload(seconds: number, tags: number, startMs: number): SourceReading[] {
  const perTag = Array.from({ length: tags }, (_, t) =>
    slowSignal({ seconds, periodS: PERIOD_S + t * 60, centre: CENTRE, amplitude: AMPLITUDE, noise: NOISE, seed: t + 1 }, `tank${t}/temp`, startMs),
  );
  const out: SourceReading[] = [];
  for (let i = 0; i < seconds; i++) for (const signal of perTag) out.push(signal[i] as SourceReading);
  return out;
}

function runMode(report: Record<string, unknown>, samples: SourceReading[], tags: number): { sent: number; ms: number } {
  const clock = new ManualClock();
  let sent = 0;
  const filter = new SourceFilter(new CompiledReport(reportSchema.parse(report)), () => (sent += 1), clock);
  filter.describe(Array.from({ length: tags }, (_, t) => ({ tag: `tank${t}/temp`, euRange: { low: 0, high: 100 } })));
  const started = process.hrtime.bigint();
  for (const s of samples) {
    clock.advanceTo(s.sourceTimeUs / US_PER_MS);
    if (isReported(filter.offer(s))) sent += 1;
  }
  const ms = Number(process.hrtime.bigint() - started) / NS_PER_MS;
  filter.stop();
  return { sent, ms };
}

/**
 * The ceiling: the deadband_1pct_range decision written inline for this one case (a Map of the
 * last reported value per tag, one subtraction), with none of the filter's rule lookup, quality
 * check, heartbeat bookkeeping or configurability.
 */
function runCeiling(samples: SourceReading[]): { sent: number; ms: number } {
  const BAND = 1;
  const last = new Map<string, number>();
  let sent = 0;
  const started = process.hrtime.bigint();
  for (const s of samples) {
    const previous = last.get(s.tag);
    const value = s.value as number;
    if (previous === undefined || Math.abs(value - previous) > BAND) {
      last.set(s.tag, value);
      sent += 1;
    }
  }
  return { sent, ms: Number(process.hrtime.bigint() - started) / NS_PER_MS };
}

const { seconds, tags } = options();
const m = machine();
const samples = workload(seconds, tags, Date.UTC(2024, 4, 1));
say(describeMachine(m));
say(`workload: ${tags} tags x ${seconds} samples at 1 s = ${samples.length} readings (sine 20-80 over ~2 h, noise +-${NOISE}, EURange 0-100)`);
const fastest = (run: () => { sent: number; ms: number }) => {
  run();
  const runs = Array.from({ length: REPEAT }, run);
  return runs.reduce((best, r) => (r.ms < best.ms ? r : best));
};
const ceiling = fastest(() => runCeiling(samples));
const ceilingRate = Math.round(samples.length / (ceiling.ms / MS_PER_S));
say(`ceiling (1% deadband written inline): sent ${ceiling.sent}, ${ceilingRate.toLocaleString('en-US')} readings/s`);
const results = MODES.map(({ name, report }) => {
  const { sent, ms } = fastest(() => runMode(report, samples, tags));
  const rate = Math.round(samples.length / (ms / MS_PER_S));
  const reduction = Math.round((1 - sent / samples.length) * PERCENT * 100) / 100;
  say(`${name.padEnd(28)} sent ${String(sent).padStart(9)} of ${samples.length}  reduction ${reduction.toFixed(2).padStart(6)}%  ${rate.toLocaleString('en-US')} readings/s (${(rate / ceilingRate).toFixed(2)} of ceiling)`);
  return { mode: name, sent, reduction_pct: reduction, readings_per_s: rate, ratio_to_ceiling: Math.round((rate / ceilingRate) * 100) / 100 };
});
const oracle = results.find((r) => r.mode === 'deadband_1pct_range');
if (oracle?.sent !== ceiling.sent) {
  process.stderr.write(`the filter sent ${String(oracle?.sent)} where the inline deadband sent ${ceiling.sent}\n`);
  process.exit(1);
}
say(JSON.stringify({ bench: 'rbe', samples: samples.length, tags, seconds, ceiling_readings_per_s: ceilingRate, modes: results, machine: m }));
