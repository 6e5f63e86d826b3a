import { DataType, StatusCodes, VariantArrayType, type DataValue, type ISessionContext, type StatusCode, type UAVariable } from 'node-opcua';
import type { Logger } from '../common/logger.ts';
import { nowUs } from '../common/reading.ts';
import type { SourceHandle } from '../gateway/events.ts';
import { SourceWriteError } from '../gateway/sources/types.ts';
import { fromVariant } from './datatype.ts';
import type { OpcuaServerMetrics } from './metrics.ts';
import { readingDataValue, setDataValue } from './update.ts';

/**
 * Write-through: a client's write to a writable variable goes to the device through the
 * source's driver (SourceHandle.write), and the client's answer is the device's.
 *
 * Only variables the tree made writable (driver says writable, config allows it) carry this
 * handler, in place of node-opcua's writeValue, which would store the value in the server
 * whatever the device said. Read-only variables keep node-opcua's own, which answers
 * BadNotWritable from their access level.
 */
export interface WriteTarget {
  source: string;
  tag: string;
  handle: SourceHandle | undefined;
}

export interface WriteThroughDeps {
  /** The source and tag behind a variable, or undefined when its source is gone. */
  resolve: (variable: UAVariable) => WriteTarget | undefined;
  timeoutMs: number;
  log: Logger;
  metrics: OpcuaServerMetrics;
}

type StatusCallback = (err: Error | null, statusCode?: StatusCode) => void;
export type WriteValue = (this: UAVariable, context: ISessionContext, dataValue: DataValue, ...rest: unknown[]) => Promise<StatusCode> | void;

/** The StatusCode a client gets for a driver's refusal. */
export function writeErrorStatus(err: unknown): StatusCode {
  if (err instanceof WriteTimeoutError) return StatusCodes.BadTimeout;
  if (!(err instanceof SourceWriteError)) return StatusCodes.BadInternalError;
  switch (err.reason) {
    case 'not_writable':
      return StatusCodes.BadNotWritable;
    case 'unknown_tag':
      return StatusCodes.BadNodeIdUnknown;
    case 'bad_value':
      return StatusCodes.BadOutOfRange;
    case 'device':
      return StatusCodes.BadDeviceFailure;
  }
}

export class WriteTimeoutError extends Error {
  constructor(timeoutMs: number) {
    super(`the device did not confirm the write within ${timeoutMs} ms`);
    this.name = 'WriteTimeoutError';
  }
}

/** One handler shared by every writable variable (it finds its target through `this`). */
export function createWriteThrough(deps: WriteThroughDeps): WriteValue {
  return function writeValue(this: UAVariable, context: ISessionContext, dataValue: DataValue, ...rest: unknown[]) {
    const callback = rest.find((r): r is StatusCallback => typeof r === 'function');
    const indexRange = rest[0] !== callback ? rest[0] : undefined;
    const done = writeThrough(this, context, dataValue, indexRange, deps);
    if (!callback) return done;
    done.then(
      (status) => callback(null, status),
      (err: Error) => callback(err),
    );
    return undefined;
  };
}

async function writeThrough(variable: UAVariable, context: ISessionContext, dataValue: DataValue, indexRange: unknown, deps: WriteThroughDeps): Promise<StatusCode> {
  if (!variable.isWritable(context)) return StatusCodes.BadNotWritable;
  if (!variable.isUserWritable(context)) return StatusCodes.BadUserAccessDenied;
  if (hasIndexRange(indexRange)) return StatusCodes.BadWriteNotSupported;
  const variant = dataValue.value;
  if (!fitsVariable(variable, variant.dataType, variant.arrayType)) return StatusCodes.BadTypeMismatch;
  const target = deps.resolve(variable);
  if (!target?.handle?.write) return StatusCodes.BadNotWritable;
  const value = fromVariant(variant);
  const user = userOf(context);
  const labels = { source: target.source };
  try {
    await withTimeout(target.handle.write(target.tag, value), deps.timeoutMs);
  } catch (err) {
    const status = writeErrorStatus(err);
    deps.metrics.writes.inc({ ...labels, result: status.name });
    deps.log.warn({ err, source: target.source, tag: target.tag, user, status: status.name }, 'A client write was refused by the source.');
    return status;
  }
  deps.metrics.writes.inc({ ...labels, result: 'Good' });
  deps.log.info({ source: target.source, tag: target.tag, user, value }, 'Wrote a client value through to the source.');
  // Show the confirmed value until the next reading of the tag replaces it.
  const now = nowUs();
  setDataValue(variable, readingDataValue(variant, StatusCodes.Good, now, now));
  return StatusCodes.Good;
}

function hasIndexRange(indexRange: unknown): boolean {
  if (indexRange === undefined || indexRange === null || indexRange === '') return false;
  const range = indexRange as { isEmpty?: () => boolean };
  return typeof range.isEmpty === 'function' ? !range.isEmpty() : true;
}

/** The written Variant has the variable's builtin type (any, for BaseDataType) and shape. */
function fitsVariable(variable: UAVariable, dataType: DataType, arrayType: VariantArrayType): boolean {
  const basic = variable.getBasicDataType();
  if (dataType === DataType.Null) return false;
  if (basic !== DataType.Variant && basic !== dataType) return false;
  const isArray = variable.valueRank >= 0;
  return isArray ? arrayType === VariantArrayType.Array : arrayType === VariantArrayType.Scalar;
}

function userOf(context: ISessionContext): string | undefined {
  try {
    return context.getUserName();
  } catch {
    return undefined;
  }
}

async function withTimeout<T>(work: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new WriteTimeoutError(timeoutMs)), timeoutMs);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
