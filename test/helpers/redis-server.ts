import { spawn, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { until } from './wait.ts';

const STARTUP_DEADLINE_MS = 10_000;

export interface RedisServerOptions {
  /**
   * Keep the data in this directory (append-only file, fsync on every write), so a server
   * stopped with SIGKILL and started again on the same directory still has every key: an
   * outage test can then count everything written before, during and after it.
   */
  persistDir?: string;
}

/**
 * A private redis-server on a given port, so a test can stop it and start it again on the
 * same port to prove that nothing is lost across an outage. No persistence unless asked.
 */
export async function startRedisServer(port: number, options: RedisServerOptions = {}): Promise<{ url: string; stop(): Promise<void> }> {
  const persistence = options.persistDir
    ? ['--dir', options.persistDir, '--appendonly', 'yes', '--appendfsync', 'always']
    : ['--appendonly', 'no'];
  const child: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...persistence], { stdio: 'ignore' });
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
