import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { until } from '../../test/helpers/wait.ts';
import type { RelayStatus } from '../status.ts';

const START_DEADLINE_MS = 30_000;
const KEPT_LINES = 400;

/** A relay as a child process (relay/main.ts), for tests that kill -9 it or send it SIGTERM. */
export interface RelayProcess {
  pid: number;
  port: number;
  url: string;
  child: ChildProcess;
  /** Its JSON log lines so far (the last few hundred). */
  lines: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  status(): Promise<RelayStatus>;
  kill(signal: NodeJS.Signals): void;
}

export async function startRelayProcess(configFile: string, yaml: string, port: number, env: Record<string, string> = {}): Promise<RelayProcess> {
  await writeFile(configFile, yaml);
  const child = spawn(process.execPath, ['--import', 'tsx', 'relay/main.ts', '--config', configFile], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '', ...env },
  });
  const lines: string[] = [];
  const keep = (line: string) => {
    lines.push(line);
    if (lines.length > KEPT_LINES) lines.shift();
  };
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', keep);
  createInterface({ input: child.stderr as NodeJS.ReadableStream }).on('line', keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const url = `http://127.0.0.1:${port}`;
  let gone = false;
  void exited.then(() => (gone = true));
  await until(
    `relay child on port ${port} to answer /health`,
    async () => {
      if (gone) throw new Error(`relay child exited before it answered:\n${lines.join('\n')}`);
      return (await fetch(`${url}/health`)).ok;
    },
    START_DEADLINE_MS,
  );
  return {
    pid: child.pid ?? 0,
    port,
    url,
    child,
    lines,
    exited,
    status: async () => (await (await fetch(`${url}/status`)).json()) as RelayStatus,
    kill: (signal) => void child.kill(signal),
  };
}
