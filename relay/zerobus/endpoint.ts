import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { ChannelCredentials, credentials, type CallCredentials, type ChannelOptions } from '@grpc/grpc-js';
import { ZerobusError } from './errors.ts';
import { exposeProxyEnvToGrpc } from './proxy.ts';

export interface ParsedEndpoint {
  /** host:port for grpc-js. */
  address: string;
  host: string;
  /** The workspace id, read from the first DNS label of a Zerobus host name. */
  workspaceIdFromHost: string | undefined;
}

/** grpc-js does not export these two types; they are read off the method we override. */
type GrpcUri = Parameters<ChannelCredentials['_createSecureConnector']>[0];
type SecureConnector = ReturnType<ChannelCredentials['_createSecureConnector']>;

const DEFAULT_TLS_PORT = 443;
const PEM_CERTIFICATE = '-----BEGIN CERTIFICATE-----';

/** Accepts https://host[:port], grpc[s]://host[:port] or host[:port]. */
export function parseEndpoint(endpoint: string): ParsedEndpoint {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(endpoint) ? endpoint : `https://${endpoint}`;
  const url = new URL(withScheme);
  const port = url.port === '' ? DEFAULT_TLS_PORT : Number(url.port);
  const host = url.hostname;
  const label = host.split('.')[0];
  const isZerobusHost = host.includes('.zerobus.');
  return { address: `${host}:${port}`, host, workspaceIdFromHost: isZerobusHost ? label : undefined };
}

/**
 * The channel's transport: TLS with the system roots plus an optional extra CA (a
 * TLS-inspecting proxy's, say), or plaintext when the config asks for it, which only the
 * emulator should. A TLS handshake failure is reported with what the operator should check.
 *
 * It also makes grpc-js honour HTTPS_PROXY, HTTP_PROXY and NO_PROXY (grpc-js reads only the
 * lower-case names, when the channel is created): see proxy.ts. Call it right before
 * creating the channel.
 */
export function channelCredentials(options: { insecure: boolean; caFile?: string }): ChannelCredentials {
  exposeProxyEnvToGrpc();
  if (options.insecure) return credentials.createInsecure();
  const roots = options.caFile ? Buffer.from(trustedRoots(options.caFile).join('\n')) : undefined;
  return new ExplainedTlsCredentials(credentials.createSsl(roots), options.caFile);
}

/**
 * The system roots with the extra CA file added. The system roots are what a TLS connection
 * trusts when given none: the file GRPC_DEFAULT_SSL_ROOTS_FILE_PATH names (grpc-js reads it),
 * else Node.js's bundled roots plus the file NODE_EXTRA_CA_CERTS names.
 */
export function trustedRoots(caFile: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const grpcRoots = env.GRPC_DEFAULT_SSL_ROOTS_FILE_PATH;
  const system = grpcRoots ? [readOptionalPem(grpcRoots)] : [...rootCertificates, readOptionalPem(env.NODE_EXTRA_CA_CERTS)];
  return [...system.filter((pem) => pem !== ''), readCaFile(caFile)];
}

/** A PEM file the runtime may name; '' when it is unset or unreadable (Node.js ignores those too). */
function readOptionalPem(path: string | undefined): string {
  if (!path) return '';
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** Reads the extra CA file, or fails with a non-retryable error naming it. */
export function readCaFile(path: string): string {
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new ZerobusError(`zerobus.ca_file ${path} cannot be read: ${(cause as Error).message}`, { code: 'INVALID_ARGUMENT', retryable: false, cause });
  }
  if (!pem.includes(PEM_CERTIFICATE)) {
    throw new ZerobusError(`zerobus.ca_file ${path} holds no PEM certificate (expected a "${PEM_CERTIFICATE}" block)`, { code: 'INVALID_ARGUMENT', retryable: false });
  }
  return pem;
}

/**
 * grpc-js TLS credentials whose handshake errors say what to check. grpc-js turns any
 * connection failure into UNAVAILABLE with the error's text as details; this keeps the code
 * (so the failure stays retryable, see docs/zerobus.md) and rewrites the text from the
 * Node.js TLS error code.
 */
class ExplainedTlsCredentials extends ChannelCredentials {
  readonly #inner: ChannelCredentials;
  readonly #caFile: string | undefined;

  constructor(inner: ChannelCredentials, caFile: string | undefined) {
    super();
    this.#inner = inner;
    this.#caFile = caFile;
  }

  override _isSecure(): boolean {
    return true;
  }

  override _equals(other: ChannelCredentials): boolean {
    return other === this || (other instanceof ExplainedTlsCredentials && this.#inner._equals(other.#inner));
  }

  override _createSecureConnector(target: GrpcUri, options: ChannelOptions, callCredentials?: CallCredentials): SecureConnector {
    const inner = this.#inner._createSecureConnector(target, options, callCredentials);
    const host = tlsHostOf(target, options);
    return {
      connect: (socket) =>
        inner.connect(socket).catch((err: unknown) => {
          throw explainTlsError(err, host, this.#caFile);
        }),
      waitForReady: () => inner.waitForReady(),
      getCallCredentials: () => inner.getCallCredentials(),
      destroy: () => inner.destroy(),
    };
  }
}

/** The host the certificate must name: the real target, also when a proxy is in between. */
function tlsHostOf(target: GrpcUri, options: ChannelOptions): string {
  const connectTarget = options['grpc.http_connect_target'];
  const path = typeof connectTarget === 'string' ? connectTarget.replace(/^[a-z]+:(\/\/\/)?/i, '') : target.path;
  return path.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
}

function explainTlsError(err: unknown, host: string, caFile: string | undefined): Error {
  const original = err instanceof Error ? err : new Error(String(err));
  const code = (original as NodeJS.ErrnoException).code;
  const explained = new Error(`TLS handshake with ${host} failed (${code ?? 'no code'}: ${original.message}): ${tlsFailureHint(code, host, caFile)}`, {
    cause: original,
  });
  (explained as NodeJS.ErrnoException).code = code;
  return explained;
}

/** Node.js TLS error codes for a certificate chain that leads to no trusted root. */
const UNTRUSTED_CHAIN = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
]);
const OUT_OF_VALIDITY = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);
const WRONG_HOST = 'ERR_TLS_CERT_ALTNAME_INVALID';

/** What an operator should check after a TLS handshake failed with this Node.js error code. Pure. */
export function tlsFailureHint(code: string | undefined, host: string, caFile: string | undefined): string {
  if (code && UNTRUSTED_CHAIN.has(code)) {
    return caFile
      ? `the server's certificate is not signed by the system roots nor by zerobus.ca_file ${caFile}; check that ca_file holds the CA that signs it (behind a TLS-inspecting proxy: the proxy's CA)`
      : `the server's certificate is not signed by a CA in the system roots; behind a TLS-inspecting proxy, set zerobus.ca_file to the proxy's CA certificate (PEM)`;
  }
  if (code && OUT_OF_VALIDITY.has(code)) {
    return `the server's certificate is outside its validity period; check this machine's clock (NTP) and, behind a TLS-inspecting proxy, the proxy's certificate`;
  }
  if (code === WRONG_HOST) {
    return `the server's certificate is not for ${host}; check zerobus.endpoint (https://<workspace_id>.zerobus.<region>.cloud.databricks.com or .azuredatabricks.net)`;
  }
  return `check that zerobus.endpoint speaks TLS on that port (insecure: true is for the emulator only) and what sits between this machine and ${host} (firewall, proxy)`;
}
