import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../common/config/load.ts';
import { captureLogger } from '../../test/helpers/logs.ts';
import { emulatorConfigSchema } from './config.ts';
import { Faults } from './faults.ts';
import { createHttpApp } from './http.ts';
import { RowStore } from './store.ts';
import { basicAuth, tokenForm } from './test-support.ts';
import { TokenStore } from './tokens.ts';

const TABLE = 'main.iot.t1';

describe('emulator HTTP API', () => {
  let dir: string;
  let store: RowStore;
  let tokens: TokenStore;
  let app: ReturnType<typeof createHttpApp>;

  async function build(yaml: string) {
    const config = parseConfigText(`${yaml}\ndata_dir: ${JSON.stringify(dir)}`, emulatorConfigSchema, {});
    store = new RowStore(dir, false);
    await store.init();
    tokens = new TokenStore();
    app = createHttpApp({ config, tokens, store, faults: new Faults(config.faults), drop: async () => undefined, log: captureLogger().log });
  }
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'zerobus-http-'));
    await build('token_ttl_s: 120');
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  const requestToken = (authorization: string | undefined, form = tokenForm('42', TABLE)) =>
    app.request('/oidc/v1/token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(authorization ? { authorization } : {}) },
      body: form.toString(),
    });

  describe('POST /oidc/v1/token', () => {
    it('issues a bearer token remembered with its table grant and expiry', async () => {
      const res = await requestToken(basicAuth('any-id', 'any-secret'));
      expect(res.status).toBe(200);
      const body = (await res.json()) as { access_token: string; token_type: string; expires_in: number };
      expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 120 });
      const grant = tokens.check(body.access_token);
      expect(grant).toMatchObject({ clientId: 'any-id', table: TABLE, workspaceId: '42' });
      expect((grant as { expiresAtMs: number }).expiresAtMs).toBeGreaterThan(Date.now() + 110_000);
    });

    it('answers 401 without HTTP Basic credentials', async () => {
      for (const authorization of [undefined, 'Bearer abc', 'Basic !!!']) {
        const res = await requestToken(authorization);
        expect(res.status).toBe(401);
        expect(await res.json()).toEqual({ error: 'invalid_client', error_description: 'HTTP Basic authentication with client id and secret is required' });
      }
    });

    it('accepts only the listed clients when clients are configured', async () => {
      await build('clients: [{ client_id: relay-sp, client_secret: s3cret }]');
      expect((await requestToken(basicAuth('relay-sp', 's3cret'))).status).toBe(200);
      const wrongSecret = await requestToken(basicAuth('relay-sp', 'guess'));
      expect(wrongSecret.status).toBe(401);
      expect(await wrongSecret.json()).toEqual({ error: 'invalid_client', error_description: 'client relay-sp is unknown or its secret is wrong' });
      expect((await requestToken(basicAuth('someone-else', 's3cret'))).status).toBe(401);
    });

    it('answers 400 naming the field of a malformed form', async () => {
      const form = tokenForm('42', TABLE);
      form.delete('authorization_details');
      const res = await requestToken(basicAuth('a', 'b'), form);
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ error: 'invalid_request', error_description: 'authorization_details: expected a JSON array' });
      const notForm = await app.request('/oidc/v1/token', { method: 'POST', headers: { authorization: basicAuth('a', 'b') }, body: '{"grant_type":"client_credentials"}' });
      expect(notForm.status).toBe(400);
      expect(await notForm.json()).toMatchObject({ error_description: 'grant_type: expected client_credentials' });
    });
  });

  describe('admin API', () => {
    beforeEach(async () => {
      await store.append(TABLE, ['{"gateway_id":"g","run_id":"r","source_name":"s","seq":1,"v":1}', '{"gateway_id":"g","run_id":"r","source_name":"s","seq":2,"v":2}']);
      await store.append(TABLE, ['{"gateway_id":"g","run_id":"r","source_name":"s","seq":2,"v":3}']);
    });

    it('answers GET /health', async () => {
      expect(await (await app.request('/health')).json()).toEqual({ status: 'ok' });
    });

    it('lists tables with their row counts', async () => {
      expect(await (await app.request('/api/tables')).json()).toEqual([{ table: TABLE, rows: 3 }]);
    });

    it('counts the rows of a table, 0 for a table never written', async () => {
      expect(await (await app.request(`/api/tables/${TABLE}/count`)).json()).toEqual({ table: TABLE, rows: 3 });
      expect(await (await app.request('/api/tables/main.iot.none/count')).json()).toEqual({ table: 'main.iot.none', rows: 0 });
    });

    it('pages through the rows', async () => {
      const res = await app.request(`/api/tables/${TABLE}/rows?offset=1&limit=1`);
      expect(await res.json()).toEqual([{ gateway_id: 'g', run_id: 'r', source_name: 's', seq: 2, v: 2 }]);
    });

    it('counts duplicates by the reading key, or by the key given', async () => {
      expect(await (await app.request(`/api/tables/${TABLE}/duplicates`)).json()).toEqual({
        table: TABLE,
        key: ['gateway_id', 'run_id', 'source_name', 'seq'],
        rows: 3,
        distinct: 2,
        duplicates: 1,
      });
      expect(await (await app.request(`/api/tables/${TABLE}/duplicates?key=seq,v`)).json()).toMatchObject({ rows: 3, distinct: 3, duplicates: 0 });
    });

    it.each([
      ['/api/tables/not-a-table/count', 'table: expected catalog.schema.table, got not-a-table'],
      [`/api/tables/${TABLE}/rows?limit=0`, 'limit: expected 1-10000'],
      [`/api/tables/${TABLE}/rows?limit=abc`, 'limit: expected 1-10000'],
      [`/api/tables/${TABLE}/rows?offset=-1`, 'offset: expected a whole number >= 0'],
      [`/api/tables/${TABLE}/duplicates?key=,`, 'key: expected comma-separated column names'],
    ])('answers 400 to %s', async (path, error) => {
      const res = await app.request(path);
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ error });
    });
  });
});
