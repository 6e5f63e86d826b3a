import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AttributeIds,
  ClientMonitoredItem,
  ClientSubscription,
  DataType,
  MessageSecurityMode,
  OPCUACertificateManager,
  SecurityPolicy,
  StatusCodes,
  TimestampsToReturn,
  UserTokenType,
  type DataValue,
} from 'node-opcua';
import type { ReadingValue } from '../common/reading.ts';
import type { SourceHandle } from '../gateway/events.ts';
import { SourceWriteError, type SourceStatus, type TagInfo } from '../gateway/sources/types.ts';
import { until } from '../test/helpers/wait.ts';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, makeClientPki, reading, startTestServer, trustClient, type ClientPki, type TestClient, type TestServer } from './test-support.ts';

/** One server for the whole file: browse, read, types, diagnostics, writes and hot changes. */
const TAGS: TagInfo[] = [
  { tag: 'line1/temp', dataType: 'Float', unit: 'degC', euRange: { low: 0, high: 150 }, description: 'Oven temperature' },
  { tag: 'line1/count', dataType: 'Int32' },
  { tag: 'line1/flags', dataType: 'Boolean', isArray: true },
  { tag: 'line1/limit', dataType: 'Double', writable: true },
  { tag: 'status', dataType: 'String' },
  { tag: 'energy', dataType: 'Int64', unit: 'kWh' },
  { tag: 'setpoints/speed', dataType: 'UInt16', writable: true },
];

let t: TestServer;
let clientDir: string;
let pki: ClientPki;
let anon: TestClient;
const writes: Array<{ tag: string; value: ReadingValue }> = [];
const status: SourceStatus = { state: 'connected' };
let refuseWith: SourceWriteError | undefined;

const handle = (name: string): SourceHandle => ({
  name,
  protocol: 'modbus',
  table: 'main.iot.modbus_bronze',
  status: () => status,
  write: async (tag, value) => {
    if (refuseWith) throw refuseWith;
    writes.push({ tag, value });
  },
});

const id = (c: TestClient, s: string) => `ns=${c.ns};s=${s}`;
const read = (c: TestClient, s: string, attributeId = AttributeIds.Value) => c.session.read({ nodeId: id(c, s), attributeId });
const browseNames = async (c: TestClient, nodeId: string) => ((await c.session.browse(nodeId)).references ?? []).map((r) => r.browseName.name);

beforeAll(async () => {
  clientDir = await mkdtemp(join(tmpdir(), 'opcua-client-test-'));
  pki = await makeClientPki(clientDir, 'main');
  // Trusted before the server starts, as an operator would do it.
  const trust = (pkiDir: string) => trustClient(pkiDir, pki, 'main');
  t = await startTestServer({
    allow_anonymous: true,
    security_modes: ['None', 'SignAndEncrypt'],
    users: [
      { username: 'operator', password: 'operator-secret', can_write: true },
      { username: 'viewer', password: 'viewer-secret' },
    ],
    write_through: { plc1: { tags: ['setpoints/**'] } },
    diagnostics_interval_ms: 100,
    certificate: { check_interval_ms: 1_000 },
  }, trust);
  t.events.emit('sourceAdded', handle('plc1'));
  t.events.emit('tags', 'plc1', TAGS);
  anon = await connect(t.server.endpointUrl, { pki });
});

afterAll(async () => {
  await anon?.close();
  await t?.close();
  await rm(clientDir, { recursive: true, force: true });
});

