import { EnvHttpProxyAgent, fetch, type Response } from 'undici';
import { backoffDelayMs, type BackoffPolicy } from '../../common/backoff.ts';
import type { Logger } from '../../common/logger.ts';
import type { Secret } from '../../common/secret.ts';
import { splitTableName } from '../../common/tables.ts';
import { trustedRoots } from './endpoint.ts';
import { ZerobusError } from './errors.ts';
import { proxySettingsFromEnv } from './proxy.ts';

export const TOKEN_PATH = '/oidc/v1/token';
export const TOKEN_FETCH_ATTEMPTS = 5;
export const TOKEN_FETCH_TIMEOUT_MS = 15_000;
export const TOKEN_BACKOFF: BackoffPolicy = { initialMs: 500, maxMs: 10_000 };
/** Assumed when the token endpoint answers no usable expires_in. */
export const DEFAULT_TOKEN_LIFETIME_S = 3600;
/** How much of a refused request's body goes into the error message. */
const ERROR_BODY_CHARS = 300;
/** 4xx answers that say "not now" rather than "not you": retried like a 5xx. */
const RETRYABLE_4XX = new Set([408, 429]);

export interface TokenSettings {
  workspaceUrl: string;
  workspaceId: string;
  clientId: string;
  clientSecret: Secret;
  refreshMarginMs: number;
  log: Logger;
  /** Extra CA (PEM file) trusted besides the system roots for an https:// workspace URL. */
  caFile?: string;
  /** Tries per token request, the first included; default TOKEN_FETCH_ATTEMPTS. */
  attempts?: number;
  /** Delay between tries; default TOKEN_BACKOFF. */
  backoff?: BackoffPolicy;
  /** Longest wait for one answer; default TOKEN_FETCH_TIMEOUT_MS. */
  timeoutMs?: number;
  /** Injected for tests of expiry; defaults to Date.now. */
  now?: () => number;
}

interface Cached {
  token: string;
  refreshAtMs: number;
  expiresAtMs: number;
}

/** The form body of the OAuth M2M request for one table, exactly as Zerobus expects it. */
export function tokenRequestBody(workspaceId: string, table: string): URLSearchParams {
  const { catalog, schema } = splitTableName(table);
  const details = [
    { type: 'unity_catalog_privileges', privileges: ['USE CATALOG'], object_type: 'CATALOG', object_full_path: catalog },
    { type: 'unity_catalog_privileges', privileges: ['USE SCHEMA'], object_type: 'SCHEMA', object_full_path: `${catalog}.${schema}` },
    { type: 'unity_catalog_privileges', privileges: ['SELECT', 'MODIFY'], object_type: 'TABLE', object_full_path: table, operations: ['zerobuswrite'] },
  ];
  return new URLSearchParams({
    grant_type: 'client_credentials',
    scope: 'all-apis',
    resource: `api://databricks/workspaces/${workspaceId}/zerobusDirectWriteApi`,
    authorization_details: JSON.stringify(details),
  });
}

/**
 * OAuth tokens per table (the grant is table-scoped), cached by expires_in and refreshed
 * before expiry. Concurrent callers for one table share one request. 5xx, 408, 429 and
 * network failures are retried with backoff; any other 4xx is a permanent TOKEN_REJECTED.
 * The request goes through HTTPS_PROXY / HTTP_PROXY unless NO_PROXY exempts the host.
 */
export class TokenProvider {
  readonly #settings: TokenSettings;
  readonly #cache = new Map<string, Cached>();
  readonly #inflight = new Map<string, Promise<string>>();
  readonly #now: () => number;
  readonly #dispatcher: EnvHttpProxyAgent;
  readonly #url: string;
  #closed = false;

