import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { until } from './helpers/wait.ts';

const ROWS_DEADLINE_MS = 45_000;
const STOP_DEADLINE_MS = 30_000;

/** The demo's child processes with their command lines. */
function children(parent: number): Array<{ pid: number; args: string }> {
  try {
    return execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(parent)], { encoding: 'utf8' })
      .split('\n')
      .map((line) => /^\s*(\d+)\s+(.*)$/.exec(line))
      .flatMap((m) => (m ? [{ pid: Number(m[1]), args: m[2] ?? '' }] : []));
  } catch {
    return [];
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('npm run demo', () => {
  it('lands MQTT, Modbus and OPC UA rows in their emulator tables, then stops every child on SIGINT', { timeout: 120_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'demo-'));
    const demo = spawn(process.execPath, ['--import', 'tsx', 'scripts/demo.ts'], { env: { ...process.env, DEMO_DIR: dir }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    demo.stdout.on('data', (chunk) => (output += String(chunk)));
    demo.stderr.on('data', (chunk) => (output += String(chunk)));
    const exited = new Promise<number | null>((resolve) => demo.once('exit', (code) => resolve(code)));
    try {
      // Every protocol lands: MQTT, Modbus and OPC UA rows, each in its own table.
      await until('rows in all three tables', () => /\[demo\] rows landed: [1-9]\d* in main\.iot\.mqtt_bronze, [1-9]\d* in main\.iot\.modbus_bronze, [1-9]\d* in main\.iot\.opcua_bronze/.test(output), ROWS_DEADLINE_MS);
      const firstRow = async (table: string) => JSON.parse((await readFile(join(dir, 'zerobus', `${table}.jsonl`), 'utf8')).split('\n')[0] ?? '{}');
      expect(await firstRow('main.iot.mqtt_bronze')).toMatchObject({ source_name: 'site1-mqtt', gateway_id: 'demo-gateway', seq: expect.any(Number), topic: expect.stringMatching(/^plant\/site1\//) });
      expect(await firstRow('main.iot.modbus_bronze')).toMatchObject({ source_name: 'line1-plc', gateway_id: 'demo-gateway', unit_id: 1 });
      expect(await firstRow('main.iot.opcua_bronze')).toMatchObject({ source_name: 'plant-opcua', gateway_id: 'demo-gateway', node_id: expect.stringMatching(/^ns=\d+;s=/) });
      expect(output).toMatch(/OPC UA server for SCADA\/HMI: opc\.tcp:\/\/127\.0\.0\.1:\d+\/connector/);
      expect(output).not.toContain('demo-operator');
      const services = children(demo.pid ?? 0).filter((c) => c.args.includes('main.ts'));
      expect(services.map((c) => c.args.split(' ').find((a) => a.endsWith('main.ts'))).sort()).toEqual([
        'gateway/main.ts',
        'relay/main.ts',
        'sim/devices/main.ts',
        'sim/devices/modbus-main.ts',
        'sim/devices/opcua-main.ts',
        'sim/zerobus/main.ts',
      ]);

      demo.kill('SIGINT');
      const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('timeout'), STOP_DEADLINE_MS))]);
      expect(code).toBe(0);
      expect(services.filter((c) => alive(c.pid))).toEqual([]);
      expect(output).toContain('[demo] stopped; no child process left running');
    } finally {
      if (demo.exitCode === null) demo.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });
});
