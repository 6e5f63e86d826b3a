import { status as GrpcStatus } from '@grpc/grpc-js';

/**
 * Every failure the Zerobus client hands back carries a decision: retryable or not.
 * Codes are gRPC status names, or one of the client's own for failures outside gRPC.
 */
export type ZerobusErrorCode =
  | keyof typeof GrpcStatus
  | 'ACK_TIMEOUT'
  | 'TOKEN_ENDPOINT_UNAVAILABLE'
  | 'TOKEN_REJECTED'
  | 'BATCH_TOO_LARGE'
  | 'CLIENT_CLOSED';

/**
 * What a permanent refusal is about. 'stream': the stream itself (token, grant, schema at
 * create_stream): every batch for the table meets it. 'request': a request on an open stream
 * (or a record too large to send): it may be the records of one of the batches in flight, so
 * sending the batches one at a time tells which records are bad.
 */
export type RefusalScope = 'stream' | 'request';

export class ZerobusError extends Error {
  readonly code: ZerobusErrorCode;
  readonly retryable: boolean;
  /** The table the failure concerns. */
  readonly table: string | undefined;
  readonly scope: RefusalScope;

  constructor(message: string, options: { code: ZerobusErrorCode; retryable: boolean; table?: string; cause?: unknown; scope?: RefusalScope }) {
    super(message, { cause: options.cause });
    this.name = 'ZerobusError';
    this.code = options.code;
    this.retryable = options.retryable;
    this.table = options.table;
    this.scope = options.scope ?? 'stream';
  }

  /** The same failure with another scope. */
  withScope(scope: RefusalScope): ZerobusError {
    return new ZerobusError(this.message, { code: this.code, retryable: this.retryable, table: this.table, cause: this.cause, scope });
  }
}

/** Not retryable per the Zerobus contract; everything else is (UNAVAILABLE, INTERNAL, ...). */
const PERMANENT = new Set<number>([
  GrpcStatus.INVALID_ARGUMENT,
  GrpcStatus.UNAUTHENTICATED,
  GrpcStatus.PERMISSION_DENIED,
  GrpcStatus.NOT_FOUND,
  GrpcStatus.OUT_OF_RANGE,
  GrpcStatus.UNIMPLEMENTED,
]);

export function grpcCodeName(code: number): keyof typeof GrpcStatus {
  const name = (Object.keys(GrpcStatus) as Array<keyof typeof GrpcStatus>).find((k) => GrpcStatus[k] === code);
  return name ?? 'UNKNOWN';
}

/** The one place gRPC status codes are classified. */
export function isRetryableGrpcCode(code: number): boolean {
  return !PERMANENT.has(code);
}

/** Wraps a gRPC call error (ServiceError) into a classified ZerobusError, keeping the server's message. */
export function fromGrpcError(err: { code?: number; details?: string; message?: string }, table: string): ZerobusError {
  const code = typeof err.code === 'number' ? err.code : GrpcStatus.UNKNOWN;
  const detail = err.details || err.message || 'no details';
  return new ZerobusError(`zerobus stream for ${table} failed: ${grpcCodeName(code)}: ${detail}`, {
    code: grpcCodeName(code),
    retryable: isRetryableGrpcCode(code),
    table,
    cause: err,
  });
}
