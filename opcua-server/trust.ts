import { X509Certificate } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { StatusCodes, type OPCUACertificateManager, type StatusCode } from 'node-opcua';
import type { Logger } from '../common/logger.ts';
import { LogLimiter } from '../gateway/pipeline/log-limiter.ts';
import type { OpcuaServerMetrics } from './metrics.ts';

/**
 * Client certificates: node-opcua's certificate manager decides (trusted/certs holds the
 * trusted ones, an unknown one is filed under rejected/ and refused). This adds what an operator
 * needs: one log line per refused certificate saying which file to move to trust it.
 */
export const REFUSAL_LOG_INTERVAL_MS = 60_000;

type Chain = Buffer | Buffer[];
type StatusCallback = (err: Error | null, status?: StatusCode) => void;

export interface RefusalWatch {
  /** Writes pending trailing log lines; call at stop. */
  flush(): void;
}

export function watchCertificateRefusals(cm: OPCUACertificateManager, log: Logger, metrics: OpcuaServerMetrics): RefusalWatch {
  const original = cm.checkCertificate.bind(cm) as (chain: Chain) => Promise<StatusCode>;
  const limiter = new LogLimiter(REFUSAL_LOG_INTERVAL_MS);
  const check = (chain: Chain, callback?: StatusCallback): Promise<StatusCode> | undefined => {
    const verdict = original(chain).then((status) => {
      if (status.isNotGood()) {
        metrics.certificatesRefused.inc({ status: status.name });
        void report(cm, chain, status, log, limiter);
      }
      return status;
    });
    if (!callback) return verdict;
    verdict.then(
      (status) => callback(null, status),
      (err: Error) => callback(err),
    );
    return undefined;
  };
  cm.checkCertificate = check as OPCUACertificateManager['checkCertificate'];
  return { flush: () => limiter.flush() };
}

async function report(cm: OPCUACertificateManager, chain: Chain, status: StatusCode, log: Logger, limiter: LogLimiter): Promise<void> {
  const der = Array.isArray(chain) ? chain[0] : chain;
  let subject = 'unknown';
  let applicationUri: string | undefined;
  let thumbprint = 'unknown';
  try {
    const cert = new X509Certificate(der!);
    subject = cert.subject.replace(/\n/g, ', ');
    applicationUri = /URI:([^,\s]+)/.exec(cert.subjectAltName ?? '')?.[1];
    thumbprint = cert.fingerprint.replace(/:/g, '').toLowerCase();
  } catch {
    // Not a parsable certificate: report what we have.
  }
  const untrusted = status.equals(StatusCodes.BadCertificateUntrusted);
  const file = untrusted ? await rejectedFile(cm.rejectedFolder, thumbprint) : undefined;
  const fields = { status: status.name, subject, applicationUri, thumbprint, file, trustedFolder: join(cm.rootDir, 'trusted', 'certs') };
  limiter.hit(thumbprint, (count) => {
    if (untrusted) {
      log.warn(
        { ...fields, count },
        'Refused a client certificate that is not trusted. To trust it, move its file from rejected/ to trusted/certs/ in the PKI folder; no restart needed.',
      );
    } else {
      log.warn({ ...fields, count }, 'Refused a client certificate (invalid, expired, revoked or with an untrusted issuer).');
    }
  });
}

/** node-opcua files a rejected certificate as rejected/<common name>[<sha1 thumbprint>].pem. */
async function rejectedFile(folder: string, thumbprint: string): Promise<string | undefined> {
  try {
    const name = (await readdir(folder)).find((f) => f.includes(`[${thumbprint}]`));
    return name ? join(folder, name) : undefined;
  } catch {
    return undefined;
  }
}
