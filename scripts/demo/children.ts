import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';

export const STOP_GRACE_MS = 15_000;

const live = new Set<ChildProcess>();
// Last resort: whatever way the demo exits, no child outlives it.
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export interface Child {
  name: string;
  process: ChildProcess;
  logFile: string;
  exited: Promise<number | null>;
}

/** Starts a TypeScript entry point as a child Node process, its output in a log file. */
export function startChild(name: string, entry: string, args: string[], logDir: string, env: NodeJS.ProcessEnv = {}): Child {
  const logFile = join(logDir, `${name}.log`);
  const out = createWriteStream(logFile, { flags: 'a' });
  // A process group of its own: Ctrl-C reaches only the demo, which stops the children in
  // order (gateway first, so it can flush) with one signal each.
  const child = spawn(process.execPath, ['--import', 'tsx', entry, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
    detached: true,
  });
  live.add(child);
  child.once('exit', () => live.delete(child));
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { name, process: child, logFile, exited };
}

/** SIGTERM, then SIGKILL after the grace period. Resolves when the process is gone. */
export async function stopChild(child: Child, graceMs = STOP_GRACE_MS): Promise<void> {
  if (child.process.exitCode !== null || child.process.signalCode !== null) return;
  child.process.kill('SIGTERM');
  const timer = setTimeout(() => child.process.kill('SIGKILL'), graceMs);
  await child.exited;
  clearTimeout(timer);
}

export function isAlive(child: Child): boolean {
  return child.process.exitCode === null && child.process.signalCode === null;
}
