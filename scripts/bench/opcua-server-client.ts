import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AttributeIds,
  ClientMonitoredItemGroup,
  ClientSubscription,
  MessageSecurityMode,
  OPCUACertificateManager,
  OPCUAClient,
  SecurityPolicy,
  TimestampsToReturn,
  type DataValue,
} from 'node-opcua';

/**
 * The subscribed SCADA client of bench:opcua-server, in a process of its own (forked with IPC)
 * so its memory and CPU are not counted as the server's. It subscribes to every variable with
 * samplingInterval 0 and counts notifications per feed round (each value is its round number).
 *
 * IPC: receives { endpointUrl, nodeIds }; sends { type: 'ready' } once subscribed, answers
 * { type: 'counts' } with { type: 'counts', perRound: Record<round, count> }, exits on 'stop'.
 */
const ITEMS_PER_GROUP = 5_000;
const PUBLISHING_INTERVAL_MS = 250;
const KEEPALIVE_COUNT = 20;
const LIFETIME_COUNT = 200;
const QUEUE_SIZE = 2;

interface Start {
  type: 'start';
  endpointUrl: string;
  nodeIds: string[];
}

const perRound = new Map<number, number>();
let stop: (() => Promise<void>) | undefined;

async function start(message: Start): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-opcua-client-'));
  const client = OPCUAClient.create({
    applicationName: 'bench-opcua-client',
    clientCertificateManager: new OPCUACertificateManager({ rootFolder: join(dir, 'pki'), automaticallyAcceptUnknownCertificate: true }),
    securityMode: MessageSecurityMode.None,
    securityPolicy: SecurityPolicy.None,
    endpointMustExist: false,
    connectionStrategy: { maxRetry: 0 },
  });
  await client.connect(message.endpointUrl);
  const session = await client.createSession();
  const subscription = ClientSubscription.create(session, {
    requestedPublishingInterval: PUBLISHING_INTERVAL_MS,
    requestedMaxKeepAliveCount: KEEPALIVE_COUNT,
    requestedLifetimeCount: LIFETIME_COUNT,
    maxNotificationsPerPublish: 0,
    publishingEnabled: true,
  });
  const count = (_item: unknown, dv: DataValue) => {
    const round = dv.value.value as number;
    perRound.set(round, (perRound.get(round) ?? 0) + 1);
  };
  for (let i = 0; i < message.nodeIds.length; i += ITEMS_PER_GROUP) {
    const items = message.nodeIds.slice(i, i + ITEMS_PER_GROUP).map((nodeId) => ({ nodeId, attributeId: AttributeIds.Value }));
    const group = ClientMonitoredItemGroup.create(subscription, items, { samplingInterval: 0, queueSize: QUEUE_SIZE, discardOldest: true }, TimestampsToReturn.Both);
    group.on('changed', count);
    await new Promise<void>((resolve, reject) => {
      group.once('initialized', resolve);
      group.once('err', (m) => reject(new Error(m)));
    });
  }
  stop = async () => {
    await subscription.terminate().catch(() => undefined);
    await session.close().catch(() => undefined);
    await client.disconnect();
    rmSync(dir, { recursive: true, force: true });
  };
  process.send!({ type: 'ready' });
}

process.on('message', (message: { type: string } & Partial<Start>) => {
  if (message.type === 'start') {
    start(message as Start).catch((err: Error) => {
      process.send!({ type: 'error', message: err.stack ?? err.message });
      process.exit(1);
    });
  } else if (message.type === 'counts') {
    process.send!({ type: 'counts', perRound: Object.fromEntries(perRound) });
  } else if (message.type === 'stop') {
    void (stop?.() ?? Promise.resolve()).finally(() => process.exit(0));
  }
});
