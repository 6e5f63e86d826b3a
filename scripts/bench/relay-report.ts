import type { CpuShares } from './cpu.ts';
import { PEER_SATURATED_PCT } from './zerobus-report.ts';

/** One timed run of bench:relay and how it is printed: what it moved, and where the CPU went. */
export interface RunFigures {
  seconds: number;
  records: number;
  jobs: number;
  cpu: CpuShares;
  /** The relays' send-to-ack latency (the worst relay's), undefined for the bare run. */
  ackLatencyMs: { p50: number; p99: number } | undefined;
}

/** Machine busy time, as a share of all its cores, from which the cores are taken to be the limit. */
export const MACHINE_SATURATED_SHARE = 0.9;
/** CPU (% of one core) of work outside the benchmark from which its figures are flagged. */
export const OTHERS_NOTICEABLE_PCT = 25;
/** Share of the in-flight ceiling (concurrency × batch / ack latency) from which the latency is taken to set the pace. */
export const LATENCY_BOUND_SHARE = 0.8;

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const pct = (n: number | undefined) => (n === undefined ? '-' : `${fmt(n)} %`);
const round1 = (n: number | undefined) => (n === undefined ? null : Math.round(n * 10) / 10);

/** CPU of the relay processes together, % of one core. */
export const relaysCpu = (run: RunFigures): number =>
  Object.entries(run.cpu.processes)
    .filter(([name]) => name.startsWith('relay'))
    .reduce((n, [, v]) => n + (v ?? 0), 0);

/** CPU time per record: % of a core × seconds, spread over the records. */
const usPerRecord = (cpuPct: number, run: RunFigures) => (cpuPct / 100) * run.seconds * 1e6 / run.records;

export function formatRun(label: string, run: RunFigures, extra = ''): string {
  const rate = run.records / run.seconds;
  const head = `  ${label} ${fmt(rate)} records/s (${fmt(run.jobs / run.seconds)} jobs/s), ${fmt(run.seconds, 2)} s${extra}`;
  const c = run.cpu;
  const relays = Object.entries(c.processes).filter(([name]) => name.startsWith('relay'));
  const parts = [
    ...(relays.length > 0
      ? [`relay${relays.length > 1 ? 's' : ''} ${relays.map(([, v]) => pct(v)).join(' + ')} (${fmt(usPerRecord(relaysCpu(run), run), 2)} µs/record)`]
      : [`bare consumer ${pct(c.self)} (${fmt(usPerRecord(c.self, run), 2)} µs/record)`]),
    ...('emulator' in c.processes ? [`emulator ${pct(c.processes.emulator)}`] : []),
    `Redis ${pct(c.redis)}`,
    ...(relays.length > 0 ? [`bench ${pct(c.self)}`] : []),
    `machine ${pct(c.machine)} (others ${pct(c.others)})`,
  ];
  const latency = run.ackLatencyMs ? `; ack latency p50 ${fmt(run.ackLatencyMs.p50)} ms, p99 ${fmt(run.ackLatencyMs.p99)} ms` : '';
  return `${head}\n      CPU: ${parts.join(', ')}${latency}`;
}

/** What set the pace, read from the figures: the lines to print, and two flags for the JSON. */
export function notes(runs: Record<string, RunFigures>, o: { cores: number; concurrency: number; batch: number }): { lines: string[]; emulatorBound: boolean; machineSaturated: boolean } {
  const lines: string[] = [];
  const one = runs.relay1;
  const relayRuns = [runs.relay1, runs.relay2].filter((r): r is RunFigures => r !== undefined);
  const emulatorPct = one?.cpu.processes.emulator;
  const emulatorBound = emulatorPct !== undefined && emulatorPct >= PEER_SATURATED_PCT;
  const saturated = relayRuns.filter((r) => r.cpu.machine !== undefined && r.cpu.machine >= o.cores * 100 * MACHINE_SATURATED_SHARE);
  if (one && emulatorBound) {
    lines.push(
      `the emulator used ${pct(emulatorPct)} of a core with one relay (it decodes every record to a JSON row on one thread): it set the pace, not the relay (${pct(relaysCpu(one))}, ${fmt(usPerRecord(relaysCpu(one), one), 2)} µs/record).`,
    );
  }
  if (saturated.length > 0) {
    lines.push(
      `every core was busy (machine ${saturated.map((r) => pct(r.cpu.machine)).join(', ')} of ${o.cores * 100} %): relays, emulator and Redis share ${o.cores} cores, so CPU is the ceiling on this machine; compare the relay's µs/record between runs, not its records/s.`,
    );
  }
  const others = Math.max(...relayRuns.map((r) => r.cpu.others ?? 0), runs.bare?.cpu.others ?? 0);
  if (others >= OTHERS_NOTICEABLE_PCT) {
    lines.push(`other work on this machine used up to ${pct(others)} of a core during the runs: these figures are not comparable with a run on a quiet machine.`);
  }
  if (one?.ackLatencyMs && one.ackLatencyMs.p50 > 0) {
    const ceiling = (o.concurrency * o.batch) / (one.ackLatencyMs.p50 / 1000);
    const rate = one.records / one.seconds;
    if (rate >= ceiling * LATENCY_BOUND_SHARE) {
      lines.push(
        `one relay keeps at most workers.concurrency = ${o.concurrency} batches in flight: ${o.concurrency} × ${o.batch} records / ${fmt(one.ackLatencyMs.p50)} ms ack latency (p50) = ${fmt(ceiling)} records/s, and it moved ${fmt(rate)}: the ack latency and the concurrency set the pace.`,
      );
    }
  }
  return { lines, emulatorBound, machineSaturated: saturated.length > 0 };
}

export function runJson(run: RunFigures): Record<string, unknown> {
  const c = run.cpu;
  return {
    records_per_s: Math.round(run.records / run.seconds),
    seconds: Math.round(run.seconds * 1000) / 1000,
    cpu_pct: Object.fromEntries([...Object.entries(c.processes), ['redis', c.redis], ['bench', c.self], ['machine', c.machine], ['others', c.others]].map(([k, v]) => [k, round1(v as number | undefined)])),
    ...('relay1' in c.processes ? { relay_cpu_us_per_record: Math.round(usPerRecord(relaysCpu(run), run) * 100) / 100 } : {}),
    ack_latency_ms: run.ackLatencyMs ?? null,
  };
}
