import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { freePort } from '../common/net/free-port.ts';
import { deletePrefix } from '../common/redis/delete-prefix.ts';
import { isAlive, startChild, stopChild, type Child } from './demo/children.ts';
import { demoConfigs } from './demo/configs.ts';
import { DEFAULT_REDIS_URL, ensureRedis } from './demo/redis.ts';

/**
 * npm run demo: simulator (with its own MQTT broker), Zerobus emulator, relay and gateway on
 * this machine, each as a child process. Prints where rows land and how many; Ctrl-C stops
 * everything and waits for every child to exit.
 */
const DEMO_DIR = resolve(process.env.DEMO_DIR ?? '.demo');
const REPORT_INTERVAL_MS = 2_000;
const READY_DEADLINE_MS = 30_000;
const TABLE = 'main.iot.mqtt_bronze';

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
  const ports = { mqtt: await freePort(), grpc: await freePort(), emulatorHttp: await freePort(), gateway: await freePort(), relay: await freePort() };
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
    say('stopping: gateway, simulator, relay, emulator ...');
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
  children.push(startChild('emulator', 'sim/zerobus/main.ts', ['--config', files.emulator ?? ''], logDir));
  await waitFor('the Zerobus emulator', () => ok(`${emulatorUrl}/health`));
  children.push(startChild('relay', 'relay/main.ts', ['--config', files.relay ?? ''], logDir));
  children.push(startChild('simulator', 'sim/devices/main.ts', ['--embedded-port', String(ports.mqtt), '--rate', '50'], logDir));
  children.push(startChild('gateway', 'gateway/main.ts', ['--config', files.gateway ?? ''], logDir));
  await waitFor('the relay', () => ok(`http://127.0.0.1:${ports.relay}/health`));
  await waitFor('the gateway', () => ok(`http://127.0.0.1:${ports.gateway}/health`));

  const rowsFile = relative(process.cwd(), join(DEMO_DIR, 'zerobus', `${TABLE}.jsonl`));
  say(`rows land in ${rowsFile} (one JSON row per line)`);
  say(`gateway status: http://127.0.0.1:${ports.gateway}/status   relay status: http://127.0.0.1:${ports.relay}/status`);
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
    void rowCount(emulatorUrl).then((rows) => say(`${rows} rows landed in ${TABLE}`));
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

async function rowCount(emulatorUrl: string): Promise<number> {
  try {
    const res = await fetch(`${emulatorUrl}/api/tables/${TABLE}/count`, { signal: AbortSignal.timeout(1000) });
    return ((await res.json()) as { rows: number }).rows;
  } catch {
    return 0;
  }
}

async function waitFor(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + READY_DEADLINE_MS;
  while (!(await check())) {
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
