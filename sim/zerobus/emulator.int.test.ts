import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../common/config/load.ts';
import { captureLogger } from '../../test/helpers/logs.ts';
import { freePort } from '../../test/helpers/ports.ts';
import { emulatorConfigSchema } from './config.ts';
import { startEmulator } from './emulator.ts';
import { RowStore } from './store.ts';

const TABLE = 'main.iot.lifecycle';

describe('startEmulator', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'zerobus-emu-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const config = (grpcPort = 0, httpPort = 0) =>
    parseConfigText(`grpc: { port: ${grpcPort} }\nhttp: { port: ${httpPort} }\ndata_dir: ${JSON.stringify(dir)}`, emulatorConfigSchema, {});
  const count = async (workspaceUrl: string) => ((await (await fetch(`${workspaceUrl}/api/tables/${TABLE}/count`)).json()) as { rows: number }).rows;

  it('picks free ports for port 0 and returns the ones it bound', async () => {
    const emulator = await startEmulator(config(), captureLogger().log);
    try {
      expect(emulator.grpcPort).toBeGreaterThan(0);
      expect(emulator.httpPort).toBeGreaterThan(0);
      expect(emulator.grpcAddress).toBe(`127.0.0.1:${emulator.grpcPort}`);
      expect(emulator.workspaceUrl).toBe(`http://127.0.0.1:${emulator.httpPort}`);
      expect(await (await fetch(`${emulator.workspaceUrl}/health`)).json()).toEqual({ status: 'ok' });
    } finally {
      await emulator.stop();
    }
  });

  it('listens on the ports it is given', async () => {
    const [grpcPort, httpPort] = [await freePort(), await freePort()];
    const emulator = await startEmulator(config(grpcPort, httpPort), captureLogger().log);
    await emulator.stop();
    expect([emulator.grpcPort, emulator.httpPort]).toEqual([grpcPort, httpPort]);
  });

  it('may be stopped twice, and frees its ports', async () => {
    const emulator = await startEmulator(config(), captureLogger().log);
    await emulator.stop();
    await emulator.stop();
    await expect(fetch(`${emulator.workspaceUrl}/health`)).rejects.toThrow();
    const again = await startEmulator(config(emulator.grpcPort, emulator.httpPort), captureLogger().log);
    await again.stop();
  });

  it('counts the rows landed before a restart', async () => {
    const first = await startEmulator(config(), captureLogger().log);
    // Rows written through the store the gRPC streams use (stream.int.test.ts covers that path).
    const writer = new RowStore(first.dataDir, false);
    await writer.init();
    await writer.append(TABLE, ['{"seq":1}', '{"seq":2}', '{"seq":3}']);
    await writer.close();
    await first.stop();
    const second = await startEmulator(config(), captureLogger().log);
    try {
      expect(await count(second.workspaceUrl)).toBe(3);
      expect(await (await fetch(`${second.workspaceUrl}/api/tables`)).json()).toEqual([{ table: TABLE, rows: 3 }]);
    } finally {
      await second.stop();
    }
  });

  it('fails to start when the HTTP port is taken, leaving no gRPC listener behind', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const taken = (blocker.address() as { port: number }).port;
    const grpcPort = await freePort();
    try {
      await expect(startEmulator(config(grpcPort, taken), captureLogger().log)).rejects.toThrow(/EADDRINUSE/);
      // The gRPC port is free again: a second emulator can bind it.
      const emulator = await startEmulator(config(grpcPort, 0), captureLogger().log);
      await emulator.stop();
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});
