import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { processCpuSeconds } from './cpu.ts';

/** The Modbus simulator as a child process, so the benchmark's CPU figures are the client's alone. */
export interface ModbusSimProcess {
  pid: number;
  port: number;
  /** CPU seconds (user + sys) the simulator has used so far; undefined off Linux. */
  cpuSeconds(): number | undefined;
  stop(): Promise<void>;
}

export const SIM_START_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 5_000;
const ENTRY = fileURLToPath(new URL('../../sim/devices/modbus-main.ts', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const LISTENING = 'Modbus simulator listening.';

export async function startModbusSimProcess(units: string): Promise<ModbusSimProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, '--units', units], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const onExit = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.once('exit', onExit);
  const stderr: string[] = [];
  createInterface({ input: child.stderr }).on('line', (line) => stderr.push(line));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the Modbus simulator did not start within ${SIM_START_TIMEOUT_MS} ms`)), SIM_START_TIMEOUT_MS);
    void exited.then(() => reject(new Error(`the Modbus simulator exited before it started:\n${stderr.join('\n')}`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      try {
        const entry = JSON.parse(line) as { msg?: string; port?: number };
        if (entry.msg === LISTENING && typeof entry.port === 'number') {
          clearTimeout(timer);
          resolve(entry.port);
        }
      } catch {
        // Not a log line; ignore.
      }
    });
  });
  const pid = child.pid ?? 0;
  return {
    pid,
    port,
    cpuSeconds: () => processCpuSeconds(pid),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
      process.removeListener('exit', onExit);
    },
  };
}
