import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { encodeReading } from '../../common/records/encode.ts';
import { BRONZE_MESSAGE } from '../../common/records/schemas.ts';
import { isolateProxyEnv, startConnectProxy, type ConnectProxy } from '../../test/helpers/connect-proxy.ts';
import { startTestEmulator, type TestEmulator } from '../../test/helpers/emulator.ts';
import { captureLogger } from '../../test/helpers/logs.ts';
import { mqttReading } from '../../test/helpers/readings.ts';
import { makeTestPki, startTlsFront, type TestPki, type TlsFront } from '../../test/helpers/tls.ts';
import { ZerobusClient } from './client.ts';

/*
 * Proxy variables are process-wide. Vitest runs each test file in its own forked process,
 * so what this file sets never reaches another file; within the file every test starts
 * with all proxy variables cleared and puts them back afterwards.
 */

const MESSAGE = BRONZE_MESSAGE.mqtt;

function records(from: number, count: number): string[] {
  return Array.from({ length: count }, (_, i) => encodeReading(mqttReading(from + i), 'proto').data);
}

describe('ZerobusClient behind an HTTP CONNECT proxy', () => {
  let emulator: TestEmulator;
  let pki: TestPki;
  let front: TlsFront;
  let proxies: ConnectProxy[] = [];
  let restoreEnv: () => void;
  let tokenHost: string;

  beforeAll(async () => {
    emulator = await startTestEmulator();
    pki = await makeTestPki();
    front = await startTlsFront(pki.server, emulator.grpcPort);
    tokenHost = new URL(emulator.workspaceUrl).host;
  });
  afterAll(async () => {
    await front.close();
    await pki.remove();
    await emulator.stop();
  });
  beforeEach(() => {
    restoreEnv = isolateProxyEnv();
  });
  afterEach(async () => {
    restoreEnv();
    await Promise.all(proxies.map((p) => p.close()));
    proxies = [];
  });

  async function proxy(): Promise<ConnectProxy> {
    const started = await startConnectProxy();
    proxies.push(started);
    return started;
  }

  /** Tunnels and forwards the proxy carried to the emulator's token endpoint. */
  const tokenTrips = (p: ConnectProxy) => [...p.connects, ...p.forwards].filter((t) => t === tokenHost).length;

  it('sends the gRPC stream through HTTPS_PROXY and the http:// token request through HTTP_PROXY, and the rows land', async () => {
    const grpcProxy = await proxy();
    const httpProxy = await proxy();
    process.env.HTTPS_PROXY = grpcProxy.url;
    process.env.HTTP_PROXY = httpProxy.url;
    const table = 'main.iot.proxy_upper_case';
    const client = new ZerobusClient(emulator.zerobusConfig(), captureLogger().log);
    await client.ingest({ table, messageType: MESSAGE, recordType: 'proto', records: records(1, 25) });
    await client.close(1000);
    expect(await emulator.count(table)).toBe(25);
    // grpc-js opened one tunnel to the gRPC port; undici carried the token request.
    expect(grpcProxy.connects).toEqual([emulator.grpcAddress]);
    expect(grpcProxy.forwards).toEqual([]);
    expect(tokenTrips(httpProxy)).toBe(1);
    expect(httpProxy.connects.filter((t) => t === emulator.grpcAddress)).toEqual([]);
  });

  it('bypasses the proxy for a host listed in NO_PROXY', async () => {
    const unused = await proxy();
    process.env.HTTPS_PROXY = unused.url;
    process.env.HTTP_PROXY = unused.url;
    process.env.NO_PROXY = 'localhost, 127.0.0.1';
    const table = 'main.iot.proxy_bypassed';
    const client = new ZerobusClient(emulator.zerobusConfig(), captureLogger().log);
    await client.ingest({ table, messageType: MESSAGE, recordType: 'proto', records: records(1, 10) });
    await client.close(1000);
    expect(await emulator.count(table)).toBe(10);
    expect(unused.connects).toEqual([]);
    expect(unused.forwards).toEqual([]);
  });

  it('reaches a TLS endpoint through the tunnel and verifies the certificate of the real host, not the proxy', async () => {
    const dmz = await proxy();
    process.env.HTTPS_PROXY = dmz.url;
    const table = 'main.iot.proxy_tls';
    const handshakes = front.handshakes;
    const client = new ZerobusClient(emulator.zerobusConfig({ endpoint: `https://${front.address}`, insecure: false, ca_file: pki.caFile }), captureLogger().log);
    await client.ingest({ table, messageType: MESSAGE, recordType: 'proto', records: records(1, 10) });
    await client.close(1000);
    expect(await emulator.count(table)).toBe(10);
    expect(dmz.connects).toEqual([front.address]);
    expect(front.handshakes).toBe(handshakes + 1);
    // HTTP_PROXY is not set and the workspace URL is http://: the token request went direct.
    expect(tokenTrips(dmz)).toBe(0);
  });

  it('lets the lower-case variables win, as curl and grpc-js do', async () => {
    const lower = await proxy();
    const upper = await proxy();
    process.env.https_proxy = lower.url;
    process.env.HTTPS_PROXY = upper.url;
    process.env.http_proxy = lower.url;
    process.env.HTTP_PROXY = upper.url;
    const table = 'main.iot.proxy_lower_case';
    const client = new ZerobusClient(emulator.zerobusConfig(), captureLogger().log);
    await client.ingest({ table, messageType: MESSAGE, recordType: 'proto', records: records(1, 5) });
    await client.close(1000);
    expect(await emulator.count(table)).toBe(5);
    expect(lower.connects).toContain(emulator.grpcAddress);
    expect(tokenTrips(lower)).toBe(1);
    expect(upper.connects).toEqual([]);
    expect(upper.forwards).toEqual([]);
  });

  it('refuses at start-up a proxy URL that is not http://, naming the variable and hiding its password', async () => {
    process.env.HTTPS_PROXY = 'proxy.corp.example:3128';
    expect(() => new ZerobusClient(emulator.zerobusConfig(), captureLogger().log)).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', retryable: false, message: expect.stringContaining('HTTPS_PROXY=proxy.corp.example:3128 is not an http://host:port proxy URL') }),
    );
    process.env.HTTPS_PROXY = 'socks5://user:hunter2@proxy.corp.example:1080';
    const error = (() => {
      try {
        new ZerobusClient(emulator.zerobusConfig(), captureLogger().log);
      } catch (e) {
        return e as Error;
      }
      return undefined;
    })();
    expect(error?.message).toContain('socks5://[redacted]@proxy.corp.example:1080');
    expect(error?.message).not.toContain('hunter2');
  });
});
