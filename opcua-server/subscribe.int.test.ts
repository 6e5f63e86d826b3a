import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AttributeIds, ClientMonitoredItemGroup, ClientSubscription, TimestampsToReturn, type DataValue } from 'node-opcua';
import type { TagInfo } from '../gateway/sources/types.ts';
import { until } from '../test/helpers/wait.ts';
import { connect, makeClientPki, reading, startTestServer, type TestClient, type TestServer } from './test-support.ts';

/** A client subscribed to 1,000 variables receives every change a simulated source feeds in. */
const VARIABLES = 1_000;
const ROUNDS = 5;
/** Each monitored item keeps more values than rounds fed between two publishes. */
const QUEUE_SIZE = 16;
const PUBLISHING_INTERVAL_MS = 50;
const ROUND_GAP_MS = 20;
const DELIVERY_DEADLINE_MS = 20_000;

let t: TestServer;
let client: TestClient;
let clientDir: string;

const tagOf = (i: number) => `area${Math.floor(i / 100)}/sensor${i}`;
const valueOf = (round: number, i: number) => round * 100_000 + i;

beforeAll(async () => {
  t = await startTestServer({ allow_anonymous: true, security_modes: ['None'] });
  const tags: TagInfo[] = Array.from({ length: VARIABLES }, (_, i) => ({ tag: tagOf(i), dataType: 'Double' }));
  t.events.emit('tags', 'sim', tags);
  for (let i = 0; i < VARIABLES; i++) t.events.emit('reading', reading('sim', tagOf(i), valueOf(0, i)));
  clientDir = await mkdtemp(join(tmpdir(), 'opcua-client-test-'));
  client = await connect(t.server.endpointUrl, { pki: await makeClientPki(clientDir, 'subscriber') });
});

afterAll(async () => {
  await client?.close();
  await t?.close();
  await rm(clientDir, { recursive: true, force: true });
});

it('delivers every change of 1,000 subscribed variables, in order', async () => {
  const subscription = ClientSubscription.create(client.session, {
    requestedPublishingInterval: PUBLISHING_INTERVAL_MS,
    requestedLifetimeCount: 600,
    requestedMaxKeepAliveCount: 20,
    maxNotificationsPerPublish: 0,
    publishingEnabled: true,
  });
  const received: number[][] = Array.from({ length: VARIABLES }, () => []);
  const items = Array.from({ length: VARIABLES }, (_, i) => ({ nodeId: `ns=${client.ns};s=sim/${tagOf(i)}`, attributeId: AttributeIds.Value }));
  const group = ClientMonitoredItemGroup.create(subscription, items, { samplingInterval: 0, queueSize: QUEUE_SIZE, discardOldest: false }, TimestampsToReturn.Both);
  group.on('changed', (_item, dv: DataValue, index: number) => received[index]!.push(dv.value.value as number));
  await new Promise<void>((resolve, reject) => {
    group.once('initialized', resolve);
    group.once('err', (message) => reject(new Error(message)));
  });
  await until('initial values', () => received.every((values) => values.length === 1), DELIVERY_DEADLINE_MS);

  for (let round = 1; round <= ROUNDS; round++) {
    for (let i = 0; i < VARIABLES; i++) t.events.emit('reading', reading('sim', tagOf(i), valueOf(round, i)));
    await new Promise((r) => setTimeout(r, ROUND_GAP_MS));
  }
  const expected = (i: number) => Array.from({ length: ROUNDS + 1 }, (_, round) => valueOf(round, i));
  await until('every change', () => received.every((values) => values.length >= ROUNDS + 1), DELIVERY_DEADLINE_MS);
  for (let i = 0; i < VARIABLES; i++) expect(received[i], tagOf(i)).toEqual(expected(i));
  await subscription.terminate();
});
