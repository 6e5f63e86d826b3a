import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type Broker } from '../../../test/helpers/mosquitto.ts';
import { makeCertificates, makeClientCertificate, writePemFiles } from '../../../test/helpers/tls.ts';
import { until } from '../../../test/helpers/wait.ts';
import { recordingContext } from '../../test-support/context.ts';
import { mqttConfigSchema } from './config.ts';
import { MqttSource } from './driver.ts';

const USER = { username: 'gateway', password: 's3cret-broker-pass' };
const KEY_PASSPHRASE = 'key-pass-phrase';

/** Broker "open": TLS (server certificate only), WebSockets, anonymous. Broker "locked": client certificates and a password. */
let open: Broker;
let locked: Broker;
let dir: string;
let files: Record<'ca' | 'otherCa' | 'clientCert' | 'clientKey', string>;
let pki: ReturnType<typeof makeCertificates>;
let clientCert: { cert: string; key: string };

beforeAll(async () => {
  pki = makeCertificates();
  clientCert = makeClientCertificate(pki.ca, { passphrase: KEY_PASSPHRASE });
  dir = await mkdtemp(join(tmpdir(), 'mqtt-transport-'));
  files = await writePemFiles(dir, { ca: pki.ca.cert, otherCa: makeCertificates().ca.cert, clientCert: clientCert.cert, clientKey: clientCert.key });
  [open, locked] = await Promise.all([
    startBroker({ tls: { ca: pki.ca.cert, server: pki.server }, websockets: true }),
    startBroker({ tls: { ca: pki.ca.cert, server: pki.server, requireClientCert: true }, user: USER }),
  ]);
});
afterAll(async () => {
  await Promise.all([open?.stop(), locked?.stop()]);
  await rm(dir, { recursive: true, force: true });
});

function source(url: string, extra: Record<string, unknown> = {}) {
  return new MqttSource('t', mqttConfigSchema.parse({ url, reconnect_period_ms: 100, subscriptions: [{ topic: 'tr/+', tag: '{1}' }], ...extra }));
}

/** Starts the source, publishes one reading through the plain listener and waits for it. */
async function readsThrough(s: MqttSource, publishUrl: string, auth: Record<string, unknown> = {}) {
  const ctx = recordingContext();
  await s.start(ctx);
  try {
    await until('connected', () => s.status().state === 'connected');
    const pub = await connectAsync(publishUrl, auth);
    await pub.publishAsync('tr/x', '{"value": 42}', { qos: 1 });
    await pub.endAsync();
    await until('the reading', () => ctx.readings.length === 1);
    expect(ctx.readings[0]).toMatchObject({ tag: 'x', value: 42 });
  } finally {
    await s.stop();
  }
  return ctx;
}

describe('MQTT transports against Mosquitto', () => {
  it('reads over mqtts, trusting a self-signed CA from ca_file', async () => {
    await readsThrough(source(open.mqttsUrl as string, { tls: { ca_file: files.ca } }), open.url);
  });

  it('checks the certificate against servername when connecting by IP address', async () => {
    await readsThrough(source(open.mqttsUrl as string, { tls: { ca_file: files.ca, servername: 'localhost' } }), open.url);
    const wrongName = source(open.mqttsUrl as string, { tls: { ca_file: files.ca, servername: 'broker.example' } });
    await wrongName.start(recordingContext());
    const status = await until('a host name error', () => (wrongName.status().lastError ? wrongName.status() : undefined));
    expect(status.lastError).toMatch(/broker\.example/);
    expect(status.state).not.toBe('connected');
    await wrongName.stop();
  });

  it('refuses a broker whose certificate another CA signed, and keeps retrying', async () => {
    const s = source(open.mqttsUrl as string, { tls: { ca_file: files.otherCa } });
    const ctx = recordingContext();
    await s.start(ctx);
    const status = await until('a certificate error', () => (s.status().lastError ? s.status() : undefined));
    expect(status.lastError).toMatch(/certificate/i);
    expect(status.state).not.toBe('connected');
    await s.stop();
  });

  it('connects anyway with verify_server: false', async () => {
    await readsThrough(source(open.mqttsUrl as string, { tls: { ca_file: files.otherCa, verify_server: false } }), open.url);
  });

  it('reads over ws://', async () => {
    await readsThrough(source(open.wsUrl as string), open.url);
  });

  it('reads over wss:// with the CA', async () => {
    await readsThrough(source(open.wssUrl as string, { tls: { ca_file: files.ca } }), open.url);
  });

  it('presents a client certificate with an encrypted key, and a user name and password', async () => {
    const s = source(locked.mqttsUrl as string, {
      ...USER,
      tls: { ca_file: files.ca, cert_file: files.clientCert, key_file: files.clientKey, key_passphrase: KEY_PASSPHRASE },
    });
    const ctx = await readsThrough(s, locked.url, USER);
    expect(ctx.logText()).not.toContain(USER.password);
    expect(ctx.logText()).not.toContain(KEY_PASSPHRASE);
  });

  it('is refused without a client certificate', async () => {
    const s = source(locked.mqttsUrl as string, { ...USER, tls: { ca_file: files.ca } });
    await s.start(recordingContext());
    const status = await until('a refusal', () => (s.status().lastError ? s.status() : undefined));
    expect(status.state).not.toBe('connected');
    await s.stop();
  });

  it('reports a wrong password without printing it, and keeps retrying', async () => {
    const s = source(locked.url, { username: USER.username, password: 'wrong-password-123' });
    const ctx = recordingContext();
    await s.start(ctx);
    const status = await until('a refusal', () => (s.status().lastError ? s.status() : undefined));
    expect(status.lastError).toBe('Connection refused: Not authorized');
    const seen = new Set<string | undefined>();
    await until('two refused attempts', () => seen.add(s.status().lastErrorAt).size >= 2);
    await s.stop();
    expect(JSON.stringify(s.status()) + ctx.logText()).not.toContain('wrong-password-123');
  });
});

describe('MQTT 5 against Mosquitto', () => {
  it('keeps a persistent session through a restart and receives what was published meanwhile', async () => {
    const config = { protocol_version: 5, clean: false, client_id: `gw-persist-${process.pid}`, session_expiry_s: 60, subscriptions: [{ topic: 'v5/+', qos: 1, tag: '{1}' }] };
    const first = source(open.url, config);
    const ctx1 = recordingContext();
    await first.start(ctx1);
    await until('subscribed', () => first.status().state === 'connected');
    await first.stop();

    const pub: MqttClient = await connectAsync(open.url, { protocolVersion: 5 });
    await pub.publishAsync('v5/while-away', '{"value": 7}', { qos: 1 });
    await pub.endAsync();

    const second = source(open.url, config);
    const ctx2 = recordingContext();
    await second.start(ctx2);
    await until('the message published while away', () => ctx2.readings.length === 1);
    expect(ctx2.readings[0]).toMatchObject({ tag: 'while-away', value: 7 });
    expect(ctx2.logText()).toContain('"sessionPresent":true');
    expect(ctx2.logText()).toContain('"protocolVersion":5');
    await second.stop();
  });

});