describe('address space', () => {
  it('browses Objects/<source>/<tag path as folders>/<variable>, with diagnostics and the Gateway object', async () => {
    expect(await browseNames(anon, 'ns=0;i=85')).toEqual(expect.arrayContaining(['plc1', 'Gateway', 'Server']));
    expect(await browseNames(anon, id(anon, 'plc1'))).toEqual(expect.arrayContaining(['_Diagnostics', 'line1', 'status', 'energy', 'setpoints']));
    const line1 = (await anon.session.browse(id(anon, 'plc1'))).references!.find((r) => r.browseName.name === 'line1')!;
    expect(await browseNames(anon, line1.nodeId.toString())).toEqual(expect.arrayContaining(['temp', 'count', 'flags', 'limit']));
  });

  it('gives each variable its declared DataType and ValueRank', async () => {
    const dataType = async (s: string) => (await read(anon, s, AttributeIds.DataType)).value.value.toString();
    expect(await dataType('plc1/line1/temp')).toBe('ns=0;i=10'); // Float
    expect(await dataType('plc1/line1/count')).toBe('ns=0;i=6'); // Int32
    expect(await dataType('plc1/energy')).toBe('ns=0;i=8'); // Int64
    expect(await dataType('plc1/setpoints/speed')).toBe('ns=0;i=5'); // UInt16
    expect((await read(anon, 'plc1/line1/flags', AttributeIds.ValueRank)).value.value).toBe(1);
    expect((await read(anon, 'plc1/line1/count', AttributeIds.ValueRank)).value.value).toBe(-1);
  });

  it('shows BadWaitingForInitialData until the first reading', async () => {
    expect((await read(anon, 'plc1/status')).statusCode).toEqual(StatusCodes.BadWaitingForInitialData);
  });

  it('gives EURange and EngineeringUnits to a numeric tag with a range and unit', async () => {
    const temp = await anon.session.browse(id(anon, 'plc1/line1/temp'));
    const property = (name: string) => temp.references!.find((r) => r.browseName.name === name)!.nodeId;
    const range = (await anon.session.read({ nodeId: property('EURange'), attributeId: AttributeIds.Value })).value.value;
    expect([range.low, range.high]).toEqual([0, 150]);
    const units = (await anon.session.read({ nodeId: property('EngineeringUnits'), attributeId: AttributeIds.Value })).value.value;
    expect(units.displayName.text).toBe('°C');
    expect(units.unitId).toBe(4408652);
    const energy = await anon.session.browse(id(anon, 'plc1/energy'));
    expect(energy.references!.map((r) => r.browseName.name)).toContain('EngineeringUnits');
    expect((await read(anon, 'plc1/line1/temp', AttributeIds.Description)).value.value.text).toBe('Oven temperature');
  });
});

describe('values', () => {
  it("carries the reading's value, source timestamp (to the microsecond) and StatusCode", async () => {
    const sourceTimeUs = 1_763_856_000_123_456;
    t.events.emit('reading', reading('plc1', 'line1/temp', 21.5, { sourceTimeUs, quality: 0x40000000 }));
    const dv = await read(anon, 'plc1/line1/temp');
    expect(dv.value.dataType).toBe(DataType.Float);
    expect(dv.value.value).toBe(21.5);
    expect(dv.statusCode.value).toBe(StatusCodes.Uncertain.value);
    expect(dv.sourceTimestamp!.getTime()).toBe(1_763_856_000_123);
    expect(dv.sourcePicoseconds).toBe(456_000_000);

    t.events.emit('reading', reading('plc1', 'line1/count', 7, { quality: 0x80310000 }));
    const bad = await read(anon, 'plc1/line1/count');
    expect([bad.value.value, bad.statusCode.name]).toEqual([7, 'BadNoCommunication']);
  });

  it('turns array JSON text into an array and a big integer into Int64', async () => {
    t.events.emit('reading', reading('plc1', 'line1/flags', '[true,false,true]'));
    t.events.emit('reading', reading('plc1', 'energy', 9_007_199_254_740_000));
    const flags = await read(anon, 'plc1/line1/flags');
    expect(Array.from(flags.value.value)).toEqual([true, false, true]);
    const energy = await read(anon, 'plc1/energy');
    expect(energy.value.dataType).toBe(DataType.Int64);
    const [high, low] = energy.value.value as [number, number];
    expect(high * 2 ** 32 + low).toBe(9_007_199_254_740_000);
  });

  it('creates a tag first seen in a reading, typed after its value', async () => {
    t.events.emit('reading', reading('mqtt1', 'plant/line2/pressure', 1.25));
    t.events.emit('reading', reading('mqtt1', 'plant/line2/state', 'running'));
    t.events.emit('reading', reading('mqtt1', 'plant/line2/alarm', null, { quality: 0x80000000 }));
    expect((await read(anon, 'mqtt1/plant/line2/pressure')).value.dataType).toBe(DataType.Double);
    expect((await read(anon, 'mqtt1/plant/line2/state')).value.value).toBe('running');
    expect((await read(anon, 'mqtt1/plant/line2/alarm', AttributeIds.DataType)).value.value.toString()).toBe('ns=0;i=24'); // BaseDataType
    // The first non-null value settles the type, in place.
    t.events.emit('reading', reading('mqtt1', 'plant/line2/alarm', true));
    expect((await read(anon, 'mqtt1/plant/line2/alarm')).value.value).toBe(true);
    expect((await read(anon, 'mqtt1/plant/line2/alarm', AttributeIds.DataType)).value.value.toString()).toBe('ns=0;i=1'); // Boolean
    t.events.emit('reading', reading('mqtt1', 'plant/line2/alarm', 3));
    expect((await read(anon, 'mqtt1/plant/line2/alarm')).statusCode.name).toBe('BadTypeMismatch');
  });

  it('keeps the type and the last value, with Bad_TypeMismatch, when a later value has another type', async () => {
    t.events.emit('reading', reading('mqtt1', 'plant/line3/level', 4.5));
    t.events.emit('reading', reading('mqtt1', 'plant/line3/level', 'broken sensor', { sourceTimeUs: 1_763_856_001_000_000 }));
    t.events.emit('reading', reading('mqtt1', 'plant/line3/level', 'still broken'));
    const dv = await read(anon, 'mqtt1/plant/line3/level');
    expect([dv.value.dataType, dv.value.value, dv.statusCode.name]).toEqual([DataType.Double, 4.5, 'BadTypeMismatch']);
    expect(t.logText().match(/plant\/line3\/level.*does not fit its variable/g)).toHaveLength(1);
    expect(t.logText()).not.toContain('failed to apply a gateway event');
    t.events.emit('reading', reading('mqtt1', 'plant/line3/level', 5));
    const back = await read(anon, 'mqtt1/plant/line3/level');
    expect([back.value.value, back.statusCode.name]).toEqual([5, 'Good']);
  });
});

