import { Hono } from 'hono';
import { bearerAuth } from 'hono/bearer-auth';
import type { Registry } from 'prom-client';
import type { Secret } from '../common/secret.ts';
import type { ReloadResult } from './reload/reloader.ts';
import type { GatewayStatus, Readiness } from './status.ts';

const HTTP_OK = 200;
const HTTP_BAD_REQUEST = 400;
const HTTP_FORBIDDEN = 403;
const HTTP_CONFLICT = 409;
const HTTP_UNAVAILABLE = 503;

export interface HttpDeps {
  status: () => GatewayStatus;
  ready: () => Readiness;
  registry: Registry;
  /** Reloads the config file; absent when the gateway runs without one. */
  reload?: () => Promise<ReloadResult>;
  /** Bearer token for mutating endpoints; absent: they answer 403. */
  apiToken?: Secret;
}

/**
 * The gateway's HTTP API: GET /health, /ready, /status, /metrics; POST /config/reload (bearer
 * token). No socket; see listen().
 */
export function createHttpApp(deps: HttpDeps): Hono {
  const app = new Hono();
  app.get('/health', (c) => c.json({ status: 'ok' }));
  app.get('/ready', (c) => {
    const r = deps.ready();
    return c.json(r, r.ready ? HTTP_OK : HTTP_UNAVAILABLE);
  });
  app.get('/status', (c) => c.json(deps.status()));
  app.get('/metrics', async (c) => c.text(await deps.registry.metrics(), HTTP_OK, { 'content-type': deps.registry.contentType }));

  // Every mutating endpoint lives under /config and needs the bearer token.
  const token = deps.apiToken;
  if (token) app.use('/config/*', bearerAuth({ token: token.reveal() }));
  else app.use('/config/*', async (c) => c.json({ error: 'mutating endpoints are off: set http.api_token to use them' }, HTTP_FORBIDDEN));
  app.post('/config/reload', async (c) => {
    if (!deps.reload) return c.json({ error: 'the gateway was started without a config file, so there is nothing to reload' }, HTTP_CONFLICT);
    const result = await deps.reload();
    return c.json(result, result.ok ? HTTP_OK : HTTP_BAD_REQUEST);
  });
  return app;
}
