import { parseArgs } from 'node:util';
import { createLogger } from '../../common/logger.ts';
import type { SourceReading } from '../../common/reading.ts';
import { opcua } from '../../gateway/sources/opcua/index.ts';
import { opcuaConfigSchema } from '../../gateway/sources/opcua/config.ts';
import type { SourceContext } from '../../gateway/sources/types.ts';

/**
 * One measured OPC UA client, run in a process of its own by scripts/bench/opcua.ts:
 *   --kind bare     node-opcua's own client API: ClientSubscription + ClientMonitoredItemGroup
 *   --kind gateway  the gateway's OPC UA source, its readings handed to a pipeline context
 *                   that stamps them (gateway id, run id, seq) as the pipeline does first
 *   --kind encode   the same, and each stamped reading also encoded to its bronze protobuf
 *                   record, as the pipeline does once per reading (no batching, no Redis)
 * All subscribe the same counters with the same parameters, track gaps per node (each node
 * counts ticks, so a skipped number is a lost notification), and print one JSON line.
 */
const RSS_SAMPLE_MS = 100;
const POLL_MS = 20;
const MB = 1024 * 1024;
const ITEMS_PER_CALL = 1_000;
const ITEMS_PER_SUBSCRIPTION = 10_000;
const QUEUE_SIZE = 10;
const KEEP_ALIVE_COUNT = 10;
const LIFETIME_COUNT = 60;
const MAX_NOTIFICATIONS_PER_PUBLISH = 10_000;
const SESSION_TIMEOUT_MS = 60_000;
const FIRST_VALUES_TIMEOUT_MS = 120_000;
const ID_DIGITS = 5;

const { values: a } = parseArgs({
  options: {
    kind: { type: 'string' },
    endpoint: { type: 'string' },
    ns: { type: 'string' },
    nodes: { type: 'string' },
    'sampling-ms': { type: 'string' },
    'measure-s': { type: 'string' },
    'change-ms': { type: 'string' },
  },
  strict: true,
});
const kind = a.kind === 'bare' || a.kind === 'encode' ? a.kind : 'gateway';
const endpoint = a.endpoint ?? '';
const ns = Number(a.ns);
const nodes = Number(a.nodes);
const samplingMs = Number(a['sampling-ms']);
const measureS = Number(a['measure-s']);
const changeMs = Number(a['change-ms']);
const nodeId = (i: number) => `ns=${ns};s=Counters.C${String(i).padStart(ID_DIGITS, '0')}`;

let rssPeak = process.memoryUsage.rss();
const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage.rss())), RSS_SAMPLE_MS);

// Gap tracking: one number per node, no object per node.
const last = new Float64Array(nodes).fill(-1);
let seen = 0;
let notifications = 0;
let lost = 0;
function onValue(index: number, value: unknown): void {
  notifications++;
  if (typeof value !== 'number' || index < 0 || index >= nodes) return;
  const previous = last[index] ?? -1;
  if (previous < 0) seen++;
  else if (value > previous + 1) lost += value - previous - 1;
  if (value > previous) last[index] = value;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(POLL_MS);
  }
}

async function gateway(encode: boolean): Promise<() => Promise<void>> {
  const config = opcuaConfigSchema.parse({
    endpoint_url: endpoint,
    security: { pki_dir: '.data/bench/opcua-pki' },
    session_timeout_ms: SESSION_TIMEOUT_MS,
    max_items_per_call: ITEMS_PER_CALL,
    groups: [
      {
        publishing_interval_ms: samplingMs,
        sampling_interval_ms: samplingMs,
        queue_size: QUEUE_SIZE,
        keep_alive_count: KEEP_ALIVE_COUNT,
        lifetime_count: LIFETIME_COUNT,
        max_notifications_per_publish: MAX_NOTIFICATIONS_PER_PUBLISH,
        max_items_per_subscription: ITEMS_PER_SUBSCRIPTION,
        nodes: Array.from({ length: nodes }, (_, i) => ({ node_id: nodeId(i), tag: `n${i}` })),
      },
    ],
  });
  // Loaded only for --kind encode, so the gateway run does not carry protobufjs and the schemas.
  const encodeReading = encode ? (await import('../../common/records/encode.ts')).encodeReading : undefined;
  const source = opcua.create('bench', config) as ReturnType<typeof opcua.create> & { stats(): { monitored: number } | undefined };
  let seq = 0;
  const ctx: SourceContext = {
    emit: (r: SourceReading) => {
      const stamped = { ...r, gatewayId: 'bench', runId: 'bench-run', seq: ++seq };
      encodeReading?.(stamped, 'proto');
      onValue(Number(r.tag.slice(1)), r.value);
    },
    reject: () => undefined,
    describe: () => undefined,
    log: createLogger({ name: 'bench-gateway', level: 'warn' }, process.stderr),
  };
  await source.start(ctx);
  await until('all nodes monitored', () => (source.stats()?.monitored ?? 0) >= nodes, FIRST_VALUES_TIMEOUT_MS);
  return () => source.stop();
}

