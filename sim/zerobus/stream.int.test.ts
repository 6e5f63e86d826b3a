import { Metadata, credentials, makeGenericClientConstructor, status, type Client, type ClientDuplexStream, type StatusObject } from '@grpc/grpc-js';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Reading } from '../../common/reading.ts';
import { encodeReading } from '../../common/records/encode.ts';
import { descriptorBytes } from '../../common/records/schemas.ts';
import { HEADER_TABLE, RECORD_TYPE, zerobusServiceDefinition, type StreamRequest, type StreamResponse } from '../../common/zerobus/wire.ts';
import { startTestEmulator, type TestEmulator } from '../../test/helpers/emulator.ts';
import { basicAuth, tokenForm } from './test-support.ts';

const MQTT = 'iot.bronze.MqttReading';
const Zerobus = makeGenericClientConstructor(zerobusServiceDefinition as never, 'Zerobus');
type ZerobusClient = Client & { EphemeralStream(metadata: Metadata): ClientDuplexStream<StreamRequest, StreamResponse> };

/** A bronze MQTT reading, built by hand. */
function reading(seq: number, source = 'press-1'): Reading {
  return {
    source,
    tag: 'line1/pressure',
    value: seq * 0.5,
    quality: 0,
    sourceTimeUs: 1_763_856_000_000_000 + seq,
    gatewayTimeUs: 1_763_856_000_500_000 + seq,
    gatewayId: 'gw-a',
    runId: 'run-7',
    seq,
    details: { protocol: 'mqtt', topic: 'plant/line1/pressure', qos: 1, retain: false },
  };
}
const protoRecord = (seq: number, source?: string) => Buffer.from(encodeReading(reading(seq, source), 'proto').data, 'base64');

const createProto = (table: string): StreamRequest => ({ create_stream: { table_name: table, record_type: RECORD_TYPE.PROTO, descriptor_proto: descriptorBytes(MQTT) } });
const batch = (offset: number, seqs: number[], source?: string): StreamRequest => ({
  ingest_record_batch: { offset_id: offset, proto_encoded_batch: { records: seqs.map((s) => protoRecord(s, source)) } },
});
const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);

interface Opened {
  call: ClientDuplexStream<StreamRequest, StreamResponse>;
  responses: StreamResponse[];
  acks: () => number[];
  /** Resolves with the first response that matches. */
  next(match: (r: StreamResponse) => boolean): Promise<StreamResponse>;
  headers: Promise<Metadata>;
  done: Promise<StatusObject>;
}

