import { describe, expect, it } from 'vitest';
import { tokenRequestBody } from '../../relay/zerobus/token.ts';
import { tokenForm, withDetail } from './test-support.ts';
import { TokenRequestError, TokenStore, parseBasicAuth, parseTokenForm } from './tokens.ts';

const TABLE = 'main.iot.t1';

describe('parseTokenForm', () => {
  it('accepts the form of DESIGN.md and reads the table grant and workspace from it', () => {
    expect(parseTokenForm(tokenForm('42', TABLE))).toEqual({ table: TABLE, workspaceId: '42' });
  });

  it('accepts the form the relay sends', () => {
    expect(parseTokenForm(tokenRequestBody('42', TABLE))).toEqual({ table: TABLE, workspaceId: '42' });
  });

  const set = (field: string, value: string) => {
    const form = tokenForm('42', TABLE);
    form.set(field, value);
    return form;
  };
  const base = () => tokenForm('42', TABLE);

  it.each([
    ['grant_type password', set('grant_type', 'password'), 'grant_type: expected client_credentials'],
    ['scope sql', set('scope', 'sql'), 'scope: expected all-apis'],
    ['another resource', set('resource', 'api://other'), 'resource: expected api://databricks/workspaces/<workspace_id>/zerobusDirectWriteApi'],
    ['authorization_details that is not JSON', set('authorization_details', 'not json'), 'authorization_details: expected a JSON array'],
    ['an empty authorization_details', set('authorization_details', '[]'), 'authorization_details: expected three unity_catalog_privileges entries'],
    ['an entry of another type', withDetail(base(), 1, (d) => (d.type = 'other')), 'authorization_details[1].type: expected unity_catalog_privileges'],
    ['no TABLE entry', withDetail(base(), 2, (d) => (d.object_type = 'VIEW')), 'authorization_details: expected an entry with object_type TABLE'],
    ['a table path that is not catalog.schema.table', withDetail(base(), 2, (d) => (d.object_full_path = 'main.t1')), 'authorization_details[2].object_full_path: expected catalog.schema.table'],
    ['a TABLE entry without MODIFY', withDetail(base(), 2, (d) => (d.privileges = ['SELECT'])), 'authorization_details[2].privileges: expected SELECT and MODIFY'],
    ['a TABLE entry without zerobuswrite', withDetail(base(), 2, (d) => delete d.operations), 'authorization_details[2].operations: expected ["zerobuswrite"]'],
    ['a CATALOG entry for another catalog', withDetail(base(), 0, (d) => (d.object_full_path = 'other')), "authorization_details[0].object_full_path: expected main, the table's catalog"],
    ['a CATALOG entry without USE CATALOG', withDetail(base(), 0, (d) => (d.privileges = ['BROWSE'])), 'authorization_details[0].privileges: expected USE CATALOG'],
    ['a SCHEMA entry for another schema', withDetail(base(), 1, (d) => (d.object_full_path = 'main.other')), "authorization_details[1].object_full_path: expected main.iot, the table's schema"],
    ['a SCHEMA entry without USE SCHEMA', withDetail(base(), 1, (d) => (d.privileges = [])), 'authorization_details[1].privileges: expected USE SCHEMA'],
  ])('refuses %s with 400 naming the field', (_case, form, message) => {
    let caught: unknown;
    try {
      parseTokenForm(form);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(TokenRequestError);
    expect(caught).toMatchObject({ status: 400, error: 'invalid_request', message });
  });
});

describe('parseBasicAuth', () => {
  it.each([
    ['id and secret', `Basic ${Buffer.from('id:secret').toString('base64')}`, { clientId: 'id', secret: 'secret' }],
    ['a secret with colons', `Basic ${Buffer.from('id:se:cret').toString('base64')}`, { clientId: 'id', secret: 'se:cret' }],
    ['a bearer token', 'Bearer x', undefined],
    ['no header', undefined, undefined],
    ['no colon', `Basic ${Buffer.from('idsecret').toString('base64')}`, undefined],
    ['an empty client id', `Basic ${Buffer.from(':secret').toString('base64')}`, undefined],
  ])('reads %s', (_case, header, expected) => {
    expect(parseBasicAuth(header)).toEqual(expected);
  });
});

describe('TokenStore', () => {
  it('refuses missing, unknown and expired tokens and returns the grant of a live one', () => {
    let now = 1000;
    const store = new TokenStore(() => now);
    const token = store.issue({ clientId: 'c', table: 'a.b.c', workspaceId: '1' }, 10);
    expect(store.check(undefined)).toBe('missing');
    expect(store.check('nope')).toBe('unknown');
    expect(store.check(token)).toMatchObject({ table: 'a.b.c', clientId: 'c' });
    now += 9_999;
    expect(store.check(token)).toMatchObject({ table: 'a.b.c' });
    now += 1;
    expect(store.check(token)).toBe('expired');
  });

  it('issues a different random token every time', () => {
    const store = new TokenStore();
    const tokens = new Set(Array.from({ length: 100 }, () => store.issue({ clientId: 'c', table: 'a.b.c', workspaceId: '1' }, 60)));
    expect(tokens.size).toBe(100);
    for (const t of tokens) expect(t).toMatch(/^zbemu-[A-Za-z0-9_-]{32}$/);
  });
});