async function bare(): Promise<() => Promise<void>> {
  const { AttributeIds, ClientSubscription, OPCUAClient, TimestampsToReturn } = await import('node-opcua-client');
  const client = OPCUAClient.create({ endpointMustExist: false, requestedSessionTimeout: SESSION_TIMEOUT_MS, connectionStrategy: { maxRetry: 0, initialDelay: 1000, maxDelay: 1000 } });
  await client.connect(endpoint);
  const session = await client.createSession();
  for (let first = 0; first < nodes; first += ITEMS_PER_SUBSCRIPTION) {
    const subscription = ClientSubscription.create(session, {
      requestedPublishingInterval: samplingMs,
      requestedMaxKeepAliveCount: KEEP_ALIVE_COUNT,
      requestedLifetimeCount: LIFETIME_COUNT,
      maxNotificationsPerPublish: MAX_NOTIFICATIONS_PER_PUBLISH,
      publishingEnabled: true,
      priority: 0,
    });
    const end = Math.min(nodes, first + ITEMS_PER_SUBSCRIPTION);
    for (let start = first; start < end; start += ITEMS_PER_CALL) {
      const items = Array.from({ length: Math.min(ITEMS_PER_CALL, end - start) }, (_, k) => ({ nodeId: nodeId(start + k), attributeId: AttributeIds.Value }));
      const group = await subscription.monitorItems(items, { samplingInterval: samplingMs, queueSize: QUEUE_SIZE, discardOldest: true }, TimestampsToReturn.Both);
      const base = start;
      group.on('changed', (_item, dataValue, index) => onValue(base + index, dataValue.value.value));
    }
  }
  return async () => {
    await session.close();
    await client.disconnect();
  };
}

/** Waits for notifications to start after a quiet spell (a burst begins); returns the count just before it. */
async function burstStart(quietMs: number): Promise<number> {
  let count = notifications;
  let quietSince = performance.now();
  for (;;) {
    await sleep(1);
    const now = performance.now();
    if (notifications !== count) {
      if (now - quietSince >= quietMs) return count;
      count = notifications;
      quietSince = now;
    }
  }
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const stop = kind === 'bare' ? await bare() : await gateway(kind === 'encode');
  const subscribeS = (performance.now() - t0) / 1000;
  await until('a value from every node', () => seen >= nodes, FIRST_VALUES_TIMEOUT_MS);
  const firstValuesS = (performance.now() - t0) / 1000;
  // The measured window: steady state only, a whole number of change periods starting as a
  // burst of changes begins, so each window holds the same number of bursts.
  const periods = Math.max(1, Math.round((measureS * 1000) / changeMs));
  const quietMs = changeMs / 4;
  const startCount = await burstStart(quietMs);
  const startLost = lost;
  const cpu = process.cpuUsage();
  const w0 = performance.now();
  // Counting stops in the quiet spell before the next burst: exactly `periods` bursts.
  await sleep(periods * changeMs - quietMs);
  const wallMs = periods * changeMs;
  const cpuWallMs = performance.now() - w0;
  const used = process.cpuUsage(cpu);
  const count = notifications - startCount;
  const rssEnd = process.memoryUsage.rss();
  await stop();
  clearInterval(sampler);
  process.stdout.write(
    `${JSON.stringify({
      kind,
      nodes,
      subscribe_s: subscribeS,
      first_values_s: firstValuesS,
      window_s: wallMs / 1000,
      notifications: count,
      notifications_per_s: count / (wallMs / 1000),
      lost: lost - startLost,
      lost_before_window: startLost,
      cpu_pct: ((used.user + used.system) / 1000 / cpuWallMs) * 100,
      rss_peak_mb: rssPeak / MB,
      rss_end_mb: rssEnd / MB,
      heap_used_mb: process.memoryUsage().heapUsed / MB,
    })}\n`,
  );
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`opcua bench client failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
