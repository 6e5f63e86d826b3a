import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { rename } from 'node:fs/promises';
import type { OPCUACertificateManager } from 'node-opcua';
import type { Logger } from '../common/logger.ts';

/**
 * The server's own certificate: created on first start, watched for expiry, and a self-signed
 * one renewed (same private key) once it enters the warning window. Certificates are made by
 * node-opcua-pki in JavaScript (node-opcua-crypto); no openssl binary is needed.
 */
export const MS_PER_DAY = 24 * 60 * 60 * 1000;

export interface CertificateState {
  file: string;
  /** SHA-1 thumbprint, lower-case hex, as OPC UA tools show it. */
  thumbprint: string;
  subject: string;
  notBefore: string;
  notAfter: string;
  selfSigned: boolean;
  /** Whole days left (negative once expired). */
  daysLeft: number;
  /** Inside the warning window (or expired). */
  expiresSoon: boolean;
  /** When this process last renewed it, if it did. */
  renewedAt?: string;
}

/** Reads what matters of a certificate. Pure apart from parsing; `now` is passed in. */
export function inspectCertificate(file: string, pem: string | Buffer, now: Date, warningDays: number): CertificateState {
  const cert = new X509Certificate(pem);
  const notAfter = new Date(cert.validTo);
  const daysLeft = Math.floor((notAfter.getTime() - now.getTime()) / MS_PER_DAY);
  return {
    file,
    thumbprint: cert.fingerprint.replace(/:/g, '').toLowerCase(),
    subject: cert.subject.replace(/\n/g, ', '),
    notBefore: new Date(cert.validFrom).toISOString(),
    notAfter: notAfter.toISOString(),
    selfSigned: cert.subject === cert.issuer && cert.verify(cert.publicKey),
    daysLeft,
    expiresSoon: notAfter.getTime() - now.getTime() <= warningDays * MS_PER_DAY,
  };
}

export interface OwnCertificateOptions {
  cm: OPCUACertificateManager;
  certificateFile: string;
  applicationUri: string;
  subject: string;
  dns: string[];
  ip: string[];
  validityDays: number;
  warningDays: number;
  renewSelfSigned: boolean;
  log: Logger;
  now?: () => Date;
}

/**
 * Makes sure the server has a usable certificate: creates one if there is none, renews a
 * self-signed one inside the warning window, and warns about one it may not renew.
 * Returns the state after that. The certificate manager must be initialized (it owns the key).
 */
export async function ensureOwnCertificate(o: OwnCertificateOptions): Promise<CertificateState> {
  const now = o.now?.() ?? new Date();
  if (!existsSync(o.certificateFile)) {
    await createSelfSigned(o, now);
    o.log.info({ file: o.certificateFile, validityDays: o.validityDays }, 'Created the server certificate (self-signed).');
    return inspectCertificate(o.certificateFile, readFileSync(o.certificateFile), now, o.warningDays);
  }
  const state = inspectCertificate(o.certificateFile, readFileSync(o.certificateFile), now, o.warningDays);
  if (!state.expiresSoon) return state;
  if (state.selfSigned && o.renewSelfSigned) {
    const previous = `${o.certificateFile}.expiring-${now.toISOString().replace(/[:.]/g, '-')}`;
    await rename(o.certificateFile, previous);
    await createSelfSigned(o, now);
    const renewed = { ...inspectCertificate(o.certificateFile, readFileSync(o.certificateFile), now, o.warningDays), renewedAt: now.toISOString() };
    o.log.warn(
      { file: o.certificateFile, previousNotAfter: state.notAfter, notAfter: renewed.notAfter, previousKeptAs: previous },
      'The server certificate was about to expire; renewed it (self-signed, same key). Clients that trust it by certificate must trust the new one.',
    );
    return renewed;
  }
  o.log.warn(
    { file: o.certificateFile, notAfter: state.notAfter, daysLeft: state.daysLeft, selfSigned: state.selfSigned },
    state.selfSigned
      ? 'The server certificate expires soon and renew_self_signed is off: replace it before it expires.'
      : 'The server certificate expires soon: have it re-issued by its CA and replace the file before it expires.',
  );
  return state;
}

async function createSelfSigned(o: OwnCertificateOptions, now: Date): Promise<void> {
  await o.cm.createSelfSignedCertificate({
    applicationUri: o.applicationUri,
    subject: o.subject,
    dns: o.dns,
    ip: o.ip,
    startDate: now,
    validity: o.validityDays,
    outputFile: o.certificateFile,
  });
}
