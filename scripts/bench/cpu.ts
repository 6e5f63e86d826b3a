import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';

/**
 * Where the CPU went during a timed run, process by process, and how busy the whole machine
 * was: a benchmark whose processes share a few cores must show which of them set the pace,
 * and whether something else on the machine took cores from them. Linux only (/proc); off
 * Linux the figures are undefined and left out.
 */

/** Linux reports process and machine times in USER_HZ ticks, 100 per second on every mainstream kernel. */
const CLOCK_TICKS_PER_S = 100;
/** /proc/stat's first line: user nice system idle iowait irq softirq steal ... (idle and iowait are idle). */
const IDLE_FIELDS = [3, 4];
const MACHINE_FIELDS = 8;
const PAGE_BYTES = 4096;
const BYTES_PER_MB = 1024 * 1024;

/** utime + stime of a process, from /proc/<pid>/stat (fields 14 and 15). */
export function processCpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces; the fields after it are space-separated.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_S;
  } catch {
    return undefined;
  }
}

/** Resident memory of a process in MB, from /proc/<pid>/stat (field 24, in 4 KiB pages). */
export function processRssMb(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[21]) * PAGE_BYTES) / BYTES_PER_MB;
  } catch {
    return undefined;
  }
}

/** Busy and total CPU seconds of the whole machine (all cores) since boot. */
function machineSeconds(): { busy: number; total: number } | undefined {
  try {
    const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1, 1 + MACHINE_FIELDS).map(Number);
    const total = fields.reduce((a, b) => a + b, 0);
    const idle = IDLE_FIELDS.reduce((n, i) => n + (fields[i] ?? 0), 0);
    return { busy: (total - idle) / CLOCK_TICKS_PER_S, total: total / CLOCK_TICKS_PER_S };
  } catch {
    return undefined;
  }
}

/** used_cpu_user + used_cpu_sys of the Redis server (it serves every client, not only this benchmark). */
async function redisCpuSeconds(redis: Redis): Promise<number | undefined> {
  const info = await redis.info('cpu').catch(() => '');
  const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1]);
  const seconds = field('used_cpu_user') + field('used_cpu_sys');
  return Number.isFinite(seconds) ? seconds : undefined;
}

/** CPU over a run, as % of one core (100 = one core busy for the whole run). */
export interface CpuShares {
  /** This process. */
  self: number;
  /** Each measured child process, by name. */
  processes: Record<string, number | undefined>;
  redis: number | undefined;
  /** Every core of the machine, whoever used it; cores × 100 at most. */
  machine: number | undefined;
  /** The machine's busy time not accounted for above: other processes, the kernel's own work. */
  others: number | undefined;
}

/** Starts measuring; the returned function ends the measurement and gives the shares over wallMs. */
export async function startCpuMeter(o: { processes: Record<string, number | undefined>; redis: Redis }): Promise<(wallMs: number) => Promise<CpuShares>> {
  const pids = Object.entries(o.processes);
  const start = {
    self: process.cpuUsage(),
    processes: pids.map(([, pid]) => processCpuSeconds(pid)),
    redis: await redisCpuSeconds(o.redis),
    machine: machineSeconds(),
  };
  return async (wallMs) => {
    const pct = (seconds: number | undefined) => (seconds === undefined ? undefined : ((seconds * 1000) / wallMs) * 100);
    const diff = (end: number | undefined, begin: number | undefined) => (end === undefined || begin === undefined ? undefined : end - begin);
    const self = process.cpuUsage(start.self);
    const processes = Object.fromEntries(pids.map(([name, pid], i) => [name, pct(diff(processCpuSeconds(pid), start.processes[i]))]));
    const redis = pct(diff(await redisCpuSeconds(o.redis), start.redis));
    const end = machineSeconds();
    // Scaled to the run's wall time: /proc/stat counts every core.
    const machine = end && start.machine ? pct(end.busy - start.machine.busy) : undefined;
    const selfPct = pct((self.user + self.system) / 1e6) ?? 0;
    const ours = selfPct + Object.values(processes).reduce((n: number, v) => n + (v ?? 0), 0) + (redis ?? 0);
    return { self: selfPct, processes, redis, machine, others: machine === undefined ? undefined : Math.max(0, machine - ours) };
  };
}
