import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { DataType, MessageSecurityMode, OPCUACertificateManager, OPCUAServer, SecurityPolicy, StatusCodes, Variant, type UAVariable } from 'node-opcua';
import { createLogger } from '../../common/logger.ts';
import type { Reading } from '../../common/reading.ts';
import { GatewayEvents } from '../../gateway/events.ts';
import type { TagInfo } from '../../gateway/sources/types.ts';
import { opcuaServerConfigSchema } from '../../opcua-server/config.ts';
import { startAggregatedServer } from '../../opcua-server/server.ts';
import { sibling } from './built.ts';

/**
 * One run of bench:opcua-server, in a process of its own so its RSS is this run's alone:
 * a server with N Double variables (the aggregated server, or a bare node-opcua server as the
 * library's ceiling), every variable changed once a second, one subscribed client in a child
 * process. Prints one JSON line with the figures. Run with --expose-gc to also get the memory
 * left after a full collection (rss_mb_live), besides the peak V8 lets the heap reach.
 */
const SLICES_PER_SECOND = 10;
const SLICE_MS = 1000 / SLICES_PER_SECOND;
const TAGS_PER_FOLDER = 1000;
const DRAIN_MS = 3_000;
const RSS_SAMPLE_MS = 200;
const MB = 1024 * 1024;
const CLIENT_READY_TIMEOUT_MS = 300_000;
const BUILD_POLL_MS = 20;
const SOURCE = 'bench';
/** Run from source (tsx) or from dist/ (built): the client is forked in the same form. */
const CLIENT = sibling(import.meta.url, 'opcua-server-client');

const { values } = parseArgs({
  options: {
    mode: { type: 'string', default: 'ours' },
    variables: { type: 'string', default: '10000' },
    seconds: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '5' },
  },
});
const mode = values.mode === 'bare' ? 'bare' : 'ours';
const N = Number(values.variables);
const SECONDS = Number(values.seconds);
const WARMUP = Number(values.warmup);

const tagOf = (i: number) => `group${Math.floor(i / TAGS_PER_FOLDER)}/tag${i}`;

interface Served {
  endpointUrl: string;
  nodeIds: string[];
  startS: number;
  buildS: number;
  /** Changes every variable to the round's value; slice k of SLICES_PER_SECOND. */
  feed(round: number, slice: number): void;
  stop(): Promise<void>;
}

async function serveOurs(dir: string): Promise<Served> {
  const events = new GatewayEvents();
  const config = opcuaServerConfigSchema.parse({
    enabled: true,
    host: '127.0.0.1',
    port: 0,
    advertised_hostname: '127.0.0.1',
    pki_dir: join(dir, 'pki'),
    allow_anonymous: true,
    security_modes: ['None'],
    shutdown_grace_ms: 0,
    namespace_uri: 'urn:bench:iot-connector',
  });
  let t0 = performance.now();
  const server = await startAggregatedServer({ config, events, log: createLogger({ name: 'bench', level: 'warn' }), gateway: () => ({ uptimeS: 0, queueDepth: 0, spoolBytes: 0 }) });
  const startS = (performance.now() - t0) / 1000;
  t0 = performance.now();
  const tags: TagInfo[] = Array.from({ length: N }, (_, i) => ({ tag: tagOf(i), dataType: 'Double' }));
  events.emit('tags', SOURCE, tags);
  // Declared variables are built in slices; the build is done when none is pending.
  while (server.status().pendingVariables > 0) await sleep(BUILD_POLL_MS);
  const buildS = (performance.now() - t0) / 1000;
  const names = tags.map((t) => t.tag);
  let seq = 0;
  const feed = (round: number, slice: number) => {
    const now = Date.now() * 1000;
    for (let i = slice; i < N; i += SLICES_PER_SECOND) {
      const reading: Reading = {
        source: SOURCE,
        tag: names[i]!,
        value: round,
        quality: 0,
        sourceTimeUs: now,
        gatewayTimeUs: now,
        gatewayId: 'bench',
        runId: 'bench',
        seq: ++seq,
        details: { protocol: 'mqtt', topic: names[i]!, qos: 0, retain: false },
      };
      events.emit('reading', reading);
    }
  };
  feed(0, 0);
  for (let s = 1; s < SLICES_PER_SECOND; s++) feed(0, s);
  // The server registers its namespace after node-opcua's own (ns=1): ns=2.
  return { endpointUrl: server.endpointUrl, nodeIds: names.map((tag) => `ns=2;s=${SOURCE}/${tag}`), startS, buildS, feed, stop: () => server.stop() };
}

async function serveBare(dir: string): Promise<Served> {
  let t0 = performance.now();
  const server = new OPCUAServer({
    port: 0,
    host: '127.0.0.1',
    hostname: '127.0.0.1',
    resourcePath: '/bare',
    serverCertificateManager: new OPCUACertificateManager({ rootFolder: join(dir, 'pki'), automaticallyAcceptUnknownCertificate: false }),
    securityModes: [MessageSecurityMode.None],
    securityPolicies: [SecurityPolicy.None],
    allowAnonymous: true,
    serverCapabilities: { minSupportedSampleRate: 0 },
    isAuditing: false,
  });
  await server.initialize();
  await server.start();
  const startS = (performance.now() - t0) / 1000;
  t0 = performance.now();
  const addressSpace = server.engine.addressSpace!;
  const namespace = addressSpace.getOwnNamespace();
  const root = namespace.addFolder(addressSpace.rootFolder.objects, { browseName: SOURCE });
  const variables: UAVariable[] = [];
  let folder = root;
  for (let i = 0; i < N; i++) {
    if (i % TAGS_PER_FOLDER === 0) folder = namespace.addFolder(root, { browseName: `group${i / TAGS_PER_FOLDER}` });
    variables.push(namespace.addVariable({ organizedBy: folder, nodeId: `s=${tagOf(i)}`, browseName: `tag${i}`, dataType: 'Double', minimumSamplingInterval: 0 }));
  }
  const buildS = (performance.now() - t0) / 1000;
  const feed = (round: number, slice: number) => {
    const now = new Date();
    for (let i = slice; i < N; i += SLICES_PER_SECOND) variables[i]!.setValueFromSource(new Variant({ dataType: DataType.Double, value: round }), StatusCodes.Good, now);
  };
  for (let s = 0; s < SLICES_PER_SECOND; s++) feed(0, s);
  return { endpointUrl: server.getEndpointUrl(), nodeIds: variables.map((v) => v.nodeId.toString()), startS, buildS, feed, stop: () => server.shutdown(0) };
}

