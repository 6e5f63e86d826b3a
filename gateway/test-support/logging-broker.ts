import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../common/net/free-port.ts';
import { until } from '../../test/helpers/wait.ts';

const CANDIDATES = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto', '/usr/local/sbin/mosquitto', '/usr/local/bin/mosquitto'];
/** Mosquitto's notice line for each accepted connection: "New client connected from <addr> as <client id> (...)". */
const CONNECTED = /New client connected from \S+ as (\S+) /;

export interface LoggingBroker {
  url: string;
  /** Client ids in the order the broker accepted their connections (a reconnect appears again). */
  connections(): string[];
  stop(): Promise<void>;
}

/**
 * A private Mosquitto on a free 127.0.0.1 port that logs every accepted connection, so a
 * test can prove from the broker's side whether a client connected again.
 */
export async function startLoggingBroker(): Promise<LoggingBroker> {
  const binary = CANDIDATES.find((p) => existsSync(p));
  if (!binary) throw new Error('mosquitto not found: install it (apt-get install mosquitto)');
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'mosquitto-log-'));
  const conf = join(dir, 'mosquitto.conf');
  await writeFile(
    conf,
    [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false', 'max_queued_messages 0', 'log_dest stderr', 'log_type notice', ''].join('\n'),
  );
  const child: ChildProcess = spawn(binary, ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d) => (output += String(d)));
  child.stderr?.on('data', (d) => (output += String(d)));
  await until(`mosquitto listening on ${port}`, async () => {
    if (child.exitCode !== null) throw new Error(`mosquitto exited with code ${child.exitCode}: ${output}`);
    return new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
  });
  return {
    url: `mqtt://127.0.0.1:${port}`,
    connections: () =>
      output
        .split('\n')
        .map((line) => CONNECTED.exec(line)?.[1])
        .filter((id): id is string => id !== undefined),
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
