import { performance } from 'node:perf_hooks';

/** What one timed run cost this process (and, when known, the emulator beside it). */
export interface RunCost {
  wallMs: number;
  cpuUserMs: number;
  cpuSysMs: number;
  /** (user + sys) / wall: 100 means one core busy for the whole run. */
  cpuPct: number;
  /** Highest RSS sampled during the run. */
  rssPeakMb: number;
  /** RSS just before the run: the pre-built input and whatever earlier runs left. */
  rssStartMb: number;
  /** CPU of the other process (user + sys) / wall, or undefined if it cannot be read. */
  peerCpuPct: number | undefined;
}

export const RSS_SAMPLE_INTERVAL_MS = 100;
const MB = 1024 * 1024;

/**
 * Runs work once and measures wall time, this process's CPU (process.cpuUsage deltas) and its
 * peak RSS, sampled every 100 ms (and once at each end). peerCpuSeconds reads another
 * process's CPU time, e.g. the server's, to tell whether it was the limit.
 */
export async function measure<T>(work: () => Promise<T>, peerCpuSeconds: () => number | undefined = () => undefined): Promise<{ result: T; cost: RunCost }> {
  const rssStart = process.memoryUsage.rss();
  let rssPeak = rssStart;
  const sample = () => (rssPeak = Math.max(rssPeak, process.memoryUsage.rss()));
  const sampler = setInterval(sample, RSS_SAMPLE_INTERVAL_MS);
  const peerStart = peerCpuSeconds();
  const cpuStart = process.cpuUsage();
  const t0 = performance.now();
  try {
    const result = await work();
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpuStart);
    const peerEnd = peerCpuSeconds();
    sample();
    const cpuUserMs = cpu.user / 1000;
    const cpuSysMs = cpu.system / 1000;
    return {
      result,
      cost: {
        wallMs,
        cpuUserMs,
        cpuSysMs,
        cpuPct: ((cpuUserMs + cpuSysMs) / wallMs) * 100,
        rssPeakMb: rssPeak / MB,
        rssStartMb: rssStart / MB,
        peerCpuPct: peerStart === undefined || peerEnd === undefined ? undefined : (((peerEnd - peerStart) * 1000) / wallMs) * 100,
      },
    };
  } finally {
    clearInterval(sampler);
  }
}
