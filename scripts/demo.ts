import { mkdir, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join, relative, resolve } from 'node:path';
import { freePort } from '../common/net/free-port.ts';
import { deletePrefix } from '../common/redis/delete-prefix.ts';
import { isAlive, startChild, stopChild, type Child } from './demo/children.ts';
import { DEMO_OPCUA_PATH, DEMO_TABLES, demoConfigs } from './demo/configs.ts';
import { DEFAULT_REDIS_URL, ensureRedis } from './demo/redis.ts';

/**
 * npm run demo: the three device simulators (MQTT with its own broker, Modbus TCP, OPC UA),
 * the Zerobus emulator, the relay and the gateway (with its aggregated OPC UA server) on this
 * machine, each as a child process. Prints where rows land and how many per table; Ctrl-C
 * stops everything and waits for every child to exit.
 */
const DEMO_DIR = resolve(process.env.DEMO_DIR ?? '.demo');
const REPORT_INTERVAL_MS = 2_000;
const READY_DEADLINE_MS = 30_000;

const say = (line: string) => process.stdout.write(`[demo] ${line}\n`);

async function main(): Promise<number> {
  const redis = await ensureRedis(process.env.REDIS_URL ?? DEFAULT_REDIS_URL, freePort);
  if (!redis) {
    process.stderr.write(
      `[demo] no Redis answers at ${process.env.REDIS_URL ?? DEFAULT_REDIS_URL} and redis-server is not installed.\n` +
        '[demo] Install it (Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis)\n' +
        '[demo] or point REDIS_URL at a Redis you can use, e.g. REDIS_URL=redis://host:6379 npm run demo\n',
    );
    return 1;
  }
  say(redis.child ? `started a private redis-server at ${redis.url}` : `using Redis at ${redis.url}`);

  await rm(join(DEMO_DIR, 'zerobus'), { recursive: true, force: true });
  const logDir = join(DEMO_DIR, 'logs');
  await mkdir(logDir, { recursive: true });
  const ports = {
    mqtt: await freePort(),
    modbus: await freePort(),
    opcuaSim: await freePort(),
    opcuaServer: await freePort(),
    grpc: await freePort(),
    emulatorHttp: await freePort(),
    gateway: await freePort(),
    relay: await freePort(),
  };
  const prefix = `demo-${process.pid}`;
  const configs = demoConfigs({ demoDir: DEMO_DIR, redisUrl: redis.url, prefix, ports });
  const files: Record<string, string> = {};
  for (const [name, text] of Object.entries(configs)) {
    files[name] = join(DEMO_DIR, `${name}.yaml`);
    await writeFile(files[name], text);
  }

  const children: Child[] = [];
  let stopping = false;
  const stopAll = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    say('stopping: gateway, simulators, relay, emulator ...');
    // The gateway first, so it flushes its last batches; the relay then drains what it holds.
    for (const child of [...children].reverse()) await stopChild(child);
    // The demo's queues live under a prefix of its own; leave a shared Redis as it was.
    await deletePrefix(prefix, redis.url).catch(() => undefined);
    if (redis.child && redis.child.exitCode === null) {
      const exited = new Promise((r) => redis.child?.once('exit', r));
      redis.child.kill('SIGTERM');
      await exited;
    }
    say('stopped; no child process left running');
  };

  const done = new Promise<number>((resolveDone) => {
    const onSignal = () => void stopAll().then(() => resolveDone(0));
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    process.once('SIGHUP', onSignal);
  });

  const emulatorUrl = `http://127.0.0.1:${ports.emulatorHttp}`;
  try {
    children.push(startChild('emulator', 'sim/zerobus/main.ts', ['--config', files.emulator ?? ''], logDir));
    await waitFor('the Zerobus emulator', () => ok(`${emulatorUrl}/health`), children);
    children.push(startChild('relay', 'relay/main.ts', ['--config', files.relay ?? ''], logDir));
    children.push(startChild('simulator', 'sim/devices/main.ts', ['--embedded-port', String(ports.mqtt), '--rate', '50'], logDir));
    children.push(startChild('modbus-sim', 'sim/devices/modbus-main.ts', ['--port', String(ports.modbus), '--units', '1'], logDir));
    children.push(startChild('opcua-sim', 'sim/devices/opcua-main.ts', ['--port', String(ports.opcuaSim), '--counters', '10'], logDir));
    // The gateway would connect anyway once they listen; waiting keeps its log free of retries.
    await waitFor('the Modbus simulator', () => listening(ports.modbus), children);
    await waitFor('the OPC UA simulator', () => listening(ports.opcuaSim), children);
    children.push(startChild('gateway', 'gateway/main.ts', ['--config', files.gateway ?? ''], logDir));
    await waitFor('the relay', () => ok(`http://127.0.0.1:${ports.relay}/health`), children);
    await waitFor('the gateway', () => ok(`http://127.0.0.1:${ports.gateway}/health`), children);
  } catch (err) {
    // A child that failed to start: stop the others (and clean Redis) before saying why.
    await stopAll();
    throw err;
  }

  say(`rows land in ${relative(process.cwd(), join(DEMO_DIR, 'zerobus'))}/<table>.jsonl (one JSON row per line)`);
  say(`gateway status: http://127.0.0.1:${ports.gateway}/status   relay status and dashboard: http://127.0.0.1:${ports.relay}/`);
  say(`OPC UA server for SCADA/HMI: opc.tcp://127.0.0.1:${ports.opcuaServer}${DEMO_OPCUA_PATH} (anonymous reads; user operator writes, password in ${relative(process.cwd(), files.gateway ?? '')})`);
  say(`emulator API:   ${emulatorUrl}/api/tables   logs: ${relative(process.cwd(), logDir)}/`);
  say('press Ctrl-C to stop');

  const report = setInterval(() => {
    if (stopping) return;
    const dead = children.find((c) => !isAlive(c));
    if (dead) {
      say(`${dead.name} exited unexpectedly (code ${String(dead.process.exitCode)}); see ${relative(process.cwd(), dead.logFile)}`);
      void stopAll().then(() => process.exit(1));
      return;
    }
    void Promise.all(DEMO_TABLES.map((table) => rowCount(emulatorUrl, table))).then((counts) =>
      say(`rows landed: ${DEMO_TABLES.map((table, i) => `${counts[i] ?? 0} in ${table}`).join(', ')}`),
    );
  }, REPORT_INTERVAL_MS);
  const code = await done;
  clearInterval(report);
  return code;
}

