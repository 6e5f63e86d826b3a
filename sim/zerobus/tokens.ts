import { randomBytes } from 'node:crypto';
import { TABLE_NAME_PATTERN } from '../../common/tables.ts';

export interface Grant {
  clientId: string;
  table: string;
  workspaceId: string;
  expiresAtMs: number;
}

/** A request the token endpoint refuses: HTTP status and an OAuth-style error body. */
export class TokenRequestError extends Error {
  constructor(
    readonly status: 400 | 401,
    readonly error: string,
    description: string,
  ) {
    super(description);
  }
}

const RESOURCE = /^api:\/\/databricks\/workspaces\/([^/]+)\/zerobusDirectWriteApi$/;
const DETAIL_TYPE = 'unity_catalog_privileges';
const WRITE_OPERATION = 'zerobuswrite';

interface Detail {
  type?: unknown;
  privileges?: unknown;
  object_type?: unknown;
  object_full_path?: unknown;
  operations?: unknown;
}

/**
 * Validates the form of an OAuth M2M token request as Zerobus requires it and returns the
 * table the token is for. Each error names the field (and the authorization_details entry). Pure.
 */
export function parseTokenForm(form: URLSearchParams): { table: string; workspaceId: string } {
  const bad = (field: string, why: string) => new TokenRequestError(400, 'invalid_request', `${field}: ${why}`);
  if (form.get('grant_type') !== 'client_credentials') throw bad('grant_type', 'expected client_credentials');
  if (form.get('scope') !== 'all-apis') throw bad('scope', 'expected all-apis');
  const resource = RESOURCE.exec(form.get('resource') ?? '');
  if (!resource?.[1]) throw bad('resource', 'expected api://databricks/workspaces/<workspace_id>/zerobusDirectWriteApi');
  let details: unknown;
  try {
    details = JSON.parse(form.get('authorization_details') ?? '');
  } catch {
    throw bad('authorization_details', 'expected a JSON array');
  }
  if (!Array.isArray(details) || details.length !== 3) throw bad('authorization_details', `expected three ${DETAIL_TYPE} entries`);
  const entries = details as Detail[];
  entries.forEach((d, i) => {
    if (d === null || typeof d !== 'object' || d.type !== DETAIL_TYPE) throw bad(`authorization_details[${i}].type`, `expected ${DETAIL_TYPE}`);
  });
  const find = (objectType: string) => {
    const index = entries.findIndex((d) => d.object_type === objectType);
    if (index < 0) throw bad('authorization_details', `expected an entry with object_type ${objectType}`);
    return { entry: entries[index] as Detail, at: `authorization_details[${index}]` };
  };
  const grants = (d: Detail, privilege: string) => Array.isArray(d.privileges) && d.privileges.includes(privilege);

  const table = find('TABLE');
  const path = typeof table.entry.object_full_path === 'string' ? table.entry.object_full_path : '';
  if (!TABLE_NAME_PATTERN.test(path)) throw bad(`${table.at}.object_full_path`, 'expected catalog.schema.table');
  if (!grants(table.entry, 'SELECT') || !grants(table.entry, 'MODIFY')) throw bad(`${table.at}.privileges`, 'expected SELECT and MODIFY');
  if (!Array.isArray(table.entry.operations) || !table.entry.operations.includes(WRITE_OPERATION)) {
    throw bad(`${table.at}.operations`, `expected ["${WRITE_OPERATION}"]`);
  }
  const [catalogName, schemaName] = path.split('.');
  const catalog = find('CATALOG');
  if (catalog.entry.object_full_path !== catalogName) throw bad(`${catalog.at}.object_full_path`, `expected ${catalogName}, the table's catalog`);
  if (!grants(catalog.entry, 'USE CATALOG')) throw bad(`${catalog.at}.privileges`, 'expected USE CATALOG');
  const schema = find('SCHEMA');
  if (schema.entry.object_full_path !== `${catalogName}.${schemaName}`) {
    throw bad(`${schema.at}.object_full_path`, `expected ${catalogName}.${schemaName}, the table's schema`);
  }
  if (!grants(schema.entry, 'USE SCHEMA')) throw bad(`${schema.at}.privileges`, 'expected USE SCHEMA');
  return { table: path, workspaceId: resource[1] };
}

/** Reads HTTP Basic credentials; undefined when absent or malformed. */
export function parseBasicAuth(header: string | undefined): { clientId: string; secret: string } | undefined {
  const match = /^Basic\s+(.+)$/i.exec(header ?? '');
  if (!match?.[1]) return undefined;
  const text = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon <= 0) return undefined;
  return { clientId: text.slice(0, colon), secret: text.slice(colon + 1) };
}

/** Issued tokens and their table grants. */
export class TokenStore {
  readonly #grants = new Map<string, Grant>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  issue(grant: Omit<Grant, 'expiresAtMs'>, ttlS: number): string {
    const token = `zbemu-${randomBytes(24).toString('base64url')}`;
    this.#grants.set(token, { ...grant, expiresAtMs: this.#now() + ttlS * 1000 });
    return token;
  }

  /** The grant of a live token, else why it is refused. */
  check(token: string | undefined): Grant | 'missing' | 'unknown' | 'expired' {
    if (!token) return 'missing';
    const grant = this.#grants.get(token);
    if (!grant) return 'unknown';
    if (this.#now() >= grant.expiresAtMs) return 'expired';
    return grant;
  }

  /** Makes every issued token expire now (fault injection, tests). */
  expireAll(): void {
    for (const grant of this.#grants.values()) grant.expiresAtMs = 0;
  }
}
