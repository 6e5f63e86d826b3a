/**
 * What went wrong with one Modbus request, classified once from modbus-serial's error fields
 * (never from message text), and the reading quality each kind gives. Pure.
 */
import { QUALITY_BAD_NO_COMMUNICATION } from '../../../common/quality.ts';

/** Bad_CommunicationError: an answer arrived but was malformed (CRC, length, wrong unit). */
export const QUALITY_BAD_COMMUNICATION_ERROR = 0x80050000;
/** Bad_OutOfRange: a float register holds NaN or ±Infinity, which a row cannot carry. */
export const QUALITY_BAD_OUT_OF_RANGE = 0x803c0000;
/** Bad_NotSupported: exception 1, the device does not support the function code. */
export const QUALITY_BAD_NOT_SUPPORTED = 0x803d0000;
/** Bad_ConfigurationError: exceptions 2 and 3, the address or count does not exist on the device. */
export const QUALITY_BAD_CONFIGURATION_ERROR = 0x80890000;
/** Bad_DeviceFailure: exception 4 (server device failure) and every other exception. */
export const QUALITY_BAD_DEVICE_FAILURE = 0x808b0000;

export const EXCEPTION_ILLEGAL_FUNCTION = 0x01;
export const EXCEPTION_ILLEGAL_DATA_ADDRESS = 0x02;
export const EXCEPTION_ILLEGAL_DATA_VALUE = 0x03;
/** A gateway has no path to the unit (0x0A) or the unit behind it did not answer (0x0B). */
export const EXCEPTION_GATEWAY_PATH_UNAVAILABLE = 0x0a;
export const EXCEPTION_GATEWAY_TARGET_FAILED = 0x0b;

export type FailureKind = 'timeout' | 'exception' | 'disconnected' | 'protocol';

export interface RequestFailure {
  kind: FailureKind;
  message: string;
  /** The Modbus exception code, for kind exception. */
  code?: number;
}

const TIMED_OUT_ERRNO = 'ETIMEDOUT';
const TIMED_OUT_NAME = 'TransactionTimedOutError';
const PORT_NOT_OPEN_NAME = 'PortNotOpenError';

/** Classifies an error from a modbus-serial request callback. */
export function classifyModbusError(err: unknown): RequestFailure {
  const e = (err ?? {}) as { modbusCode?: unknown; errno?: unknown; name?: unknown; message?: unknown };
  const message = typeof e.message === 'string' && e.message !== '' ? e.message : String(err);
  if (typeof e.modbusCode === 'number') return { kind: 'exception', code: e.modbusCode, message };
  if (e.errno === TIMED_OUT_ERRNO || e.name === TIMED_OUT_NAME) return { kind: 'timeout', message: 'no answer within the timeout' };
  if (e.name === PORT_NOT_OPEN_NAME) return { kind: 'disconnected', message: 'not connected' };
  return { kind: 'protocol', message };
}

/**
 * True when the unit itself cannot be reached: it did not answer, or a gateway says so.
 * Such a device backs off (unit_backoff_*) so it does not hold up the others on the line.
 */
export function unitUnreachable(failure: RequestFailure): boolean {
  if (failure.kind === 'timeout') return true;
  return failure.kind === 'exception' && (failure.code === EXCEPTION_GATEWAY_PATH_UNAVAILABLE || failure.code === EXCEPTION_GATEWAY_TARGET_FAILED);
}

/** The OPC UA status code of the readings a failed request leaves without a value. */
export function qualityOf(failure: RequestFailure): number {
  switch (failure.kind) {
    case 'timeout':
    case 'disconnected':
      return QUALITY_BAD_NO_COMMUNICATION;
    case 'protocol':
      return QUALITY_BAD_COMMUNICATION_ERROR;
    case 'exception':
      if (unitUnreachable(failure)) return QUALITY_BAD_NO_COMMUNICATION;
      if (failure.code === EXCEPTION_ILLEGAL_FUNCTION) return QUALITY_BAD_NOT_SUPPORTED;
      if (failure.code === EXCEPTION_ILLEGAL_DATA_ADDRESS || failure.code === EXCEPTION_ILLEGAL_DATA_VALUE) return QUALITY_BAD_CONFIGURATION_ERROR;
      return QUALITY_BAD_DEVICE_FAILURE;
  }
}
