import { ZerobusError } from './errors.ts';

/**
 * Outbound proxies from the environment, for both Zerobus paths:
 *
 * - the token request (undici): `https_proxy`/`HTTPS_PROXY` for an https:// workspace URL,
 *   falling back to `http_proxy`/`HTTP_PROXY`; `http_proxy`/`HTTP_PROXY` for http://;
 *   `no_proxy`/`NO_PROXY` exempts hosts. Lower case wins over upper case, as in curl.
 * - the gRPC channel (grpc-js): it reads only lower-case `grpc_proxy`, `https_proxy`,
 *   `http_proxy` (first set wins) and `no_grpc_proxy`, `no_proxy`, and it reads them when a
 *   channel is created. exposeProxyEnvToGrpc() fills in the lower-case names it reads from
 *   the upper-case ones an operator usually sets, so both paths see the same proxy.
 *
 * Proxies are reached with HTTP CONNECT; only http:// proxy URLs are accepted, because
 * grpc-js supports nothing else and would silently connect directly.
 */

type Env = NodeJS.ProcessEnv;

export interface ProxySettings {
  /** For https:// targets and the gRPC channel; undefined to fall back to httpProxy. */
  httpsProxy: string | undefined;
  /** For http:// targets (and any target when httpsProxy is unset). */
  httpProxy: string | undefined;
  /** Comma-separated hosts that bypass the proxy, as set; '' for none. */
  noProxy: string;
}

/** The names read, in order of preference. */
export const PROXY_ENV = {
  httpsProxy: ['https_proxy', 'HTTPS_PROXY'],
  httpProxy: ['http_proxy', 'HTTP_PROXY'],
  noProxy: ['no_proxy', 'NO_PROXY'],
} as const;

function firstSet(env: Env, names: readonly string[]): { name: string; value: string } | undefined {
  for (const name of names) {
    const value = env[name];
    if (value !== undefined && value.trim() !== '') return { name, value: value.trim() };
  }
  return undefined;
}

/** The proxy URL with any user:password replaced, for messages. */
export function redactProxyUrl(value: string): string {
  return value.replace(/\/\/[^@/]*@/, '//[redacted]@');
}

function checkedProxyUrl(found: { name: string; value: string } | undefined): string | undefined {
  if (!found) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(found.value);
  } catch {
    url = undefined;
  }
  if (!url || url.protocol !== 'http:' || url.hostname === '') {
    throw new ZerobusError(
      `${found.name}=${redactProxyUrl(found.value)} is not an http://host:port proxy URL; the Zerobus client reaches proxies with HTTP CONNECT over http:// only`,
      { code: 'INVALID_ARGUMENT', retryable: false },
    );
  }
  return found.value;
}

/** Reads the proxy settings; throws a non-retryable ZerobusError for a proxy URL that cannot be used. Pure. */
export function proxySettingsFromEnv(env: Env = process.env): ProxySettings {
  return {
    httpsProxy: checkedProxyUrl(firstSet(env, PROXY_ENV.httpsProxy)),
    httpProxy: checkedProxyUrl(firstSet(env, PROXY_ENV.httpProxy)),
    noProxy: firstSet(env, PROXY_ENV.noProxy)?.value ?? '',
  };
}

/**
 * A NO_PROXY list rewritten for grpc-js, which tests each entry with a plain
 * `host.endsWith(entry)` (or an IPv4 CIDR): entries are trimmed, empty ones dropped (an
 * empty entry would match every host), `*.example.com` becomes `.example.com` and a
 * `:port` suffix is dropped (grpc-js cannot match ports). Pure.
 */
export function noProxyForGrpc(noProxy: string): string {
  return noProxy
    .split(/[,\s]+/)
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '' && entry !== '*')
    .map((entry) => entry.replace(/^\*\./, '.').replace(/^(\[[^\]]+\]|[^:[\]]+):\d+$/, '$1'))
    .join(',');
}

/**
 * Makes grpc-js see the proxy the token request uses: copies HTTPS_PROXY, HTTP_PROXY and
 * NO_PROXY to the lower-case names grpc-js reads, where those are not set already. With
 * NO_PROXY=* no proxy is exposed. Call it before creating a channel; it changes `env`.
 * Returns what the gRPC channel will use.
 */
export function exposeProxyEnvToGrpc(env: Env = process.env): { proxy: string | undefined; noProxy: string } {
  const settings = proxySettingsFromEnv(env);
  if (settings.noProxy === '*') {
    return { proxy: firstSet(env, ['grpc_proxy', 'https_proxy', 'http_proxy'])?.value, noProxy: '*' };
  }
  if (!env.https_proxy && settings.httpsProxy) env.https_proxy = settings.httpsProxy;
  if (!env.http_proxy && settings.httpProxy) env.http_proxy = settings.httpProxy;
  if (!env.no_proxy && settings.noProxy) env.no_proxy = noProxyForGrpc(settings.noProxy);
  const grpcProxy = firstSet(env, ['grpc_proxy']);
  if (grpcProxy) checkedProxyUrl(grpcProxy);
  return {
    proxy: grpcProxy?.value ?? settings.httpsProxy ?? settings.httpProxy,
    noProxy: env.no_grpc_proxy || env.no_proxy || '',
  };
}