describe('diagnostics', () => {
  it("shows each source's state, last error, readings count and last update, and the gateway's figures", async () => {
    status.state = 'disconnected';
    status.lastError = 'connect ECONNREFUSED 10.0.0.5:502';
    status.lastErrorAt = '2026-01-02T03:04:05.000Z';
    t.figures.uptimeS = 3600;
    t.figures.queueDepth = 42;
    t.figures.spoolBytes = 4096;
    t.events.emit('reading', reading('plc1', 'status', 'ok'));
    await until('diagnostics refreshed', async () => (await read(anon, 'plc1#Diagnostics.State')).value.value === 'disconnected');
    expect((await read(anon, 'plc1#Diagnostics.LastError')).value.value).toBe('connect ECONNREFUSED 10.0.0.5:502');
    expect((await read(anon, 'plc1#Diagnostics.LastErrorTime')).value.value.toISOString()).toBe('2026-01-02T03:04:05.000Z');
    const count = (await read(anon, 'plc1#Diagnostics.ReadingsCount')).value.value as [number, number];
    expect(count[1]).toBeGreaterThanOrEqual(5);
    expect((await read(anon, 'plc1#Diagnostics.LastUpdateTime')).value.value.getTime()).toBeGreaterThan(Date.now() - 60_000);
    await until('gateway figures', async () => (await read(anon, '#Gateway.UptimeS')).value.value === 3600);
    expect((await read(anon, '#Gateway.QueueDepth')).value.value).toEqual([0, 42]);
    expect((await read(anon, '#Gateway.SpoolBytes')).value.value).toEqual([0, 4096]);
    expect((await read(anon, '#Gateway.CertificateDaysLeft')).value.value).toBeGreaterThan(300);
    status.state = 'connected';
  });
});

