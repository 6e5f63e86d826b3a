import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfigText } from '../../common/config/load.ts';
import { createLogger } from '../../common/logger.ts';
import { Secret } from '../../common/secret.ts';
import type { ZerobusConfig } from '../../relay/config.ts';
import { emulatorConfigSchema } from '../../sim/zerobus/config.ts';
import { startEmulator, type RunningEmulator } from '../../sim/zerobus/emulator.ts';

export const TEST_WORKSPACE_ID = '1234567890123456';
export const TEST_CLIENT_ID = 'test-client';
export const TEST_CLIENT_SECRET = 'test-secret-7d1c';

export interface TestEmulator extends RunningEmulator {
  /** A relay zerobus config pointing at this emulator. */
  zerobusConfig(overrides?: Partial<ZerobusConfig>): ZerobusConfig;
  count(table: string): Promise<number>;
  rows(table: string, limit?: number): Promise<Array<Record<string, unknown>>>;
  duplicates(table: string): Promise<{ rows: number; distinct: number; duplicates: number }>;
}

/** An emulator on free 127.0.0.1 ports with its own temporary data folder. */
export async function startTestEmulator(extraYaml = ''): Promise<TestEmulator> {
  const dir = await mkdtemp(join(tmpdir(), 'zerobus-emu-'));
  const yaml = `grpc: { port: 0 }\nhttp: { port: 0 }\ndata_dir: ${JSON.stringify(dir)}\nlog: { level: warn }\n${extraYaml}`;
  const config = parseConfigText(yaml, emulatorConfigSchema, {});
  const emulator = await startEmulator(config, createLogger({ name: 'emulator', level: 'warn' }));
  const api = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${emulator.workspaceUrl}${path}`);
    if (!res.ok) throw new Error(`${path}: HTTP ${res.status}: ${await res.text()}`);
    return (await res.json()) as T;
  };
  return {
    ...emulator,
    zerobusConfig: (overrides = {}) => ({
      endpoint: emulator.grpcAddress,
      workspace_url: emulator.workspaceUrl,
      workspace_id: TEST_WORKSPACE_ID,
      client_id: TEST_CLIENT_ID,
      client_secret: new Secret(TEST_CLIENT_SECRET),
      insecure: true,
      ack_timeout_ms: 10_000,
      connect_timeout_ms: 5_000,
      max_inflight_batches: 64,
      token_refresh_margin_ms: 60_000,
      recovery_attempts: 5,
      recovery_initial_ms: 50,
      recovery_max_ms: 500,
      ...overrides,
    }),
    count: async (table) => (await api<{ rows: number }>(`/api/tables/${table}/count`)).rows,
    rows: (table, limit = 10_000) => api(`/api/tables/${table}/rows?limit=${limit}`),
    duplicates: (table) => api(`/api/tables/${table}/duplicates`),
    async stop() {
      await emulator.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
