import type { RunCost } from './measure.ts';

/** One timed run of the Zerobus benchmark, and how its figures are summarized and printed. */
export interface RunResult {
  kind: 'bare' | 'client';
  round: number;
  records: number;
  recordsPerS: number;
  mbPerS: number;
  cost: RunCost;
}

export const TARGET_RATIO = 0.8;
/** Zerobus's published quota per stream. */
export const TARGET_RECORDS_PER_S = 100_000;
/** Emulator CPU (% of one core) from which it, not the sender, is taken to set the pace. */
export const PEER_SATURATED_PCT = 90;

export const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
export const roundTo = (n: number | undefined, digits: number) => (n === undefined ? null : Math.round(n * 10 ** digits) / 10 ** digits);

/** CPU time per record sent: what the sender costs, whatever set the pace. */
export const cpuUsPerRecord = (r: RunResult) => ((r.cost.cpuUserMs + r.cost.cpuSysMs) * 1000) / r.records;

/** The run with the median records/s (the lower middle one for an even count), and the fastest. */
function pick(runs: RunResult[], kind: RunResult['kind']): { median: RunResult; best: RunResult } {
  const sorted = runs.filter((r) => r.kind === kind).sort((a, b) => a.recordsPerS - b.recordsPerS);
  const median = sorted[(sorted.length - 1) >> 1];
  const best = sorted[sorted.length - 1];
  if (!median || !best) throw new Error(`no ${kind} run to report`);
  return { median, best };
}

export interface Summary {
  bare: { median: RunResult; best: RunResult };
  client: { median: RunResult; best: RunResult };
  ratio: number;
  bestRatio: number;
  emulatorBound: boolean;
  targetsMet: boolean;
  json: Record<string, unknown>;
}

/**
 * Headline figures are medians over the rounds: the emulator's pace wanders by ±15 % between
 * rounds on a 2-core machine, and a median does not reward one lucky round on either side.
 */
export function summarize(runs: RunResult[]): Summary {
  const bare = pick(runs, 'bare');
  const client = pick(runs, 'client');
  const ratio = client.median.recordsPerS / bare.median.recordsPerS;
  const bestRatio = client.best.recordsPerS / bare.best.recordsPerS;
  const emulatorBound = (bare.median.cost.peerCpuPct ?? 0) >= PEER_SATURATED_PCT;
  const targetsMet = ratio >= TARGET_RATIO && client.median.recordsPerS >= TARGET_RECORDS_PER_S;
  const c = client.median;
  const b = bare.median;
  const json = {
    bare_records_per_s: Math.round(b.recordsPerS),
    bare_mb_per_s: roundTo(b.mbPerS, 1),
    records_per_s: Math.round(c.recordsPerS),
    mb_per_s: roundTo(c.mbPerS, 1),
    ratio: roundTo(ratio, 3),
    cpu_pct: roundTo(c.cost.cpuPct, 1),
    rss_mb: roundTo(c.cost.rssPeakMb, 1),
    cpu_us_per_record: roundTo(cpuUsPerRecord(c), 2),
    bare_cpu_pct: roundTo(b.cost.cpuPct, 1),
    bare_rss_mb: roundTo(b.cost.rssPeakMb, 1),
    bare_cpu_us_per_record: roundTo(cpuUsPerRecord(b), 2),
    emulator_cpu_pct: roundTo(c.cost.peerCpuPct, 1),
    bare_emulator_cpu_pct: roundTo(b.cost.peerCpuPct, 1),
    best_records_per_s: Math.round(client.best.recordsPerS),
    best_bare_records_per_s: Math.round(bare.best.recordsPerS),
    best_ratio: roundTo(bestRatio, 3),
    round_ratios: roundRatios(runs).map((r) => roundTo(r, 3)),
    bare_limited_by_emulator: emulatorBound,
    targets: { ratio: TARGET_RATIO, records_per_s: TARGET_RECORDS_PER_S },
    targets_met: targetsMet,
  };
  return { bare, client, ratio, bestRatio, emulatorBound, targetsMet, json };
}

/** client / bare records/s of each round, the two runs of a round being back to back. */
function roundRatios(runs: RunResult[]): number[] {
  const rounds = [...new Set(runs.map((r) => r.round))];
  return rounds.flatMap((n) => {
    const bare = runs.find((r) => r.round === n && r.kind === 'bare');
    const client = runs.find((r) => r.round === n && r.kind === 'client');
    return bare && client ? [client.recordsPerS / bare.recordsPerS] : [];
  });
}

const WIDTHS = [12, 11, 7, 7, 6, 7, 7, 8, 7, 8, 9];
const pad = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(WIDTHS[i] ?? 0) : c.padStart(WIDTHS[i] ?? 0))).join('  ');

export function reportLines(runs: RunResult[], s: Summary): string[] {
  const lines = [pad(['run', 'records/s', 'MB/s', 'wall s', 'CPU %', 'user s', 'sys s', 'CPU µs/r', 'RSS MB', 'RSS +MB', 'emu CPU%'])];
  for (const r of runs) {
    const c = r.cost;
    lines.push(
      pad([
        `${r.kind} #${r.round}`,
        fmt(r.recordsPerS),
        fmt(r.mbPerS, 1),
        fmt(c.wallMs / 1000, 2),
        fmt(c.cpuPct),
        fmt(c.cpuUserMs / 1000, 2),
        fmt(c.cpuSysMs / 1000, 2),
        fmt(cpuUsPerRecord(r), 2),
        fmt(c.rssPeakMb),
        fmt(c.rssPeakMb - c.rssStartMb),
        c.peerCpuPct === undefined ? '-' : fmt(c.peerCpuPct),
      ]),
    );
  }
  const line = (label: string, r: RunResult) =>
    `${label} ${fmt(r.recordsPerS)} records/s, ${fmt(r.mbPerS, 1)} MB/s, CPU ${fmt(r.cost.cpuPct)} % of a core (${fmt(cpuUsPerRecord(r), 2)} µs/record), RSS ${fmt(r.cost.rssPeakMb)} MB (#${r.round})`;
  const client = s.client.median;
  lines.push(
    '  CPU % = (user + sys) / wall of this process: 100 = one core; CPU µs/r = (user + sys) per record. RSS = peak sampled every 100 ms, including the pre-built input; RSS +MB = above the RSS at the run start.',
    '  emu CPU% = the emulator child process (decodes every record, writes JSON lines); near 100 means it, not the sender, set the pace.',
    '',
    line('median bare:  ', s.bare.median),
    line('median client:', client),
    `best:          bare ${fmt(s.bare.best.recordsPerS)}, client ${fmt(s.client.best.recordsPerS)} records/s (ratio ${s.bestRatio.toFixed(3)}); per-round ratios ${roundRatios(runs).map((r) => r.toFixed(3)).join(' ')}`,
  );
  if (s.emulatorBound) {
    lines.push(
      `note: the emulator used ${fmt(s.bare.median.cost.peerCpuPct ?? 0)} % of a core during the bare runs: the bare figure is the emulator's ceiling on this machine, not grpc-js's. CPU µs/record compares the two senders whatever set the pace.`,
    );
  }
  const ok = (met: boolean) => (met ? 'met' : 'NOT MET');
  lines.push(
    `ratio client/bare (medians): ${s.ratio.toFixed(3)} (target >= ${TARGET_RATIO}: ${ok(s.ratio >= TARGET_RATIO)}); client records/s target >= ${fmt(TARGET_RECORDS_PER_S)}: ${ok(client.recordsPerS >= TARGET_RECORDS_PER_S)}`,
  );
  return lines;
}
