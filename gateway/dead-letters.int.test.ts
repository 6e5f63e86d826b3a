import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfigText } from '../common/config/load.ts';
import { startRelay, type RunningRelay } from '../relay/app.ts';
import { relayConfigSchema } from '../relay/config.ts';
import { startTestEmulator, TEST_CLIENT_SECRET, type TestEmulator } from '../test/helpers/emulator.ts';
import { captureLogger } from '../test/helpers/logs.ts';
import { startBroker, type Broker } from '../test/helpers/mosquitto.ts';
import { deletePrefix, testRedisUrl, uniquePrefix } from '../test/helpers/redis.ts';
import { until } from '../test/helpers/wait.ts';
import { startGateway, type Gateway } from './app.ts';
import { gatewayConfigSchema } from './config.ts';
import type { GatewayStatus } from './status.ts';

const GOOD = 1_000;
const MALFORMED = 1_000;
const PUBLISH_WINDOW = 200;
const PAGE = 400;
const PAYLOAD_SAMPLES = 50;
const LANDING_DEADLINE_MS = 90_000;

interface Message {
  topic: string;
  payload: string;
  /** Set for a malformed payload: the rejection it must give. */
  kind?: string;
  reason?: RegExp;
}

/** Good and malformed payloads interleaved, each on its own topic, so a dead letter's origin names the message. */
function messages(root: string): Message[] {
  const malformed: Array<(n: number) => Message> = [
    (n) => ({ topic: `${root}/json/b${n}`, payload: `{"value": ${n}`, kind: 'invalid_json', reason: /^invalid JSON: / }),
    (n) => ({ topic: `${root}/json/b${n}`, payload: `{"val": ${n}}`, kind: 'value_not_found', reason: /^value path 'value' not found$/ }),
    (n) => ({ topic: `${root}/json/b${n}`, payload: `{"value": ${n}, "ts": "noon"}`, kind: 'invalid_timestamp', reason: /^timestamp 'noon' is not an ISO 8601/ }),
    (n) => ({ topic: `${root}/plain/b${n}`, payload: `${n} kW`, kind: 'invalid_number', reason: / is not a decimal number$/ }),
  ];
  const good: Array<(n: number) => Message> = [
    (n) => ({ topic: `${root}/json/g${n}`, payload: JSON.stringify({ value: n, ts: 1_714_564_800_000 + n }) }),
    (n) => ({ topic: `${root}/plain/g${n}`, payload: String(n) }),
  ];
  return Array.from({ length: GOOD + MALFORMED }, (_, i) => {
    const n = Math.floor(i / 2);
    return i % 2 === 0 ? (good[n % good.length] as (n: number) => Message)(n) : (malformed[n % malformed.length] as (n: number) => Message)(n);
  });
}

const sumOf = (metrics: string, name: string) =>
  [...metrics.matchAll(new RegExp(`^${name}\\{[^}]*\\} (\\d+)$`, 'gm'))].reduce((n, m) => n + Number(m[1]), 0);

/**
 * Acceptance, end to end with real parts: Mosquitto, the gateway, Redis, the relay and the
 * Zerobus emulator. 1,000 malformed payloads among 1,000 good ones: every good one lands once,
 * every malformed one is in the dead-letter store with its reason, read through the relay's
 * API, and the gateway's and the relay's counters agree.
 */
