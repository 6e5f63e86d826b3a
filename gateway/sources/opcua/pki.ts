import { X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { OPCUACertificateManager } from 'node-opcua-certificate-manager';
import type { Logger } from '../../../common/logger.ts';
import type { SecurityConfig } from './config-security.ts';
import { StartError } from './errors.ts';

export const DEFAULT_CERTIFICATE_FILE = 'own/certs/client_certificate.pem';
export const CERTIFICATE_VALIDITY_DAYS = 3650;
export const APPLICATION_NAME = 'iot-connector';

export interface ClientIdentity {
  certificateFile: string;
  privateKeyFile: string;
  applicationUri: string;
  /** SHA-1 of the DER certificate, hex, as OPC UA tools show it. */
  thumbprint: string;
}

export interface Pki {
  manager: OPCUACertificateManager;
  identity: ClientIdentity;
}

/** One creation at a time per PKI folder, so two sources sharing it do not both create a certificate. */
const opening = new Map<string, Promise<unknown>>();

export function defaultApplicationUri(): string {
  return `urn:${hostname()}:${APPLICATION_NAME}`;
}

/** SHA-1 thumbprint (hex, lower case) of a DER or PEM certificate. */
export function thumbprintOf(certificate: Buffer | string): string {
  return new X509Certificate(certificate).fingerprint.replace(/:/g, '').toLowerCase();
}

/**
 * Opens the PKI folder (creating its layout and a private key when missing) and the client
 * certificate: the configured one, or own/certs/client_certificate.pem, created self-signed
 * on first start. Pure JavaScript (node-opcua-pki with node-opcua-crypto): no openssl binary.
 */
export async function openPki(config: SecurityConfig, log: Logger): Promise<Pki> {
  const rootDir = resolve(config.pki_dir);
  const previous = opening.get(rootDir) ?? Promise.resolve();
  const work = previous.catch(() => undefined).then(() => open(config, rootDir, log));
  opening.set(rootDir, work);
  return work;
}

async function open(config: SecurityConfig, rootDir: string, log: Logger): Promise<Pki> {
  const manager = new OPCUACertificateManager({ rootFolder: rootDir, automaticallyAcceptUnknownCertificate: config.auto_accept_server_certificate });
  try {
    await manager.initialize();
  } catch (cause) {
    throw new StartError(`cannot open the PKI folder ${rootDir}: ${(cause as Error).message}`, { cause });
  }
  const applicationUri = config.application_uri ?? defaultApplicationUri();
  const certificateFile = config.certificate_file ? resolve(config.certificate_file) : join(rootDir, DEFAULT_CERTIFICATE_FILE);
  const privateKeyFile = config.private_key_file ? resolve(config.private_key_file) : manager.privateKey;
  let created = false;
  if (!config.certificate_file && !existsSync(certificateFile)) {
    await manager.createSelfSignedCertificate({
      applicationUri,
      subject: `/CN=${APPLICATION_NAME}@${hostname()}/O=${APPLICATION_NAME}`,
      dns: [hostname()],
      startDate: new Date(),
      validity: CERTIFICATE_VALIDITY_DAYS,
      outputFile: certificateFile,
    });
    created = true;
  }
  for (const file of [certificateFile, privateKeyFile]) {
    if (!existsSync(file)) throw new StartError(`${file} does not exist`);
  }
  let thumbprint: string;
  let certificateUri: string | undefined;
  try {
    const x509 = new X509Certificate(await readFile(certificateFile));
    thumbprint = x509.fingerprint.replace(/:/g, '').toLowerCase();
    certificateUri = /URI:([^,\s]+)/.exec(x509.subjectAltName ?? '')?.[1];
  } catch (cause) {
    throw new StartError(`cannot read the client certificate ${certificateFile}: ${(cause as Error).message}`, { cause });
  }
  const fields = { certificateFile, thumbprint, applicationUri, trustedFolder: manager.trustedFolder };
  if (created) log.info(fields, 'Created a self-signed client certificate; servers must trust it (copy it to their trusted folder).');
  else log.info(fields, 'Using the client certificate.');
  if (certificateUri && certificateUri !== applicationUri) {
    log.warn({ certificateFile, certificateUri, applicationUri }, 'The client certificate names another application URI; servers may refuse it. Set security.application_uri to match.');
  }
  return { manager, identity: { certificateFile, privateKeyFile, applicationUri, thumbprint } };
}

export type TrustVerdict = { trusted: true; autoAccepted: boolean } | { trusted: false; status: string; rejectedFile: string | undefined };

/**
 * Checks a server certificate against the trust list. An unknown one is stored in rejected/
 * by the certificate manager (or trusted, with auto-accept); the verdict names that file, so
 * the log can say which file to move where.
 */
export async function checkServerCertificate(pki: Pki, certificate: Buffer): Promise<TrustVerdict> {
  const before = await pki.manager.getTrustStatus(certificate);
  const status = await pki.manager.checkCertificate(certificate);
  if (status.isGood()) return { trusted: true, autoAccepted: !before.isGood() };
  return { trusted: false, status: status.name, rejectedFile: await findByThumbprint(pki.manager.rejectedFolder, thumbprintOf(certificate)) };
}

async function findByThumbprint(folder: string, thumbprint: string): Promise<string | undefined> {
  let names: string[];
  try {
    names = await readdir(folder);
  } catch {
    return undefined;
  }
  for (const name of names) {
    const file = join(folder, name);
    try {
      if (thumbprintOf(await readFile(file)) === thumbprint) return file;
    } catch {
      // Not a certificate: something an operator left there.
    }
  }
  return undefined;
}