function request<T>(child: ChildProcess, message: object, reply: string, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the client did not answer ${JSON.stringify(message).slice(0, 40)} within ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (m: { type: string; message?: string }) => {
      if (m.type === 'error') {
        clearTimeout(timer);
        reject(new Error(`client: ${m.message}`));
      } else if (m.type === reply) {
        clearTimeout(timer);
        child.off('message', onMessage);
        resolve(m as T);
      }
    };
    child.on('message', onMessage);
    child.send(message);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-opcua-server-'));
  const served = mode === 'ours' ? await serveOurs(dir) : await serveBare(dir);
  const client = fork(CLIENT.path, [], { execArgv: CLIENT.execArgv, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  let t0 = performance.now();
  await request(client, { type: 'start', endpointUrl: served.endpointUrl, nodeIds: served.nodeIds }, 'ready', CLIENT_READY_TIMEOUT_MS);
  // The client has them; the harness's copy (about 50 bytes a variable) is not the server's memory.
  served.nodeIds = [];
  const subscribeS = (performance.now() - t0) / 1000;

  const lag = monitorEventLoopDelay({ resolution: 10 });
  let round = 0;
  let cpu = process.cpuUsage();
  let windowStart = 0;
  let rssPeak = 0;
  let atPeak: NodeJS.MemoryUsage | undefined;
  let rssSum = 0;
  let rssSamples = 0;
  // The whole breakdown at the peak: whether the RSS above the live size is V8 heap not yet
  // collected, or memory outside it (Buffers, malloc).
  const sampler = setInterval(() => {
    if (windowStart === 0) return;
    const usage = process.memoryUsage();
    const rss = usage.rss;
    if (rss > rssPeak) atPeak = usage;
    rssPeak = Math.max(rssPeak, rss);
    rssSum += rss;
    rssSamples++;
  }, RSS_SAMPLE_MS);
  const totalRounds = WARMUP + SECONDS;
  await new Promise<void>((resolve) => {
    let slice = 0;
    round = 1;
    const timer = setInterval(() => {
      served.feed(round, slice);
      slice++;
      if (slice === SLICES_PER_SECOND) {
        slice = 0;
        if (round === WARMUP) {
          // The window starts with round WARMUP + 1.
          cpu = process.cpuUsage();
          windowStart = performance.now();
          lag.enable();
        }
        if (round === totalRounds) {
          clearInterval(timer);
          resolve();
          return;
        }
        round++;
      }
    }, SLICE_MS);
  });
  const wallS = (performance.now() - windowStart) / 1000;
  const used = process.cpuUsage(cpu);
  lag.disable();
  clearInterval(sampler);
  const rssEnd = process.memoryUsage.rss();
  await sleep(DRAIN_MS);
  // What stays after a full collection: the live memory, apart from V8's choice of when to collect.
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
  const live = process.memoryUsage();
  const { perRound } = await request<{ perRound: Record<string, number> }>(client, { type: 'counts' }, 'counts', 30_000);
  let delivered = 0;
  for (let r = WARMUP + 1; r <= totalRounds; r++) delivered += perRound[String(r)] ?? 0;
  const fed = N * SECONDS;
  client.send({ type: 'stop' });
  await new Promise((r) => client.once('exit', r));
  t0 = performance.now();
  await served.stop();
  const stopS = (performance.now() - t0) / 1000;
  rmSync(dir, { recursive: true, force: true });
  process.stdout.write(
    `${JSON.stringify({
      mode,
      variables: N,
      seconds: SECONDS,
      start_s: served.startS,
      build_s: served.buildS,
      subscribe_s: subscribeS,
      stop_s: stopS,
      fed,
      fed_per_s: fed / wallS,
      delivered,
      delivered_per_s: delivered / wallS,
      delivered_ratio: delivered / fed,
      cpu_pct: ((used.user + used.system) / 1000 / (wallS * 1000)) * 100,
      rss_mb_peak: rssPeak / MB,
      rss_mb_mean: rssSamples ? rssSum / rssSamples / MB : rssEnd / MB,
      rss_mb_end: rssEnd / MB,
      heap_mb_end: process.memoryUsage().heapUsed / MB,
      heap_total_mb_peak: (atPeak?.heapTotal ?? 0) / MB,
      heap_used_mb_peak: (atPeak?.heapUsed ?? 0) / MB,
      external_mb_peak: (atPeak?.external ?? 0) / MB,
      array_buffers_mb_peak: (atPeak?.arrayBuffers ?? 0) / MB,
      heap_total_mb_live: live.heapTotal / MB,
      external_mb_live: live.external / MB,
      rss_mb_live: gc ? live.rss / MB : undefined,
      heap_mb_live: gc ? live.heapUsed / MB : undefined,
      loop_lag_p99_ms: lag.percentile(99) / 1e6,
    })}\n`,
  );
  process.exit(0);
}

main().catch((err: Error) => {
  process.stderr.write(`opcua-server bench run failed: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