describe('writes', () => {
  const write = (c: TestClient, s: string, dataType: DataType, value: unknown) =>
    c.session.write({ nodeId: id(c, s), attributeId: AttributeIds.Value, value: { value: { dataType, value } } });
  let operator: TestClient;
  let viewer: TestClient;

  beforeAll(async () => {
    const secure = { pki, securityMode: MessageSecurityMode.SignAndEncrypt, securityPolicy: SecurityPolicy.Basic256Sha256 };
    operator = await connect(t.server.endpointUrl, { ...secure, identity: { type: UserTokenType.UserName, userName: 'operator', password: 'operator-secret' } });
    viewer = await connect(t.server.endpointUrl, { ...secure, identity: { type: UserTokenType.UserName, userName: 'viewer', password: 'viewer-secret' } });
  });

  afterAll(async () => {
    await operator?.close();
    await viewer?.close();
  });

  it('answers BadNotWritable on a read-only tag, including one write_through does not name', async () => {
    expect((await write(operator, 'plc1/line1/temp', DataType.Float, 30)).name).toBe('BadNotWritable');
    expect((await write(operator, 'plc1/line1/limit', DataType.Double, 30)).name).toBe('BadNotWritable');
    expect(writes).toEqual([]);
  });

  it("writes through to the source and shows the confirmed value", async () => {
    expect((await write(operator, 'plc1/setpoints/speed', DataType.UInt16, 1200)).name).toBe('Good');
    expect(writes).toEqual([{ tag: 'setpoints/speed', value: 1200 }]);
    expect((await read(operator, 'plc1/setpoints/speed')).value.value).toBe(1200);
    expect(t.logText()).toContain('Wrote a client value through to the source.');
  });

  it("maps the source's refusal to a StatusCode", async () => {
    refuseWith = new SourceWriteError('70000 does not fit a register', 'bad_value');
    expect((await write(operator, 'plc1/setpoints/speed', DataType.UInt16, 1)).name).toBe('BadOutOfRange');
    refuseWith = new SourceWriteError('no answer from unit 1', 'device');
    expect((await write(operator, 'plc1/setpoints/speed', DataType.UInt16, 1)).name).toBe('BadDeviceFailure');
    refuseWith = undefined;
    expect((await write(operator, 'plc1/setpoints/speed', DataType.Double, 1)).name).toBe('BadTypeMismatch');
  });

  it('refuses writes from users without can_write and from anonymous sessions', async () => {
    const before = writes.length;
    expect((await write(viewer, 'plc1/setpoints/speed', DataType.UInt16, 5)).name).toBe('BadUserAccessDenied');
    expect((await write(anon, 'plc1/setpoints/speed', DataType.UInt16, 5)).name).toBe('BadUserAccessDenied');
    expect(writes.length).toBe(before);
  });
});

describe('hot changes', () => {
  it('adds and removes a source folder while a subscribed client stays connected', async () => {
    const subscription = ClientSubscription.create(anon.session, { requestedPublishingInterval: 50, publishingEnabled: true, requestedMaxKeepAliveCount: 10, requestedLifetimeCount: 100 });
    const seen: DataValue[] = [];
    const item = ClientMonitoredItem.create(subscription, { nodeId: id(anon, 'plc1/line1/count'), attributeId: AttributeIds.Value }, { samplingInterval: 0, queueSize: 10, discardOldest: true }, TimestampsToReturn.Both);
    item.on('changed', (dv) => seen.push(dv));

    t.events.emit('sourceAdded', handle('plc2'));
    t.events.emit('tags', 'plc2', [{ tag: 'motor/rpm', dataType: 'Double' }]);
    t.events.emit('reading', reading('plc2', 'motor/rpm', 1500));
    expect(await browseNames(anon, 'ns=0;i=85')).toContain('plc2');
    expect((await read(anon, 'plc2/motor/rpm')).value.value).toBe(1500);

    t.events.emit('sourceRemoved', 'plc2');
    expect(await browseNames(anon, 'ns=0;i=85')).not.toContain('plc2');
    expect((await read(anon, 'plc2/motor/rpm')).statusCode.name).toBe('BadNodeIdUnknown');

    // Back again, under the same NodeIds.
    t.events.emit('sourceAdded', handle('plc2'));
    t.events.emit('reading', reading('plc2', 'motor/rpm', 1600));
    expect((await read(anon, 'plc2/motor/rpm')).value.value).toBe(1600);
    t.events.emit('sourceRemoved', 'plc2');

    // The session and its subscription on another source carry on.
    t.events.emit('reading', reading('plc1', 'line1/count', 99));
    await until('change after the removal', () => seen.some((dv) => dv.value.value === 99));
    await subscription.terminate();
  });

  it('rebuilds a re-declared tag whose type changed and drops tags no longer declared', async () => {
    const redeclared: TagInfo[] = TAGS.filter((x) => x.tag !== 'status').map((x) => (x.tag === 'line1/count' ? { tag: x.tag, dataType: 'Double' } : x));
    t.events.emit('tags', 'plc1', redeclared);
    expect((await read(anon, 'plc1/line1/count', AttributeIds.DataType)).value.value.toString()).toBe('ns=0;i=11');
    expect((await read(anon, 'plc1/status')).statusCode.name).toBe('BadNodeIdUnknown');
    expect((await read(anon, 'plc1/line1/temp')).value.value).toBe(21.5);
  });
});

