import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import {
  MessageSecurityMode,
  OPCUAClient,
  SecurityPolicy,
  UserTokenType,
  crypto_utils,
  type OPCUAClientOptions,
  type UserIdentityInfo,
} from 'node-opcua-client';
import type { Logger } from '../../../common/logger.ts';
import type { OpcuaConfig } from './config.ts';
import { securityPolicyOf } from './config-security.ts';
import { NoMatchingEndpointError, StartError, UntrustedServerError } from './errors.ts';
import { APPLICATION_NAME, checkServerCertificate, thumbprintOf, type Pki } from './pki.ts';
import type { UaSession } from './ua.ts';

export interface Connection {
  client: OPCUAClient;
  session: UaSession;
}

/**
 * node-opcua's own reconnection is off (maxRetry 0): a lost channel ends the connection, and
 * the driver reconnects on its own schedule (common/backoff.ts) and restores subscriptions.
 */
const NO_RETRY = { maxRetry: 0, initialDelay: 1_000, maxDelay: 1_000 };

/** Reads the user identity files once at start: a missing file is a start error, not a retry. */
export async function loadUserIdentity(config: OpcuaConfig): Promise<UserIdentityInfo> {
  const auth = config.auth;
  if (auth.type === 'username') return { type: UserTokenType.UserName, userName: auth.username ?? '', password: auth.password?.reveal() ?? '' };
  if (auth.type === 'certificate') {
    try {
      const certificate = await readFile(auth.certificate_file ?? '');
      const key = await readFile(auth.private_key_file ?? '', 'utf8');
      const keyOperations = crypto_utils.keyOperationsFromPrivateKey(crypto_utils.makePrivateKeyFromPem(key));
      return { type: UserTokenType.Certificate, certificateData: new X509Certificate(certificate).raw, keyOperations };
    } catch (cause) {
      throw new StartError(`cannot read the user certificate or its key (auth.certificate_file, auth.private_key_file): ${(cause as Error).message}`, { cause });
    }
  }
  return { type: UserTokenType.Anonymous };
}

function baseOptions(config: OpcuaConfig, pki: Pki, clientName: string): OPCUAClientOptions {
  return {
    applicationName: APPLICATION_NAME,
    applicationUri: pki.identity.applicationUri,
    clientName,
    clientCertificateManager: pki.manager,
    certificateFile: pki.identity.certificateFile,
    privateKeyFile: pki.identity.privateKeyFile,
    endpointMustExist: false,
    connectionStrategy: NO_RETRY,
    requestedSessionTimeout: config.session_timeout_ms,
    defaultTransactionTimeout: config.request_timeout_ms,
    transportTimeout: config.request_timeout_ms,
    // Reads the server state when nothing else is sent (poll groups with long intervals), and
    // reports a dead connection as keepalive_failure.
    keepSessionAlive: true,
  };
}

/**
 * Opens a channel and a session. With security, it first asks the server for its endpoints
 * over an unsecured discovery channel, picks the one with the configured mode and policy,
 * and checks that endpoint's certificate against the trust list; an untrusted one ends the
 * attempt with UntrustedServerError (the certificate now sits in rejected/).
 */
export async function connect(config: OpcuaConfig, pki: Pki, identity: UserIdentityInfo, clientName: string, log: Logger): Promise<Connection> {
  const mode = MessageSecurityMode[config.security.mode];
  const policyName = securityPolicyOf(config.security);
  const policy = SecurityPolicy[policyName];
  const serverCertificate = mode === MessageSecurityMode.None ? undefined : await trustedServerCertificate(config, pki, clientName, log);
  const client = OPCUAClient.create({
    ...baseOptions(config, pki, clientName),
    securityMode: mode,
    securityPolicy: policy,
    ...(serverCertificate ? { serverCertificate } : {}),
  });
  try {
    await client.connect(config.endpoint_url);
    const session = (await client.createSession(identity)) as UaSession;
    return { client, session };
  } catch (err) {
    await client.disconnect().catch(() => undefined);
    throw err;
  }
}

async function trustedServerCertificate(config: OpcuaConfig, pki: Pki, clientName: string, log: Logger): Promise<Buffer> {
  const probe = OPCUAClient.create({ ...baseOptions(config, pki, `${clientName}-discovery`), securityMode: MessageSecurityMode.None, securityPolicy: SecurityPolicy.None });
  let endpoints;
  try {
    await probe.connect(config.endpoint_url);
    endpoints = await probe.getEndpoints();
  } finally {
    await probe.disconnect().catch(() => undefined);
  }
  const mode = MessageSecurityMode[config.security.mode];
  const policyName = securityPolicyOf(config.security);
  const endpoint = endpoints.find((e) => e.securityMode === mode && e.securityPolicyUri === SecurityPolicy[policyName]);
  if (!endpoint?.serverCertificate) {
    const offered = endpoints.map((e) => `${MessageSecurityMode[e.securityMode]}/${(e.securityPolicyUri ?? '').split('#')[1] ?? e.securityPolicyUri}`);
    throw new NoMatchingEndpointError(`${config.security.mode}/${policyName}`, [...new Set(offered)]);
  }
  const certificate = endpoint.serverCertificate;
  const verdict = await checkServerCertificate(pki, certificate);
  if (!verdict.trusted) throw new UntrustedServerError(verdict.status, verdict.rejectedFile, pki.manager.trustedFolder);
  if (verdict.autoAccepted) {
    log.warn(
      { thumbprint: thumbprintOf(certificate), trustedFolder: pki.manager.trustedFolder },
      'Trusted an unknown server certificate because auto_accept_server_certificate is on (unsafe: check the thumbprint, then turn it off).',
    );
  }
  return certificate;
}
