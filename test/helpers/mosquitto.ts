import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.ts';

export interface Broker {
  url: string;
  stop(): Promise<void>;
}

const CANDIDATES = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto', '/usr/local/sbin/mosquitto', '/usr/local/bin/mosquitto'];

/**
 * A private Mosquitto on a free 127.0.0.1 port, so a test neither depends on nor disturbs a
 * broker that is already running. Its queues are unbounded, so a burst is never dropped by
 * the broker. MQTT_URL points the tests at an existing broker instead.
 */
export async function startBroker(): Promise<Broker> {
  if (process.env.MQTT_URL) return { url: process.env.MQTT_URL, stop: async () => {} };
  const binary = CANDIDATES.find((p) => existsSync(p));
  if (!binary) throw new Error('mosquitto not found: install it (apt-get install mosquitto) or set MQTT_URL');
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'mosquitto-'));
  const conf = join(dir, 'mosquitto.conf');
  await writeFile(
    conf,
    [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false', 'max_queued_messages 0', 'max_inflight_messages 0', 'log_dest none', ''].join('\n'),
  );
  const child: ChildProcess = spawn(binary, ['-c', conf], { stdio: 'ignore' });
  await waitForPort(port, child);
  return {
    url: `mqtt://127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function waitForPort(port: number, child: ChildProcess, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`mosquitto exited with code ${child.exitCode}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`mosquitto did not listen on port ${port} within ${timeoutMs} ms`);
}
