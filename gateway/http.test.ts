import { Counter, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { Secret } from '../common/secret.ts';
import { createHttpApp, type HttpDeps } from './http.ts';
import type { ReloadResult } from './reload/reloader.ts';
import type { GatewayStatus, Readiness } from './status.ts';

const status: GatewayStatus = {
  gatewayId: 'gw',
  runId: 'run',
  startedAt: '2024-01-01T00:00:00.000Z',
  sources: [],
  tables: {},
  queue: { batches: 0, records: 0, bytes: 0, maxBatches: 10, maxBytes: 100, policy: 'drop_oldest', openRecords: 0 },
  spool: { enabled: false },
  spooling: false,
  blocked: false,
  redis: { connected: true, consecutiveFailures: 0 },
  dropped: {},
  deadLetters: { stored: 0, lost: {}, backlog: { entries: 0, bytes: 0, maxEntries: 10, maxBytes: 65536 }, storeFull: false, redis: { connected: true, consecutiveFailures: 0 } },
  config: { restartRequired: [] },
};
const TOKEN = 'a-long-enough-test-token-0123';
const READY: Readiness = { ready: true, redis: { connected: true }, spool: { enabled: false, accepting: false } };
const APPLIED: ReloadResult = { ok: true, trigger: 'http', at: 'now', restartRequired: [] };

function app(over: Partial<HttpDeps> = {}) {
  const registry = new Registry();
  new Counter({ name: 'records_read_total', help: 'h', labelNames: ['source'], registers: [registry] }).inc({ source: 's' }, 3);
  let reloads = 0;
  const deps: HttpDeps = {
    status: () => status,
    ready: () => READY,
    registry,
    reload: async () => {
      reloads += 1;
      return APPLIED;
    },
    apiToken: new Secret(TOKEN),
    ...over,
  };
  return { app: createHttpApp(deps), reloads: () => reloads };
}
const post = (path: string, token?: string) => ({ method: 'POST', ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}) });

describe('gateway HTTP API', () => {
  it('answers /health with ok', async () => {
    const res = await app().app.request('/health');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('answers /ready with 200 when ready and 503 when neither Redis nor the spool takes writes', async () => {
    expect((await app().app.request('/ready')).status).toBe(200);
    const down: Readiness = { ready: false, redis: { connected: false }, spool: { enabled: true, accepting: false } };
    const res = await app({ ready: () => down }).app.request('/ready');
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual(down);
  });

  it('answers /status with the status object', async () => {
    expect(await (await app().app.request('/status')).json()).toEqual(status);
  });

  it('answers /metrics with Prometheus text from the given registry', async () => {
    const res = await app().app.request('/metrics');
    expect(res.headers.get('content-type')).toContain('text/plain');
    expect(await res.text()).toContain('records_read_total{source="s"} 3');
  });

  it('answers an unknown path with 404', async () => {
    expect((await app().app.request('/nope')).status).toBe(404);
  });

  it('refuses POST /config/reload without the bearer token, or with a wrong one, with 401', async () => {
    const a = app();
    const missing = await a.app.request('/config/reload', post('/config/reload'));
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toContain('Bearer');
    expect((await a.app.request('/config/reload', post('/config/reload', 'wrong-token-wrong-token'))).status).toBe(401);
    expect(a.reloads()).toBe(0);
  });

  it('reloads with the token: 200 with the result, 400 with the errors of a refused config', async () => {
    const a = app();
    const res = await a.app.request('/config/reload', post('/config/reload', TOKEN));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(APPLIED);
    const refused: ReloadResult = { ok: false, trigger: 'http', at: 'now', errors: ['config error: sources[0].name: required key is missing'] };
    const bad = await app({ reload: async () => refused }).app.request('/config/reload', post('/config/reload', TOKEN));
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual(refused);
  });

  it('keeps mutating endpoints off (403) when no token is configured', async () => {
    const { apiToken: _none, ...deps } = { status: () => status, ready: () => READY, registry: new Registry(), apiToken: undefined };
    const res = await createHttpApp(deps).request('/config/reload', post('/config/reload', TOKEN));
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({ error: 'mutating endpoints are off: set http.api_token to use them' });
  });

  it('answers 409 when the gateway has no config file to reload', async () => {
    const { reload: _none, ...deps } = { status: () => status, ready: () => READY, registry: new Registry(), apiToken: new Secret(TOKEN), reload: undefined };
    expect((await createHttpApp(deps).request('/config/reload', post('/config/reload', TOKEN))).status).toBe(409);
  });
});
