import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { processCpuSeconds } from './cpu.ts';

/**
 * The Zerobus emulator as a child process, so a benchmark's CPU and memory figures are its
 * client's alone. It listens on free ports with a temporary data folder, both gone after
 * stop() (or when this process exits, whatever the reason).
 */
export interface EmulatorProcess {
  pid: number;
  grpcAddress: string;
  workspaceUrl: string;
  dataDir: string;
  /** Rows landed in a table, from GET /api/tables/:table/count. */
  count(table: string): Promise<number>;
  /**
   * Empties a table's rows file once it has been counted, so a long benchmark does not pile
   * gigabytes of JSON lines into the page cache and slow its later rounds.
   */
  discardRows(table: string): Promise<void>;
  /** CPU seconds (user + sys) the emulator has used so far; undefined off Linux. */
  cpuSeconds(): number | undefined;
  stop(): Promise<void>;
}

export const EMULATOR_START_TIMEOUT_MS = 30_000;
export const EMULATOR_STOP_GRACE_MS = 5_000;
const KEPT_OUTPUT_LINES = 20;
const ENTRY = fileURLToPath(new URL('../../sim/zerobus/main.ts', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export async function startEmulatorProcess(extraYaml = ''): Promise<EmulatorProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-zerobus-'));
  const dataDir = join(dir, 'data');
  const configFile = join(dir, 'emulator.yaml');
  writeFileSync(configFile, `grpc: { port: 0 }\nhttp: { port: 0 }\ndata_dir: ${JSON.stringify(dataDir)}\nlog: { level: info }\n${extraYaml}`);
  // A process group of its own: Ctrl-C reaches the benchmark, which stops the emulator itself.
  const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, '--config', configFile], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const lastLines: string[] = [];
  const keep = (line: string) => {
    lastLines.push(line);
    if (lastLines.length > KEPT_OUTPUT_LINES) lastLines.shift();
  };
  // Last resort: whatever way the benchmark exits, the emulator and its rows go with it.
  const onExit = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', onExit);
  createInterface({ input: child.stderr }).on('line', keep);
  child.once('error', (err) => keep(`spawn failed: ${err.message}`));

  let addresses: { grpc: string; workspaceUrl: string };
  try {
    addresses = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the emulator did not log its addresses within ${EMULATOR_START_TIMEOUT_MS} ms`)), EMULATOR_START_TIMEOUT_MS);
      void exited.then(() => reject(new Error(`the emulator exited with ${child.exitCode ?? child.signalCode} before it started:\n${lastLines.join('\n')}`)));
      createInterface({ input: child.stdout }).on('line', (line) => {
        keep(line);
        const parsed = parseStartLine(line);
        if (parsed) {
          clearTimeout(timer);
          resolve(parsed);
        }
      });
    });
  } catch (err) {
    onExit();
    process.removeListener('exit', onExit);
    throw err;
  }

  let stopping: Promise<void> | undefined;
  return {
    pid: child.pid ?? 0,
    grpcAddress: addresses.grpc,
    workspaceUrl: addresses.workspaceUrl,
    dataDir,
    async count(table) {
      const res = await fetch(`${addresses.workspaceUrl}/api/tables/${table}/count`);
      if (!res.ok) throw new Error(`emulator count of ${table}: HTTP ${res.status}: ${await res.text()}`);
      return ((await res.json()) as { rows: number }).rows;
    },
    discardRows: (table) => truncate(join(dataDir, `${table}.jsonl`), 0),
    cpuSeconds: () => processCpuSeconds(child.pid),
    stop() {
      stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), EMULATOR_STOP_GRACE_MS);
          await exited;
          clearTimeout(timer);
        }
        onExit();
        process.removeListener('exit', onExit);
      })();
      return stopping;
    },
  };
}

/** The emulator's start line: a JSON log line with its gRPC address and workspace URL. */
function parseStartLine(line: string): { grpc: string; workspaceUrl: string } | undefined {
  try {
    const entry = JSON.parse(line) as { grpc?: unknown; workspaceUrl?: unknown };
    if (typeof entry.grpc === 'string' && typeof entry.workspaceUrl === 'string') return { grpc: entry.grpc, workspaceUrl: entry.workspaceUrl };
  } catch {
    // Not JSON: some other output.
  }
  return undefined;
}

