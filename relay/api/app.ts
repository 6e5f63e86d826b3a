import { Hono } from 'hono';
import type { DeadLetterStore, ReplayEnqueue } from '../../common/dlq/store.ts';
import type { Logger } from '../../common/logger.ts';
import type { Secret } from '../../common/secret.ts';
import type { RelayStatus } from '../status.ts';
import { DASHBOARD_HTML } from './dashboard.ts';
import { dlqRoutes } from './dlq-routes.ts';
import { openApiDocument } from './openapi.ts';

export interface ReadyReport {
  ready: boolean;
  checks: Record<string, { ok: boolean; detail?: string }>;
}

export interface ApiDeps {
  status(): Promise<RelayStatus>;
  ready(): Promise<ReadyReport>;
  /** Prometheus text and its content type. */
  metrics(): Promise<{ text: string; contentType: string }>;
  dlq: DeadLetterStore;
  enqueue: ReplayEnqueue;
  token: Secret | undefined;
  log: Logger;
}

/** The relay's HTTP API as a Hono app, with no socket: see relay/app.ts for listening. */
export function createApp(deps: ApiDeps): Hono {
  const app = new Hono();
  app.onError((err, c) => {
    deps.log.warn({ err: err.message, method: c.req.method, path: c.req.path }, 'API request failed.');
    // Redis is the only thing a handler waits on that can fail like this.
    return c.json({ error: 'unavailable', message: `the request could not be completed: ${err.message}` }, 503);
  });
  app.notFound((c) => c.json({ error: 'not_found', message: `no route for ${c.req.method} ${c.req.path}; see /openapi.json` }, 404));

  app.get('/', (c) => c.html(DASHBOARD_HTML));
  app.get('/health', (c) => c.json({ status: 'ok' }));
  app.get('/ready', async (c) => {
    const report = await deps.ready();
    return c.json(report, report.ready ? 200 : 503);
  });
  app.get('/status', async (c) => c.json(await deps.status()));
  app.get('/metrics', async (c) => {
    const { text, contentType } = await deps.metrics();
    return c.text(text, 200, { 'content-type': contentType });
  });
  app.get('/openapi.json', (c) => c.json(openApiDocument()));
  app.route('/dlq', dlqRoutes({ dlq: deps.dlq, enqueue: deps.enqueue, token: deps.token, log: deps.log }));
  return app;
}