  constructor(settings: TokenSettings) {
    this.#settings = settings;
    this.#now = settings.now ?? Date.now;
    const { workspaceUrl } = settings;
    this.#url = new URL(TOKEN_PATH, workspaceUrl.endsWith('/') ? workspaceUrl : `${workspaceUrl}/`).toString();
    const proxy = proxySettingsFromEnv();
    const tls = settings.caFile ? { ca: trustedRoots(settings.caFile) } : undefined;
    // With no proxy set this is a plain connection pool: requests go straight to the host.
    this.#dispatcher = new EnvHttpProxyAgent({
      httpProxy: proxy.httpProxy ?? '',
      httpsProxy: proxy.httpsProxy ?? '',
      noProxy: proxy.noProxy,
      ...(tls ? { connect: tls, requestTls: tls } : {}),
    });
  }

  async token(table: string): Promise<string> {
    const cached = this.#cache.get(table);
    if (cached && this.#now() < cached.refreshAtMs) return cached.token;
    let pending = this.#inflight.get(table);
    if (!pending) {
      pending = this.#refresh(table).finally(() => this.#inflight.delete(table));
      this.#inflight.set(table, pending);
    }
    return pending;
  }

  /** Forgets a token the server refused, so the next call fetches a new one. */
  invalidate(table: string): void {
    this.#cache.delete(table);
  }

  /** Closes the connections to the token endpoint (and proxy). Safe twice. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#dispatcher.close();
  }

  /** Fetches a new token; if that fails for a passing reason, a cached token still valid is used. */
  async #refresh(table: string): Promise<string> {
    try {
      return await this.#fetchWithRetry(table);
    } catch (err) {
      const cached = this.#cache.get(table);
      if (err instanceof ZerobusError && err.retryable && cached && this.#now() < cached.expiresAtMs) {
        this.#settings.log.warn({ table, code: err.code, expiresInMs: cached.expiresAtMs - this.#now() }, 'Token refresh failed; using the cached token until it expires.');
        return cached.token;
      }
      throw err;
    }
  }

  async #fetchWithRetry(table: string): Promise<string> {
    const attempts = Math.max(1, this.#settings.attempts ?? TOKEN_FETCH_ATTEMPTS);
    const backoff = this.#settings.backoff ?? TOKEN_BACKOFF;
    let last: ZerobusError | undefined;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        return await this.#fetch(table);
      } catch (err) {
        if (!(err instanceof ZerobusError) || !err.retryable) throw err;
        last = err;
        if (attempt < attempts) {
          const delayMs = backoffDelayMs(backoff, attempt);
          this.#settings.log.warn({ table, attempt, delayMs, code: err.code, err: err.message }, 'Token request failed; retrying.');
          await new Promise((r) => setTimeout(r, delayMs));
        }
      }
    }
    throw last ?? new ZerobusError('token request failed', { code: 'TOKEN_ENDPOINT_UNAVAILABLE', retryable: true, table });
  }

  async #fetch(table: string): Promise<string> {
    const { workspaceId, clientId, clientSecret, refreshMarginMs } = this.#settings;
    const url = this.#url;
    const basic = Buffer.from(`${clientId}:${clientSecret.reveal()}`).toString('base64');
    const unavailable = (why: string, cause?: unknown) =>
      new ZerobusError(`token endpoint ${url} ${why} (client ${clientId}, table ${table})`, { code: 'TOKEN_ENDPOINT_UNAVAILABLE', retryable: true, table, cause });
    let response: Response;
    let text: string;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: tokenRequestBody(workspaceId, table),
        signal: AbortSignal.timeout(this.#settings.timeoutMs ?? TOKEN_FETCH_TIMEOUT_MS),
        dispatcher: this.#dispatcher,
      });
      text = await response.text();
    } catch (cause) {
      throw unavailable(`unreachable: ${describeFetchError(cause)}`, cause);
    }
    if (response.status >= 500 || RETRYABLE_4XX.has(response.status)) throw unavailable(`answered HTTP ${response.status}`);
    if (!response.ok) {
      // The body explains a 4xx (bad client id, secret or grant). A server that echoes the
      // request must still not put the secret in our logs.
      const body = scrub(text.slice(0, ERROR_BODY_CHARS), [clientSecret.reveal(), basic]);
      throw new ZerobusError(
        `token endpoint ${url} refused client ${clientId} for table ${table}: HTTP ${response.status}: ${body}. Check client_id, client_secret and the table grants.`,
        { code: 'TOKEN_REJECTED', retryable: false, table },
      );
    }
    let body: { access_token?: unknown; expires_in?: unknown };
    try {
      body = JSON.parse(text);
    } catch (cause) {
      throw unavailable('answered invalid JSON', cause);
    }
    if (typeof body.access_token !== 'string' || body.access_token === '') throw unavailable('answered without access_token');
    const expiresInS = Number(body.expires_in ?? DEFAULT_TOKEN_LIFETIME_S);
    const expiresInMs = (Number.isFinite(expiresInS) && expiresInS > 0 ? expiresInS : DEFAULT_TOKEN_LIFETIME_S) * 1000;
    // Refresh at the margin before expiry, but never later than half the lifetime.
    const lead = Math.min(refreshMarginMs, expiresInMs / 2);
    const now = this.#now();
    this.#cache.set(table, { token: body.access_token, refreshAtMs: now + expiresInMs - lead, expiresAtMs: now + expiresInMs });
    this.#settings.log.debug({ table, expiresInS: expiresInMs / 1000 }, 'Fetched access token.');
    return body.access_token;
  }
}

/** fetch() says only "fetch failed"; the reason (ECONNREFUSED, a proxy's 403, ...) is in the cause. */
function describeFetchError(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err; e instanceof Error && parts.length < 3; e = e.cause) {
    const code = (e as NodeJS.ErrnoException).code;
    parts.push(code ? `${e.message} (${code})` : e.message);
  }
  return parts.join(': ') || String(err);
}

function scrub(text: string, secrets: string[]): string {
  return secrets.filter((s) => s.length > 0).reduce((out, secret) => out.split(secret).join('[redacted]'), text);
}
