import { connect as netConnect } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeReading } from '../../common/records/encode.ts';
import { BRONZE_MESSAGE } from '../../common/records/schemas.ts';
import { startTestEmulator, type TestEmulator } from '../../test/helpers/emulator.ts';
import { captureLogger } from '../../test/helpers/logs.ts';
import { mqttReading } from '../../test/helpers/readings.ts';
import { makeTestPki, startTlsFront, type TestPki, type TlsFront } from '../../test/helpers/tls.ts';
import { ZerobusClient } from './client.ts';
import type { ZerobusError } from './errors.ts';

const MESSAGE = BRONZE_MESSAGE.mqtt;
const DAY_MS = 86_400_000;

function records(from: number, count: number): string[] {
  return Array.from({ length: count }, (_, i) => encodeReading(mqttReading(from + i), 'proto').data);
}

/** Fails fast: one stream attempt, no reopening. */
const NO_RECOVERY = { recovery_attempts: 0, connect_timeout_ms: 5_000 } as const;

describe('ZerobusClient over TLS', () => {
  let emulator: TestEmulator;
  let pki: TestPki;
  let front: TlsFront;
  const extra: Array<{ close?: () => Promise<void>; remove?: () => Promise<void> }> = [];

  beforeAll(async () => {
    emulator = await startTestEmulator();
    pki = await makeTestPki();
    front = await startTlsFront(pki.server, emulator.grpcPort);
  });
  afterAll(async () => {
    await front.close();
    for (const e of extra) await (e.close ?? e.remove)?.();
    await pki.remove();
    await emulator.stop();
  });

  /** A TLS front with its own certificate, in front of the same emulator. */
  async function frontWith(options: Parameters<typeof makeTestPki>[0]): Promise<{ front: TlsFront; pki: TestPki }> {
    const own = await makeTestPki(options);
    const ownFront = await startTlsFront(own.server, emulator.grpcPort);
    extra.push(ownFront, own);
    return { front: ownFront, pki: own };
  }

  it.each(['127.0.0.1', 'localhost'])('lands rows over TLS to %s when ca_file holds the CA that signed the server certificate', async (host) => {
    const table = `main.iot.tls_${host.replace(/\W/g, '_')}`;
    const before = front.handshakes;
    const client = new ZerobusClient(emulator.zerobusConfig({ endpoint: `https://${host}:${front.port}`, insecure: false, ca_file: pki.caFile }), captureLogger().log);
    await client.ingest({ table, messageType: MESSAGE, recordType: 'proto', records: records(1, 20) });
    await client.close(1000);
    expect(await emulator.count(table)).toBe(20);
    expect(front.handshakes).toBeGreaterThan(before);
  });

  it('trusts ca_file for an https:// workspace URL as well, so one setting covers the token request', async () => {
    const table = 'main.iot.tls_token';
    const tokenFront = createTlsServer({ cert: pki.server.cert, key: pki.server.key }, (tls) => {
      const backend = netConnect({ host: '127.0.0.1', port: Number(new URL(emulator.workspaceUrl).port) });
      tls.pipe(backend).pipe(tls);
      tls.on('error', () => backend.destroy());
      backend.on('error', () => tls.destroy());
    });
    await new Promise<void>((resolve) => tokenFront.listen(0, '127.0.0.1', resolve));
    extra.push({ close: () => new Promise<void>((resolve) => tokenFront.close(() => resolve())) });
    const workspaceUrl = `https://127.0.0.1:${(tokenFront.address() as { port: number }).port}`;
    const config = emulator.zerobusConfig({ endpoint: front.address, workspace_url: workspaceUrl, insecure: false, ca_file: pki.caFile });
    const client = new ZerobusClient(config, captureLogger().log);
    await client.ingest({ table, messageType: MESSAGE, recordType: 'proto', records: records(1, 5) });
    await client.close(1000);
    expect(await emulator.count(table)).toBe(5);
  });

  it('refuses a server signed by an unknown CA without ca_file: UNAVAILABLE, retryable, and says to set ca_file', async () => {
    const table = 'main.iot.tls_untrusted';
    const client = new ZerobusClient(emulator.zerobusConfig({ endpoint: front.address, insecure: false, ...NO_RECOVERY }), captureLogger().log);
    const error = (await client.ingest({ table, messageType: MESSAGE, recordType: 'proto', records: records(1, 1) }).catch((e: unknown) => e)) as ZerobusError;
    await client.close(100);
    expect(error).toMatchObject({ name: 'ZerobusError', code: 'UNAVAILABLE', retryable: true, table });
    expect(error.message).toContain('TLS handshake with 127.0.0.1 failed (UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    expect(error.message).toContain('set zerobus.ca_file to the proxy\'s CA certificate');
    expect(await emulator.count(table)).toBe(0);
  });

  it('says ca_file did not help when the server is signed by another CA than the one in ca_file', async () => {
    const other = await frontWith({});
    const table = 'main.iot.tls_wrong_ca';
    const client = new ZerobusClient(emulator.zerobusConfig({ endpoint: other.front.address, insecure: false, ca_file: pki.caFile, ...NO_RECOVERY }), captureLogger().log);
    const error = (await client.ingest({ table, messageType: MESSAGE, recordType: 'proto', records: records(1, 1) }).catch((e: unknown) => e)) as ZerobusError;
    await client.close(100);
    expect(error).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
    expect(error.message).toContain(`nor by zerobus.ca_file ${pki.caFile}`);
  });

  it('names the endpoint when the certificate is for another host', async () => {
    const other = await frontWith({ hosts: ['other.example.com'] });
    const client = new ZerobusClient(
      emulator.zerobusConfig({ endpoint: other.front.address, insecure: false, ca_file: other.pki.caFile, ...NO_RECOVERY }),
      captureLogger().log,
    );
    const error = (await client.ingest({ table: 'main.iot.tls_host', messageType: MESSAGE, recordType: 'proto', records: records(1, 1) }).catch((e: unknown) => e)) as ZerobusError;
    await client.close(100);
    expect(error).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
    expect(error.message).toContain('ERR_TLS_CERT_ALTNAME_INVALID');
    expect(error.message).toContain('not for 127.0.0.1; check zerobus.endpoint');
  });

  it('points at the clock when the certificate has expired', async () => {
    const now = Date.now();
    const other = await frontWith({ notBefore: new Date(now - 3 * DAY_MS), notAfter: new Date(now - DAY_MS) });
    const client = new ZerobusClient(
      emulator.zerobusConfig({ endpoint: other.front.address, insecure: false, ca_file: other.pki.caFile, ...NO_RECOVERY }),
      captureLogger().log,
    );
    const error = (await client.ingest({ table: 'main.iot.tls_expired', messageType: MESSAGE, recordType: 'proto', records: records(1, 1) }).catch((e: unknown) => e)) as ZerobusError;
    await client.close(100);
    expect(error.message).toContain('CERT_HAS_EXPIRED');
    expect(error.message).toContain("check this machine's clock");
  });

  it('says the endpoint may not speak TLS when TLS meets the plaintext emulator port', async () => {
    const client = new ZerobusClient(emulator.zerobusConfig({ insecure: false, ...NO_RECOVERY }), captureLogger().log);
    const error = (await client.ingest({ table: 'main.iot.tls_plain', messageType: MESSAGE, recordType: 'proto', records: records(1, 1) }).catch((e: unknown) => e)) as ZerobusError;
    await client.close(100);
    expect(error).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
    expect(error.message).toContain('speaks TLS on that port (insecure: true is for the emulator only)');
  });
});