describe('malformed payloads, dead-lettered end to end', () => {
  const prefix = uniquePrefix('dlq-e2e');
  const table = `main.iot.dlq_${prefix.replace(/-/g, '_')}`;
  const root = `dlq/${prefix}`;
  const logs = captureLogger('dlq-e2e');
  let broker: Broker;
  let emulator: TestEmulator;
  let gateway: Gateway;
  let relay: RunningRelay;

  beforeAll(async () => {
    broker = await startBroker();
    emulator = await startTestEmulator();
    const env = { REDIS_URL: testRedisUrl(), ZB_SECRET: TEST_CLIENT_SECRET };
    const relayYaml = `
redis: { url: "\${REDIS_URL}", prefix: ${prefix} }
http: { port: 0 }
zerobus:
  endpoint: ${emulator.grpcAddress}
  workspace_url: ${emulator.workspaceUrl}
  workspace_id: "1234567890123456"
  client_id: test-client
  client_secret: \${ZB_SECRET}
  insecure: true
workers: { concurrency: 4, discovery_interval_ms: 200 }
`;
    const gatewayYaml = `
gateway: { id: gw-dlq }
redis: { url: "\${REDIS_URL}", prefix: ${prefix} }
http: { port: 0 }
sources:
  - name: line1
    table: ${table}
    mqtt:
      url: ${broker.url}
      subscriptions:
        - { topic: "${root}/json/+", qos: 1, timestamp_path: ts, tag: "{3}" }
        - { topic: "${root}/plain/+", qos: 1, format: plain, tag: "{3}" }
`;
    relay = await startRelay(parseConfigText(relayYaml, relayConfigSchema, env), { log: logs.log.child({ process: 'relay' }) });
    gateway = await startGateway(parseConfigText(gatewayYaml, gatewayConfigSchema, env), { log: logs.log.child({ process: 'gateway' }) });
    await until('the MQTT source to subscribe', () => gateway.status().sources[0]?.state === 'connected');
  });

  afterAll(async () => {
    await gateway?.stop();
    await relay?.stop();
    await emulator?.stop();
    await broker?.stop();
    await deletePrefix(prefix, testRedisUrl());
  });

  it(`lands the ${GOOD} good payloads once and dead-letters the ${MALFORMED} malformed ones with their reasons`, async () => {
    const all = messages(root);
    const publisher = await mqtt.connectAsync(broker.url, { clientId: `${prefix}-pub` });
    for (let start = 0; start < all.length; start += PUBLISH_WINDOW) {
      await Promise.all(all.slice(start, start + PUBLISH_WINDOW).map((m) => publisher.publishAsync(m.topic, m.payload, { qos: 1 })));
    }
    await publisher.endAsync();
    const bad = new Map(all.filter((m) => m.kind !== undefined).map((m) => [m.topic, m]));
    expect(bad.size).toBe(MALFORMED);

    await until(`${GOOD} rows in the emulator`, async () => (await emulator.count(table)) >= GOOD || undefined, LANDING_DEADLINE_MS);
    await until(`${MALFORMED} dead letters stored`, () => gateway.status().deadLetters.stored === MALFORMED, LANDING_DEADLINE_MS);

    // Every good payload landed exactly once, with its value.
    expect(await emulator.duplicates(table)).toMatchObject({ rows: GOOD, distinct: GOOD, duplicates: 0 });
    const rows = await emulator.rows(table, GOOD);
    expect(rows.map((r) => r.value_number as number).sort((a, b) => a - b)).toEqual(Array.from({ length: GOOD }, (_, i) => i));

    // Every malformed payload is in the dead-letter store, read through the relay's API, page by page.
    const api = `http://127.0.0.1:${relay.httpPort}`;
    const entries: Array<Record<string, unknown>> = [];
    let cursor: string | null = null;
    do {
      const page = (await (await fetch(`${api}/dlq?table=${table}&limit=${PAGE}${cursor ? `&cursor=${cursor}` : ''}`)).json()) as { entries: Array<Record<string, unknown>>; nextCursor: string | null };
      entries.push(...page.entries);
      cursor = page.nextCursor;
    } while (cursor);
    expect(entries).toHaveLength(MALFORMED);
    expect(new Set(entries.map((e) => e.origin)).size).toBe(MALFORMED);
    for (const entry of entries) {
      const sent = bad.get(entry.origin as string) as Message;
      expect(sent, `dead letter for ${String(entry.origin)}`).toBeDefined();
      expect(entry).toMatchObject({ kind: 'payload', table, source: 'line1', reasonKind: sent.kind, payloadTruncated: false, payloadChars: sent.payload.length });
      expect(entry.reason).toMatch(sent.reason as RegExp);
    }
    for (const entry of entries.filter((_, i) => i % (MALFORMED / PAYLOAD_SAMPLES) === 0)) {
      const full = (await (await fetch(`${api}/dlq/${entry.id as string}`)).json()) as { payload: string; receivedAtMs: number };
      expect(full.payload).toBe(bad.get(entry.origin as string)?.payload);
      expect(full.receivedAtMs).toBeGreaterThan(0);
    }

    // The counters agree: gateway metrics, gateway /status, the driver's per-topic counts, the relay's store stats.
    const metrics = await (await fetch(`http://127.0.0.1:${gateway.httpPort}/metrics`)).text();
    expect(sumOf(metrics, 'records_rejected_total')).toBe(MALFORMED);
    expect(sumOf(metrics, 'records_dead_lettered_total')).toBe(MALFORMED);
    expect(sumOf(metrics, 'records_read_total')).toBe(GOOD);
    expect(metrics).not.toContain('records_dead_letter_lost_total{');
    const kinds = new Map<string, number>();
    for (const m of bad.values()) kinds.set(m.kind as string, (kinds.get(m.kind as string) ?? 0) + 1);
    for (const [kind, count] of kinds) {
      expect(metrics).toContain(`records_dead_lettered_total{source="line1",kind="${kind}"} ${count}`);
      expect(metrics).toContain(`records_rejected_total{source="line1",reason="${kind}"} ${count}`);
    }
    const status = (await (await fetch(`http://127.0.0.1:${gateway.httpPort}/status`)).json()) as GatewayStatus;
    expect(status.sources[0]).toMatchObject({ readings: GOOD, rejected: MALFORMED, deadLettered: MALFORMED, details: { messages: GOOD + MALFORMED, rejected: MALFORMED } });
    // One topic per malformed payload: the busiest 20 are listed, the other 980 summed.
    const details = status.sources[0]?.details as { rejectedByTopic: Record<string, number>; rejectedOtherTopics: { topics: number; rejected: number } };
    expect(Object.keys(details.rejectedByTopic)).toHaveLength(20);
    expect(details.rejectedOtherTopics).toEqual({ topics: MALFORMED - 20, rejected: MALFORMED - 20 });
    expect(status.deadLetters).toMatchObject({ stored: MALFORMED, lost: {}, storeFull: false, backlog: { entries: 0 } });
    expect(status.tables[table]?.recordsEnqueued).toBe(GOOD);
    const relayStatus = (await (await fetch(`${api}/status`)).json()) as { deadLetters: { entries: number; addedTotal: number } };
    expect(relayStatus.deadLetters).toMatchObject({ entries: MALFORMED, addedTotal: MALFORMED });
  });
});