describe('emulator EphemeralStream', () => {
  let emulator: TestEmulator;
  let client: ZerobusClient;
  let tableNo = 0;
  const nextTable = () => `main.iot.stream_${++tableNo}`;
  beforeAll(async () => {
    emulator = await startTestEmulator();
    client = new Zerobus(emulator.grpcAddress, credentials.createInsecure()) as unknown as ZerobusClient;
  });
  afterAll(async () => {
    client.close();
    await emulator.stop();
  });

  async function token(table: string): Promise<string> {
    const res = await fetch(`${emulator.workspaceUrl}/oidc/v1/token`, { method: 'POST', headers: { authorization: basicAuth('id', 'secret') }, body: tokenForm('1', table) });
    expect(res.status).toBe(200);
    return ((await res.json()) as { access_token: string }).access_token;
  }

  function open(headers: Record<string, string>): Opened {
    const md = new Metadata();
    for (const [k, v] of Object.entries(headers)) md.set(k, v);
    const call = client.EphemeralStream(md);
    const responses: StreamResponse[] = [];
    const waiters: Array<{ match: (r: StreamResponse) => boolean; resolve: (r: StreamResponse) => void }> = [];
    call.on('data', (r: StreamResponse) => {
      responses.push(r);
      for (const w of waiters.splice(0)) (w.match(r) ? w.resolve(r) : waiters.push(w));
    });
    call.on('error', () => undefined); // The status says it all.
    return {
      call,
      responses,
      acks: () => responses.flatMap((r) => (r.ingest_record_response ? [r.ingest_record_response.durability_ack_up_to_offset] : [])),
      next: (match) => {
        const seen = responses.find(match);
        return seen ? Promise.resolve(seen) : new Promise((resolve) => waiters.push({ match, resolve }));
      },
      headers: new Promise((resolve) => call.on('metadata', resolve)),
      done: new Promise((resolve) => call.on('status', resolve)),
    };
  }
  const openFor = async (table: string) => open({ authorization: `Bearer ${await token(table)}`, [HEADER_TABLE]: table });
  const ackedUpTo = (offset: number) => (r: StreamResponse) => (r.ingest_record_response?.durability_ack_up_to_offset ?? -1) >= offset;

  it('sends response headers as soon as the stream opens, before any message', async () => {
    const { call, headers, done } = await openFor(nextTable());
    expect(await headers).toBeInstanceOf(Metadata);
    call.end();
    expect(await done).toMatchObject({ code: status.OK });
  });

  it.each([
    ['no bearer token', () => ({ [HEADER_TABLE]: 'main.iot.x' }), status.UNAUTHENTICATED, 'missing bearer token in authorization metadata'],
    ['an unknown bearer token', () => ({ authorization: 'Bearer zbemu-made-up', [HEADER_TABLE]: 'main.iot.x' }), status.UNAUTHENTICATED, 'invalid bearer token'],
  ])('refuses a stream with %s as UNAUTHENTICATED', async (_case, headers, code, details) => {
    expect(await open(headers()).done).toMatchObject({ code, details });
  });

  it('refuses an expired token as UNAUTHENTICATED', async () => {
    const table = nextTable();
    const expired = await token(table);
    emulator.tokens.expireAll();
    expect(await open({ authorization: `Bearer ${expired}`, [HEADER_TABLE]: table }).done).toMatchObject({ code: status.UNAUTHENTICATED, details: 'bearer token expired' });
  });

  it('refuses a stream without the table header as INVALID_ARGUMENT', async () => {
    const { done } = open({ authorization: `Bearer ${await token('main.iot.x')}` });
    expect(await done).toMatchObject({ code: status.INVALID_ARGUMENT, details: `missing ${HEADER_TABLE} metadata` });
  });

  it('refuses a token granted for another table as PERMISSION_DENIED', async () => {
    const { done } = open({ authorization: `Bearer ${await token('main.iot.other')}`, [HEADER_TABLE]: 'main.iot.mine' });
    expect(await done).toMatchObject({ code: status.PERMISSION_DENIED, details: 'token grants main.iot.other, not main.iot.mine' });
  });

  it('refuses a create_stream for another table than the header as INVALID_ARGUMENT', async () => {
    const table = nextTable();
    const { call, done } = await openFor(table);
    call.write(createProto('main.iot.elsewhere'));
    expect(await done).toMatchObject({ code: status.INVALID_ARGUMENT, details: `create_stream.table_name main.iot.elsewhere does not match header ${HEADER_TABLE} ${table}` });
  });

  it('refuses a first message that is not create_stream', async () => {
    const { call, done } = await openFor(nextTable());
    call.write(batch(0, [1]));
    expect(await done).toMatchObject({ code: status.INVALID_ARGUMENT, details: 'the first message of a stream must be create_stream' });
  });

  it('refuses a descriptor that does not parse as INVALID_ARGUMENT', async () => {
    const table = nextTable();
    const { call, done } = await openFor(table);
    call.write({ create_stream: { table_name: table, record_type: RECORD_TYPE.PROTO, descriptor_proto: Buffer.from([0xff, 0x01, 0x02]) } });
    expect(await done).toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining('descriptor_proto is not a valid DescriptorProto') });
  });

  it('lands each batch decoded with the descriptor and acks each one cumulatively once written', async () => {
    const table = nextTable();
    const s = await openFor(table);
    s.call.write(createProto(table));
    expect((await s.next((r) => !!r.create_stream_response)).create_stream_response?.stream_id).toMatch(/^[0-9a-f-]{36}$/);
    s.call.write(batch(0, range(1, 10)));
    await s.next(ackedUpTo(0));
    expect(await emulator.count(table)).toBe(10);
    s.call.write(batch(1, range(11, 10)));
    s.call.write(batch(2, range(21, 10)));
    s.call.end();
    expect(await s.done).toMatchObject({ code: status.OK });
    const acks = s.acks();
    expect(acks[0]).toBe(0);
    expect(acks.at(-1)).toBe(2);
    expect(acks).toEqual([...new Set(acks)].sort((a, b) => a - b));

    const lines = (await readFile(join(emulator.dataDir, `${table}.jsonl`), 'utf8')).trimEnd().split('\n');
    expect(lines.map((l) => JSON.parse(l).seq)).toEqual(range(1, 30));
    expect(JSON.parse(lines[6] ?? '')).toEqual({
      event_time: 1_763_856_000_000_007,
      ingest_time: 1_763_856_000_500_007,
      source_name: 'press-1',
      gateway_id: 'gw-a',
      run_id: 'run-7',
      seq: 7,
      tag: 'line1/pressure',
      quality: 0,
      topic: 'plant/line1/pressure',
      qos: 1,
      retain: false,
      value_number: 3.5,
      value_string: '3.5',
      value_type: 'number',
    });
    expect(await emulator.count(table)).toBe(30);
  });

  it('lands single ingest_record messages, one offset each', async () => {
    const table = nextTable();
    const s = await openFor(table);
    s.call.write(createProto(table));
    for (const offset of range(0, 5)) s.call.write({ ingest_record: { offset_id: offset, proto_encoded_record: protoRecord(offset + 100) } });
    s.call.end();
    expect(await s.done).toMatchObject({ code: status.OK });
    expect(s.acks().at(-1)).toBe(4);
    expect((await emulator.rows(table)).map((r) => r.seq)).toEqual(range(100, 5));
  });

  it('refuses an offset out of sequence as INVALID_ARGUMENT and keeps what was acked', async () => {
    const table = nextTable();
    const s = await openFor(table);
    s.call.write(createProto(table));
    s.call.write(batch(0, [1, 2]));
    await s.next(ackedUpTo(0));
    s.call.write(batch(2, [3]));
    expect(await s.done).toMatchObject({ code: status.INVALID_ARGUMENT, details: 'offset_id: expected 1, got 2' });
    expect(await emulator.count(table)).toBe(2);
  });

  it('refuses a batch with an undecodable record as INVALID_ARGUMENT naming its index, landing none of it', async () => {
    const table = nextTable();
    const s = await openFor(table);
    s.call.write(createProto(table));
    s.call.write({ ingest_record_batch: { offset_id: 0, proto_encoded_batch: { records: [protoRecord(1), protoRecord(2), Buffer.from([0xff, 0xff, 0xff])] } } });
    const end = await s.done;
    expect(end.code).toBe(status.INVALID_ARGUMENT);
    expect(end.details).toMatch(/^offset 0 record 2: cannot decode as MqttReading/);
    expect(await emulator.count(table)).toBe(0);
  });

  it('lands JSON records of a JSON stream and refuses one that is not an object', async () => {
    const table = nextTable();
    const s = await openFor(table);
    s.call.write({ create_stream: { table_name: table, record_type: RECORD_TYPE.JSON } });
    s.call.write({ ingest_record_batch: { offset_id: 0, json_batch: { records: ['{"seq":1,"v":"a"}', '{"seq":2,"v":null}'] } } });
    s.call.write({ ingest_record: { offset_id: 1, json_record: '{"seq":3}' } });
    await s.next(ackedUpTo(1));
    expect(await emulator.rows(table)).toEqual([{ seq: 1, v: 'a' }, { seq: 2, v: null }, { seq: 3 }]);
    s.call.write({ ingest_record: { offset_id: 2, json_record: '[1,2]' } });
    expect(await s.done).toMatchObject({ code: status.INVALID_ARGUMENT, details: 'offset 2 record 0: expected a JSON object' });
    expect(await emulator.count(table)).toBe(3);
  });

  it('serializes two streams writing the same table: every row lands, each stream in its own order', async () => {
    const table = nextTable();
    const [a, b] = await Promise.all([openFor(table), openFor(table)]);
    for (const [s, source] of [[a, 'src-a'], [b, 'src-b']] as const) {
      s.call.write(createProto(table));
      for (const offset of range(0, 20)) s.call.write(batch(offset, range(offset * 50, 50), source));
      s.call.end();
    }
    expect(await Promise.all([a.done, b.done])).toMatchObject([{ code: status.OK }, { code: status.OK }]);
    expect([a.acks().at(-1), b.acks().at(-1)]).toEqual([19, 19]);
    const rows = await emulator.rows(table);
    expect(rows).toHaveLength(2000);
    for (const source of ['src-a', 'src-b']) expect(rows.filter((r) => r.source_name === source).map((r) => r.seq)).toEqual(range(0, 1000));
  });

  it('survives a client cancelling mid-stream and serves the next stream', async () => {
    const table = nextTable();
    const first = await openFor(table);
    first.call.write(createProto(table));
    first.call.write(batch(0, [1]));
    await first.next(ackedUpTo(0));
    first.call.write(batch(1, [2]));
    first.call.cancel();
    expect(await first.done).toMatchObject({ code: status.CANCELLED });
    const second = await openFor(table);
    second.call.write(createProto(table));
    second.call.write(batch(0, [3]));
    second.call.end();
    expect(await second.done).toMatchObject({ code: status.OK });
    const seqs = (await emulator.rows(table)).map((r) => r.seq);
    expect(seqs[0]).toBe(1);
    expect(seqs.at(-1)).toBe(3);
  });

  it('counts duplicates by the reading key', async () => {
    const table = nextTable();
    const s = await openFor(table);
    s.call.write(createProto(table));
    s.call.write(batch(0, range(1, 5)));
    s.call.write(batch(1, range(4, 5)));
    s.call.end();
    expect(await s.done).toMatchObject({ code: status.OK });
    expect(await emulator.duplicates(table)).toMatchObject({ rows: 10, distinct: 8, duplicates: 2 });
  });

  it('answers the token endpoint over HTTP: a token, 401 without credentials and 400 naming a bad field', async () => {
    const url = `${emulator.workspaceUrl}/oidc/v1/token`;
    const ok = await fetch(url, { method: 'POST', headers: { authorization: basicAuth('a', 'b') }, body: tokenForm('1', 'main.iot.t') });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ access_token: expect.stringMatching(/^zbemu-/), token_type: 'Bearer', expires_in: 3600 });
    const noAuth = await fetch(url, { method: 'POST', body: tokenForm('1', 'main.iot.t') });
    expect(noAuth.status).toBe(401);
    const form = tokenForm('1', 'main.iot.t');
    form.set('scope', 'sql');
    const bad = await fetch(url, { method: 'POST', headers: { authorization: basicAuth('a', 'b') }, body: form });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: 'invalid_request', error_description: 'scope: expected all-apis' });
  });
});