async function ok(url: string): Promise<boolean> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(1000) })).ok;
  } catch {
    return false;
  }
}

async function rowCount(emulatorUrl: string, table: string): Promise<number> {
  try {
    const res = await fetch(`${emulatorUrl}/api/tables/${table}/count`, { signal: AbortSignal.timeout(1000) });
    // An error answer (the emulator stopping, say) reads as no rows rather than a crash.
    return res.ok ? ((await res.json()) as { rows: number }).rows : 0;
  } catch {
    return 0;
  }
}

/** True once something accepts TCP connections on 127.0.0.1:port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolveCheck) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolveCheck(true);
    });
    socket.once('error', () => resolveCheck(false));
  });
}

async function waitFor(what: string, check: () => Promise<boolean>, children: Child[]): Promise<void> {
  const deadline = Date.now() + READY_DEADLINE_MS;
  while (!(await check())) {
    const dead = children.find((c) => !isAlive(c));
    if (dead) throw new Error(`${dead.name} exited (code ${String(dead.process.exitCode)}) while waiting for ${what}; see ${relative(process.cwd(), dead.logFile)}`);
    if (Date.now() > deadline) throw new Error(`${what} did not become ready within ${READY_DEADLINE_MS} ms; see ${DEMO_DIR}/logs/`);
    await new Promise((r) => setTimeout(r, 200));
  }
  say(`${what} is up`);
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`[demo] failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
