/**
 * Errors of the OPC UA source, each carrying its decision. Everything else that goes wrong
 * while connecting is retried with backoff.
 */

/** The source cannot start as configured (a missing file, an unreadable PKI folder): start() rejects. */
export class StartError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StartError';
  }
}

/**
 * The server's certificate is not in the trust list. Retried with backoff, since an operator
 * may trust it meanwhile; rejectedFile is where the certificate manager stored it.
 */
export class UntrustedServerError extends Error {
  readonly rejectedFile: string | undefined;
  readonly trustedFolder: string;
  readonly status: string;

  constructor(status: string, rejectedFile: string | undefined, trustedFolder: string) {
    super(`server certificate not trusted (${status}): move ${rejectedFile ?? 'it (see the rejected/ folder)'} to ${trustedFolder} to trust it`);
    this.name = 'UntrustedServerError';
    this.rejectedFile = rejectedFile;
    this.trustedFolder = trustedFolder;
    this.status = status;
  }
}

/** The server offers no endpoint with the configured security mode and policy. Retried. */
export class NoMatchingEndpointError extends Error {
  constructor(wanted: string, offered: string[]) {
    super(`the server offers no endpoint with ${wanted}; it offers: ${offered.join(', ') || 'none'}`);
    this.name = 'NoMatchingEndpointError';
  }
}
