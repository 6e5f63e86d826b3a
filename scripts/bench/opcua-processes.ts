import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { processCpuSeconds, processRssMb } from './cpu.ts';

/**
 * Child processes of the OPC UA benchmark: the simulator (so the server's CPU and memory are
 * not the client's) and one process per measured client (so no run inherits another's heap).
 */
const SIM_ENTRY = fileURLToPath(new URL('../../sim/devices/opcua-main.ts', import.meta.url));
const CLIENT_ENTRY = fileURLToPath(new URL('./opcua-client.ts', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const SIM_START_TIMEOUT_MS = 300_000;
const STOP_GRACE_MS = 10_000;
const KEPT_LINES = 20;

export interface SimProcess {
  pid: number;
  endpointUrl: string;
  namespaceIndex: number;
  cpuSeconds(): number | undefined;
  rssMb(): number | undefined;
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

function start(entry: string, args: string[], nodeFlags: readonly string[] = []): { child: ChildProcess; lines: string[]; exited: Promise<number | null> } {
  // A process group of its own: Ctrl-C reaches the benchmark, which stops its children itself.
  const child = spawn(process.execPath, [...nodeFlags, '--import', 'tsx', entry, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  live.add(child);
  const lines: string[] = [];
  const keep = (line: string) => {
    lines.push(line);
    if (lines.length > KEPT_LINES) lines.shift();
  };
  createInterface({ input: child.stderr! }).on('line', keep);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      live.delete(child);
      resolve(code);
    }),
  );
  return { child, lines, exited };
}

async function stopChild(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}

/** Starts the simulator with `counters` counter nodes ticking every changeMs; resolves when it listens. */
export async function startSimProcess(counters: number, changeMs: number): Promise<SimProcess> {
  const { child, lines, exited } = start(SIM_ENTRY, ['--port', '0', '--counters', String(counters), '--change-ms', String(changeMs), '--log-level', 'warn']);
  const ready = await new Promise<{ endpointUrl: string; namespaceIndex: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the simulator did not start within ${SIM_START_TIMEOUT_MS} ms:\n${lines.join('\n')}`)), SIM_START_TIMEOUT_MS);
    void exited.then((code) => reject(new Error(`the simulator exited with ${code}:\n${lines.join('\n')}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const parsed = JSON.parse(line) as { endpointUrl?: string; namespaceIndex?: number };
        if (parsed.endpointUrl) {
          clearTimeout(timer);
          resolve({ endpointUrl: parsed.endpointUrl, namespaceIndex: parsed.namespaceIndex ?? 0 });
        }
      } catch {
        lines.push(line);
      }
    });
  });
  return {
    pid: child.pid ?? 0,
    ...ready,
    cpuSeconds: () => procStat(child.pid)?.cpuSeconds,
    rssMb: () => procStat(child.pid)?.rssMb,
    stop: () => stopChild(child, exited),
  };
}

/**
 * Runs one measured client to the end, with nodeFlags (the gateway's, for every kind of client
 * alike); resolves with the JSON object it prints last.
 */
export async function runClientProcess(args: string[], timeoutMs: number, nodeFlags: readonly string[]): Promise<Record<string, unknown>> {
  const { child, lines, exited } = start(CLIENT_ENTRY, args, nodeFlags);
  let last: Record<string, unknown> | undefined;
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      last = JSON.parse(line) as Record<string, unknown>;
    } catch {
      lines.push(line);
    }
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await exited;
  clearTimeout(timer);
  if (code !== 0 || !last) throw new Error(`client run ${args.join(' ')} failed (exit ${code}):\n${lines.join('\n')}`);
  return last;
}

/** utime + stime and RSS of a process, from /proc; undefined off Linux. */
function procStat(pid: number | undefined): { cpuSeconds: number; rssMb: number } | undefined {
  const cpuSeconds = processCpuSeconds(pid);
  const rssMb = processRssMb(pid);
  return cpuSeconds === undefined || rssMb === undefined ? undefined : { cpuSeconds, rssMb };
}