describe('start-up', () => {
  it('refuses to start on a port already taken, naming host and port', async () => {
    await expect(startTestServer({ allow_anonymous: true, port: t.server.port })).rejects.toThrow(`the OPC UA server could not start on 127.0.0.1:${t.server.port}`);
  });
});

describe('large declarations', () => {
  it('builds declared variables in slices, and a reading of a tag still waiting gets its declared type', async () => {
    const BULK = 5_000;
    const before = t.server.status().variables;
    t.events.emit('tags', 'bulk', Array.from({ length: BULK }, (_, i) => ({ tag: `area${i % 10}/v${i}`, dataType: 'Int16' as const })));
    expect(t.server.status().pendingVariables).toBe(BULK);
    t.events.emit('reading', reading('bulk', 'area9/v4999', 5));
    expect((await read(anon, 'bulk/area9/v4999', AttributeIds.DataType)).value.value.toString()).toBe('ns=0;i=4'); // Int16, not Double
    expect((await read(anon, 'bulk/area9/v4999')).value.value).toBe(5);
    await until('every declared variable built', () => t.server.status().pendingVariables === 0, 30_000);
    expect(t.server.status().variables).toBe(before + BULK);
    t.events.emit('sourceRemoved', 'bulk');
    expect(t.server.status().variables).toBe(before);
  });
});

describe('server certificate while running', () => {
  it('renews a self-signed certificate that entered the warning window, and serves a renewed or replaced one without a restart', async () => {
    // Put a certificate 5 days from expiry in place of the server's own (same key), as time would.
    const cm = new OPCUACertificateManager({ rootFolder: t.pkiDir, automaticallyAcceptUnknownCertificate: false });
    await cm.initialize();
    const file = join(t.pkiDir, 'own', 'certs', 'certificate.pem');
    await cm.createSelfSignedCertificate({ applicationUri: 'urn:test:renewal', subject: '/CN=expiring', dns: ['localhost'], ip: ['127.0.0.1'], startDate: new Date(), validity: 5, outputFile: `${file}.new` });
    await cm.dispose();
    await rename(`${file}.new`, file);
    const expiring = new X509Certificate(readFileSync(file)).fingerprint;

    await until('the renewal', () => t.server.status().certificate?.renewedAt !== undefined, 15_000);
    expect(t.server.status().certificate!.daysLeft).toBeGreaterThan(300);
    const endpoints = await anon.client.getEndpoints();
    const served = new X509Certificate(endpoints[0]!.serverCertificate!).fingerprint;
    expect(served).not.toBe(expiring);
    expect(served).toBe(new X509Certificate(readFileSync(file)).fingerprint);
    // A certificate an operator puts in place is picked up too.
    const replacement = new OPCUACertificateManager({ rootFolder: t.pkiDir, automaticallyAcceptUnknownCertificate: false });
    await replacement.initialize();
    await replacement.createSelfSignedCertificate({ applicationUri: 'urn:test:replaced', subject: '/CN=replaced', dns: ['localhost'], ip: ['127.0.0.1'], startDate: new Date(), validity: 100, outputFile: `${file}.new` });
    await replacement.dispose();
    await rename(`${file}.new`, file);
    const replaced = new X509Certificate(readFileSync(file)).fingerprint;
    await until('the replacement served', async () => new X509Certificate((await anon.client.getEndpoints())[0]!.serverCertificate!).fingerprint === replaced, 15_000);
    expect(t.server.status().certificate!.daysLeft).toBe(99);

    // The session opened before the renewal still works.
    expect((await read(anon, 'plc1/line1/temp')).value.value).toBe(21.5);
  });
});
