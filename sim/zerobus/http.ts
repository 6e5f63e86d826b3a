import { Hono, type Context } from 'hono';
import { problemsFromZod } from '../../common/config/issues.ts';
import type { Logger } from '../../common/logger.ts';
import { TABLE_NAME_PATTERN } from '../../common/tables.ts';
import type { EmulatorConfig } from './config.ts';
import { faultsSchema, type Faults } from './faults.ts';
import type { RowStore } from './store.ts';
import { TokenRequestError, parseBasicAuth, parseTokenForm, type TokenStore } from './tokens.ts';

export const DEFAULT_ROWS_LIMIT = 100;
export const MAX_ROWS_LIMIT = 10_000;
export const DEFAULT_DUPLICATE_KEY = ['gateway_id', 'run_id', 'source_name', 'seq'];

export interface HttpDeps {
  config: EmulatorConfig;
  tokens: TokenStore;
  store: RowStore;
  faults: Faults;
  /** Drops every gRPC connection now; with outageMs, refuses new ones for that long. */
  drop(outageMs: number): Promise<void>;
  log: Logger;
}

/** The token endpoint and the admin API, as one Hono app. */
export function createHttpApp(deps: HttpDeps): Hono {
  const app = new Hono();
  app.onError((err, c) => {
    deps.log.warn({ err, path: c.req.path }, 'HTTP request failed.');
    return c.json({ error: 'internal_error', error_description: err.message }, 500);
  });
  app.get('/health', (c) => c.json({ status: 'ok' }));

  app.post('/oidc/v1/token', async (c) => {
    const injected = deps.faults.takeTokenFailure();
    if (injected) return c.json({ error: 'injected_failure', error_description: `fault injection: HTTP ${injected}` }, injected as 401);
    try {
      const basic = parseBasicAuth(c.req.header('authorization'));
      if (!basic) throw new TokenRequestError(401, 'invalid_client', 'HTTP Basic authentication with client id and secret is required');
      const known = deps.config.clients;
      if (known.length > 0 && !known.some((k) => k.client_id === basic.clientId && k.client_secret.reveal() === basic.secret)) {
        throw new TokenRequestError(401, 'invalid_client', `client ${basic.clientId} is unknown or its secret is wrong`);
      }
      const form = new URLSearchParams(await c.req.text());
      const { table, workspaceId } = parseTokenForm(form);
      const ttl = deps.config.token_ttl_s;
      const token = deps.tokens.issue({ clientId: basic.clientId, table, workspaceId }, ttl);
      deps.log.debug({ clientId: basic.clientId, table }, 'Issued access token.');
      return c.json({ access_token: token, token_type: 'Bearer', expires_in: ttl, scope: 'all-apis' });
    } catch (err) {
      if (err instanceof TokenRequestError) return c.json({ error: err.error, error_description: err.message }, err.status);
      throw err;
    }
  });

  app.get('/api/tables', (c) => c.json(deps.store.tables()));

  app.get('/api/faults', (c) => c.json(deps.faults.settings));
  const setFaults = (merge: boolean) => async (c: Context) => {
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      return c.json({ error: 'body: expected a JSON object of fault settings' }, 400);
    }
    const input = merge && body && typeof body === 'object' ? { ...deps.faults.settings, ...body } : body;
    const parsed = faultsSchema.safeParse(input);
    if (!parsed.success) {
      return c.json({ error: problemsFromZod(parsed.error.issues).map((p) => `${p.path}: ${p.message}`).join('; ') }, 400);
    }
    deps.faults.replace(parsed.data);
    deps.log.info({ faults: parsed.data }, 'Fault settings changed.');
    return c.json(deps.faults.settings);
  };
  app.put('/api/faults', setFaults(false));
  app.patch('/api/faults', setFaults(true));
  app.delete('/api/faults', (c) => {
    deps.faults.replace(faultsSchema.parse({}));
    return c.json(deps.faults.settings);
  });
  app.post('/api/faults/drop', async (c) => {
    const outageMs = intParam(c.req.query('outage_ms'), 0);
    if (outageMs === undefined || outageMs < 0) return c.json({ error: 'outage_ms: expected a whole number >= 0' }, 400);
    await deps.drop(outageMs);
    return c.json({ dropped: true, outage_ms: outageMs });
  });

  app.get('/api/tables/:table/count', (c) => {
    const table = c.req.param('table');
    if (!TABLE_NAME_PATTERN.test(table)) return c.json({ error: `table: expected catalog.schema.table, got ${table}` }, 400);
    return c.json({ table, rows: deps.store.count(table) });
  });

  app.get('/api/tables/:table/rows', async (c) => {
    const table = c.req.param('table');
    if (!TABLE_NAME_PATTERN.test(table)) return c.json({ error: `table: expected catalog.schema.table, got ${table}` }, 400);
    const limit = intParam(c.req.query('limit'), DEFAULT_ROWS_LIMIT);
    const offset = intParam(c.req.query('offset'), 0);
    if (limit === undefined || limit < 1 || limit > MAX_ROWS_LIMIT) return c.json({ error: `limit: expected 1-${MAX_ROWS_LIMIT}` }, 400);
    if (offset === undefined || offset < 0) return c.json({ error: 'offset: expected a whole number >= 0' }, 400);
    return c.json(await deps.store.rows(table, offset, limit));
  });

  app.get('/api/tables/:table/duplicates', async (c) => {
    const table = c.req.param('table');
    if (!TABLE_NAME_PATTERN.test(table)) return c.json({ error: `table: expected catalog.schema.table, got ${table}` }, 400);
    const keyParam = c.req.query('key');
    const key = keyParam ? keyParam.split(',').map((k) => k.trim()).filter(Boolean) : DEFAULT_DUPLICATE_KEY;
    if (key.length === 0) return c.json({ error: 'key: expected comma-separated column names' }, 400);
    return c.json(await deps.store.duplicates(table, key));
  });

  return app;
}

function intParam(text: string | undefined, fallback: number): number | undefined {
  if (text === undefined) return fallback;
  const n = Number(text);
  return Number.isInteger(n) ? n : undefined;
}
