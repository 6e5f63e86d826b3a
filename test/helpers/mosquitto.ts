import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './ports.ts';

export interface Broker {
  /** The plain MQTT listener, mqtt://127.0.0.1:port. */
  url: string;
  /** mqtts://127.0.0.1:port, when started with tls. */
  mqttsUrl?: string;
  /** ws://127.0.0.1:port/mqtt, when started with websockets. */
  wsUrl?: string;
  /** wss://127.0.0.1:port/mqtt, when started with tls and websockets. */
  wssUrl?: string;
  /** The broker's process id; absent when MQTT_URL names an outside broker. */
  pid?: number;
  stop(): Promise<void>;
}

export interface BrokerOptions {
  /** Adds a TLS listener (and a wss one with websockets) using this certificate. */
  tls?: {
    /** PEM of the CA that signed the server certificate and any client certificates. */
    ca: string;
    server: { cert: string; key: string };
    /** Refuse TLS clients without a certificate signed by ca. */
    requireClientCert?: boolean;
  };
  /** Adds a WebSocket listener (and a wss one with tls). */
  websockets?: boolean;
  /** Every listener then requires this user name and password; anonymous clients are refused. */
  user?: { username: string; password: string };
}

const CANDIDATES = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto', '/usr/local/sbin/mosquitto', '/usr/local/bin/mosquitto'];
const PASSWD_CANDIDATES = ['/usr/bin/mosquitto_passwd', '/usr/local/bin/mosquitto_passwd', '/usr/sbin/mosquitto_passwd'];

/**
 * A private Mosquitto on free 127.0.0.1 ports, so a test neither depends on nor disturbs a
 * broker that is already running. Its queues are unbounded, so a burst is never dropped by
 * the broker. MQTT_URL points the tests at an existing broker instead, for a plain broker
 * only: TLS, WebSocket and user options always start a private one.
 *
 * Notes on Mosquitto 2.0.11 (Debian 12): a WebSocket listener binds every interface unless
 * `socket_domain ipv4` is set, and the broker refuses to start when WebSocket listeners are
 * its only ones; the plain listener is always there, so neither bites.
 */
export async function startBroker(options: BrokerOptions = {}): Promise<Broker> {
  const plainOnly = !options.tls && !options.websockets && !options.user;
  if (process.env.MQTT_URL && plainOnly) return { url: process.env.MQTT_URL, stop: async () => {} };
  const binary = CANDIDATES.find((p) => existsSync(p));
  if (!binary) throw new Error('mosquitto not found: install it (apt-get install mosquitto) or set MQTT_URL');
  const dir = await mkdtemp(join(tmpdir(), 'mosquitto-'));
  // Mosquitto started as root drops to its own user before reading some files.
  await chmod(dir, 0o755);
  const ports: number[] = [];
  const lines = ['allow_anonymous ' + (options.user ? 'false' : 'true'), 'persistence false', 'max_queued_messages 0', 'max_inflight_messages 0', 'log_dest none'];
  if (options.user) lines.push(`password_file ${await writePasswordFile(dir, options.user)}`);

  const listener = async (extra: string[]) => {
    const port = await freePort();
    ports.push(port);
    lines.push('', `listener ${port} 127.0.0.1`, 'socket_domain ipv4', ...extra);
    return port;
  };
  const broker: Omit<Broker, 'stop'> = { url: `mqtt://127.0.0.1:${await listener([])}` };
  if (options.tls) {
    const tls = await tlsLines(dir, options.tls);
    broker.mqttsUrl = `mqtts://127.0.0.1:${await listener(tls)}`;
    if (options.websockets) broker.wssUrl = `wss://127.0.0.1:${await listener(['protocol websockets', ...tls])}/mqtt`;
  }
  if (options.websockets) broker.wsUrl = `ws://127.0.0.1:${await listener(['protocol websockets'])}/mqtt`;

  const conf = join(dir, 'mosquitto.conf');
  await writeFile(conf, `${lines.join('\n')}\n`);
  const child: ChildProcess = spawn(binary, ['-c', conf], { stdio: 'ignore' });
  try {
    for (const port of ports) await waitForPort(port, child);
  } catch (err) {
    child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    ...broker,
    ...(child.pid !== undefined ? { pid: child.pid } : {}),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function tlsLines(dir: string, tls: NonNullable<BrokerOptions['tls']>): Promise<string[]> {
  const files = { ca: join(dir, 'ca.pem'), cert: join(dir, 'server.pem'), key: join(dir, 'server.key') };
  await writeFile(files.ca, tls.ca);
  await writeFile(files.cert, tls.server.cert);
  await writeFile(files.key, tls.server.key, { mode: 0o644 });
  return [`cafile ${files.ca}`, `certfile ${files.cert}`, `keyfile ${files.key}`, `require_certificate ${tls.requireClientCert ? 'true' : 'false'}`];
}

async function writePasswordFile(dir: string, user: { username: string; password: string }): Promise<string> {
  const tool = PASSWD_CANDIDATES.find((p) => existsSync(p));
  if (!tool) throw new Error('mosquitto_passwd not found: install mosquitto (it ships the tool)');
  const file = join(dir, 'passwd');
  await promisify(execFile)(tool, ['-c', '-b', file, user.username, user.password]);
  await chmod(file, 0o644);
  return file;
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
