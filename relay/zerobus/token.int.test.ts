import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Secret } from '../../common/secret.ts';
import { isolateProxyEnv, startConnectProxy } from '../../test/helpers/connect-proxy.ts';
import { captureLogger } from '../../test/helpers/logs.ts';
import { freePort } from '../../test/helpers/ports.ts';
import { makeTestPki, type Pem, type TestPki } from '../../test/helpers/tls.ts';
import { ZerobusError } from './errors.ts';
import { TokenProvider, type TokenSettings } from './token.ts';

const WORKSPACE_ID = '1234567890123456';
const CLIENT_ID = 'sp-7f3a-client';
const SECRET = 'dose-s3cr3t-value-91c2';
const TABLE = 'main.iot.mqtt_bronze';
const FAST_BACKOFF = { initialMs: 10, maxMs: 20 };
const HOUR_S = 3600;

interface Received {
  authorization: string;
  form: URLSearchParams;
}

/** What the token server answers to request number n (from 1). */
type Answer = { status: number; body?: unknown; delayMs?: number } | 'reset';

interface TokenServer {
  url: string;
  host: string;
  received: Received[];
  close(): Promise<void>;
}

/** A small OAuth token endpoint on 127.0.0.1 whose answers the test scripts. */
async function startTokenServer(answer: (n: number, request: Received) => Answer, tls?: Pem): Promise<TokenServer> {
  const received: Received[] = [];
  const sockets = new Set<Socket>();
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString()));
    req.on('end', () => {
      const request = { authorization: req.headers.authorization ?? '', form: new URLSearchParams(text) };
      received.push(request);
      const a = answer(received.length, request);
      if (a === 'reset') {
        req.socket.destroy();
        return;
      }
      const send = () => {
        res.writeHead(a.status, { 'content-type': 'application/json' });
        res.end(typeof a.body === 'string' ? a.body : JSON.stringify(a.body ?? {}));
      };
      if (a.delayMs) setTimeout(send, a.delayMs);
      else send();
    });
  };
  const server: Server = tls ? createHttpsServer({ cert: tls.cert, key: tls.key }, handler) : createHttpServer(handler);
  server.on(tls ? 'secureConnection' : 'connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as { port: number }).port;
  return {
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

const issue = (n: number, expiresInS = HOUR_S): Answer => ({ status: 200, body: { access_token: `token-${n}`, token_type: 'Bearer', expires_in: expiresInS } });

describe('TokenProvider against a real token endpoint', () => {
  const servers: TokenServer[] = [];
  const providers: TokenProvider[] = [];
  let clock: number;
  let restoreEnv: () => void;

  beforeEach(() => {
    clock = 1_700_000_000_000;
    restoreEnv = isolateProxyEnv();
  });
  afterEach(async () => {
    restoreEnv();
    await Promise.all(providers.splice(0).map((p) => p.close()));
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  async function server(answer: (n: number, request: Received) => Answer, tls?: Pem): Promise<TokenServer> {
    const started = await startTokenServer(answer, tls);
    servers.push(started);
    return started;
  }

  function provider(workspaceUrl: string, overrides: Partial<TokenSettings> = {}): { tokens: TokenProvider; logs: () => string } {
    const { log, text } = captureLogger();
    const tokens = new TokenProvider({
      workspaceUrl,
      workspaceId: WORKSPACE_ID,
      clientId: CLIENT_ID,
      clientSecret: new Secret(SECRET),
      refreshMarginMs: 5 * 60_000,
      log,
      backoff: FAST_BACKOFF,
      now: () => clock,
      ...overrides,
    });
    providers.push(tokens);
    return { tokens, logs: text };
  }

  it('retries 5xx answers and unusable bodies with backoff, then returns the token', async () => {
    const answers: Answer[] = [{ status: 503 }, { status: 500 }, { status: 200, body: 'not json' }, { status: 200, body: {} }];
    const endpoint = await server((n) => answers[n - 1] ?? issue(n));
    const { tokens, logs } = provider(endpoint.url);
    await expect(tokens.token(TABLE)).resolves.toBe('token-5');
    expect(endpoint.received).toHaveLength(5);
    expect(logs().match(/Token request failed; retrying\./g)).toHaveLength(4);
    expect(logs()).not.toContain(SECRET);
  });

  it('retries a connection the endpoint drops, and 408 and 429 answers', async () => {
    const answers: Answer[] = ['reset', { status: 429 }, { status: 408 }];
    const endpoint = await server((n) => answers[n - 1] ?? issue(n));
    const { tokens } = provider(endpoint.url);
    await expect(tokens.token(TABLE)).resolves.toBe('token-4');
    expect(endpoint.received).toHaveLength(4);
  });

  it('gives up after the attempts with a retryable error that says why, naming client and table but not the secret', async () => {
    const port = await freePort();
    const { tokens } = provider(`http://127.0.0.1:${port}`, { attempts: 3 });
    const error = (await tokens.token(TABLE).catch((e: unknown) => e)) as ZerobusError;
    expect(error).toBeInstanceOf(ZerobusError);
    expect(error).toMatchObject({ code: 'TOKEN_ENDPOINT_UNAVAILABLE', retryable: true, table: TABLE });
    expect(error.message).toContain('ECONNREFUSED');
    expect(error.message).toContain(`client ${CLIENT_ID}, table ${TABLE}`);
    expect(error.message).not.toContain(SECRET);
  });

  it('reports a 4xx as TOKEN_REJECTED, not retried, naming client and table and never the secret, even when the server echoes it', async () => {
    const endpoint = await server((_, request) => ({
      status: 401,
      body: { error: 'invalid_client', error_description: `bad credentials ${request.authorization} ${Buffer.from(request.authorization.slice(6), 'base64')}` },
    }));
    const { tokens } = provider(endpoint.url);
    const error = (await tokens.token(TABLE).catch((e: unknown) => e)) as ZerobusError;
    expect(error).toMatchObject({ name: 'ZerobusError', code: 'TOKEN_REJECTED', retryable: false, table: TABLE });
    expect(endpoint.received).toHaveLength(1);
    expect(error.message).toContain(`refused client ${CLIENT_ID} for table ${TABLE}: HTTP 401`);
    expect(error.message).toContain('invalid_client');
    expect(error.message).not.toContain(SECRET);
    expect(error.message).not.toContain(Buffer.from(`${CLIENT_ID}:${SECRET}`).toString('base64'));
  });

  it('caches the token until expires_in minus the refresh margin and refreshes it before it expires', async () => {
    const endpoint = await server((n) => issue(n, HOUR_S));
    const { tokens } = provider(endpoint.url, { refreshMarginMs: 5 * 60_000 });
    const start = clock;
    expect(await tokens.token(TABLE)).toBe('token-1');
    clock = start + (HOUR_S - 5 * 60) * 1000 - 1;
    expect(await tokens.token(TABLE)).toBe('token-1');
    expect(endpoint.received).toHaveLength(1);
    clock = start + (HOUR_S - 5 * 60) * 1000;
    expect(await tokens.token(TABLE)).toBe('token-2');
    expect(endpoint.received).toHaveLength(2);
  });

  it('refreshes at half the lifetime when the margin is longer than that', async () => {
    const endpoint = await server((n) => issue(n, 60));
    const { tokens } = provider(endpoint.url, { refreshMarginMs: 5 * 60_000 });
    const start = clock;
    await tokens.token(TABLE);
    clock = start + 29_999;
    expect(await tokens.token(TABLE)).toBe('token-1');
    clock = start + 30_000;
    expect(await tokens.token(TABLE)).toBe('token-2');
  });

  it('shares one request among concurrent callers for a table', async () => {
    const endpoint = await server((n) => ({ ...(issue(n) as object), delayMs: 50 }) as Answer);
    const { tokens } = provider(endpoint.url);
    const all = await Promise.all(Array.from({ length: 20 }, () => tokens.token(TABLE)));
    expect(new Set(all)).toEqual(new Set(['token-1']));
    expect(endpoint.received).toHaveLength(1);
  });

  it('asks for one token per table, each granted on that table only', async () => {
    const endpoint = await server((n) => issue(n));
    const { tokens } = provider(endpoint.url);
    const [a, b] = await Promise.all([tokens.token('main.iot.mqtt_bronze'), tokens.token('other.plant.modbus_bronze')]);
    expect(a).not.toBe(b);
    expect(await tokens.token('main.iot.mqtt_bronze')).toBe(a);
    expect(await tokens.token('other.plant.modbus_bronze')).toBe(b);
    expect(endpoint.received).toHaveLength(2);
    const tablesAsked = endpoint.received.map((r) => (JSON.parse(r.form.get('authorization_details') ?? '[]') as Array<{ object_full_path: string }>)[2]?.object_full_path);
    expect(tablesAsked.sort()).toEqual(['main.iot.mqtt_bronze', 'other.plant.modbus_bronze']);
    expect(endpoint.received[0]?.form.get('resource')).toBe(`api://databricks/workspaces/${WORKSPACE_ID}/zerobusDirectWriteApi`);
    expect(endpoint.received[0]?.authorization).toBe(`Basic ${Buffer.from(`${CLIENT_ID}:${SECRET}`).toString('base64')}`);
  });

  it('fetches a new token after invalidate()', async () => {
    const endpoint = await server((n) => issue(n));
    const { tokens } = provider(endpoint.url);
    expect(await tokens.token(TABLE)).toBe('token-1');
    tokens.invalidate(TABLE);
    expect(await tokens.token(TABLE)).toBe('token-2');
  });

  it('keeps using a still-valid token while the endpoint is down at refresh time, and fails once it has expired', async () => {
    let down = false;
    const endpoint = await server((n) => (down ? { status: 503 } : issue(n)));
    const { tokens, logs } = provider(endpoint.url, { attempts: 2 });
    const start = clock;
    expect(await tokens.token(TABLE)).toBe('token-1');
    down = true;
    clock = start + (HOUR_S - 60) * 1000;
    expect(await tokens.token(TABLE)).toBe('token-1');
    expect(logs()).toContain('Token refresh failed; using the cached token until it expires.');
    clock = start + HOUR_S * 1000;
    await expect(tokens.token(TABLE)).rejects.toMatchObject({ code: 'TOKEN_ENDPOINT_UNAVAILABLE', retryable: true });
  });

  describe('over https', () => {
    let pki: TestPki;
    beforeAll(async () => {
      pki = await makeTestPki();
    });
    afterAll(async () => {
      await pki.remove();
    });

    it('trusts ca_file for an https:// workspace URL, also through HTTPS_PROXY', async () => {
      const endpoint = await server((n) => issue(n), pki.server);
      const proxy = await startConnectProxy();
      try {
        process.env.HTTPS_PROXY = proxy.url;
        const { tokens } = provider(endpoint.url, { caFile: pki.caFile });
        expect(await tokens.token(TABLE)).toBe('token-1');
        expect(proxy.connects).toEqual([endpoint.host]);
      } finally {
        await proxy.close();
      }
    });

    it('refuses an https:// endpoint whose certificate it cannot verify, saying why', async () => {
      const endpoint = await server((n) => issue(n), pki.server);
      const { tokens } = provider(endpoint.url, { attempts: 1 });
      const error = (await tokens.token(TABLE).catch((e: unknown) => e)) as ZerobusError;
      expect(error).toMatchObject({ code: 'TOKEN_ENDPOINT_UNAVAILABLE', retryable: true });
      expect(error.message).toContain('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
      expect(endpoint.received).toHaveLength(0);
    });
  });
});
