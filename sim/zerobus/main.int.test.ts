import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const MAIN = new URL('./main.ts', import.meta.url).pathname;
const ROOT = new URL('../../', import.meta.url).pathname;

function run(args: string[], env: Record<string, string> = {}) {
  const { EMULATOR_CONFIG: _unset, ...base } = process.env;
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: ROOT, env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += String(chunk)));
  const stdoutLines: string[] = [];
  const lines = createInterface({ input: child.stdout });
  lines.on('line', (line) => stdoutLines.push(line));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const parse = (line: string): Record<string, unknown> | undefined => {
    try {
      return JSON.parse(line) as Record<string, unknown>;
    } catch {
      return undefined; // Not a log line.
    }
  };
  /** The first JSON log line on stdout with this msg. */
  const logLine = (msg: string) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const seen = stdoutLines.map(parse).find((e) => e?.msg === msg);
      if (seen) return resolve(seen);
      const onLine = (line: string) => {
        const entry = parse(line);
        if (entry?.msg !== msg) return;
        lines.off('line', onLine);
        resolve(entry);
      };
      lines.on('line', onLine);
      void exit.then((code) => reject(new Error(`exited with ${code} before logging "${msg}": ${stderr}`)));
    });
  return { child, exit, logLine, stdout: () => stdoutLines.join('\n'), stderr: () => stderr };
}

describe('npm run emulator (sim/zerobus/main.ts)', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'zerobus-main-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('validates its built-in defaults when no config file is given', async () => {
    const p = run(['--validate']);
    expect(await p.exit).toBe(0);
    expect(p.stdout()).toBe('config ok: (defaults)');
  });

  it('prints every config problem with its path and exits 2, with or without --validate', async () => {
    const file = join(dir, 'bad.yaml');
    await writeFile(file, 'grpc: { port: 70000 }\nclients: [{ client_id: a }]\n');
    for (const args of [['--config', file, '--validate'], ['--config', file]]) {
      const p = run(args);
      expect(await p.exit).toBe(2);
      expect(p.stderr().trim().split('\n').sort()).toEqual([
        'config error: clients[0].client_secret: required key is missing',
        'config error: grpc.port: expected at most 65535, got number 70000',
      ]);
    }
  });

  it('reads EMULATOR_CONFIG, logs its ports and data folder, serves, and exits 0 on SIGTERM', async () => {
    const file = join(dir, 'emulator.yaml');
    const dataDir = join(dir, 'data');
    await writeFile(file, `grpc: { port: 0 }\nhttp: { port: 0 }\ndata_dir: ${JSON.stringify(dataDir)}\n`);
    const p = run([], { EMULATOR_CONFIG: file });
    const started = await p.logLine('Zerobus emulator listening; rows land in <data_dir>/<table>.jsonl.');
    expect(started).toMatchObject({ name: 'emulator', dataDir, grpcPort: expect.any(Number), httpPort: expect.any(Number) });
    expect(started.grpc).toBe(`127.0.0.1:${started.grpcPort}`);
    expect(await (await fetch(`${started.workspaceUrl}/health`)).json()).toEqual({ status: 'ok' });
    p.child.kill('SIGTERM');
    expect(await p.exit).toBe(0);
  });
});
