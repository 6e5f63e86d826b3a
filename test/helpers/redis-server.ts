import { spawn, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { until } from './wait.ts';

const STARTUP_DEADLINE_MS = 10_000;

/**
 * A private redis-server on a given port, so a test can stop it and start it again on the
 * same port to prove that nothing is lost across an outage. No persistence.
 */
export async function startRedisServer(port: number): Promise<{ url: string; stop(): Promise<void> }> {
  const child: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  await until(
    `redis-server on port ${port}`,
    async () => {
      if (child.exitCode !== null) throw new Error(`redis-server exited with code ${child.exitCode}`);
      const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      probe.on('error', () => {});
      try {
        await probe.connect();
        return (await probe.ping()) === 'PONG';
      } finally {
        probe.disconnect();
      }
    },
    STARTUP_DEADLINE_MS,
  );
  return {
    url,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    },
  };
}
