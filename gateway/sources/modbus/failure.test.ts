import { describe, expect, it } from 'vitest';
import { QUALITY_BAD_NO_COMMUNICATION } from '../../../common/quality.ts';
import {
  classifyModbusError,
  qualityOf,
  unitUnreachable,
  QUALITY_BAD_COMMUNICATION_ERROR,
  QUALITY_BAD_CONFIGURATION_ERROR,
  QUALITY_BAD_DEVICE_FAILURE,
  QUALITY_BAD_NOT_SUPPORTED,
} from './failure.ts';

/** Errors shaped as modbus-serial builds them (index.js): fields, not message text, decide. */
function modbusSerialError(fields: Record<string, unknown>): Error {
  return Object.assign(new Error(String(fields.message ?? 'x')), fields);
}

describe('classifyModbusError', () => {
  it.each([
    ['an exception answer', modbusSerialError({ modbusCode: 2, message: 'Modbus exception 2: Illegal data address' }), { kind: 'exception', code: 2 }],
    ['a transaction timeout', modbusSerialError({ name: 'TransactionTimedOutError', errno: 'ETIMEDOUT', message: 'Timed out' }), { kind: 'timeout' }],
    ['a closed port', modbusSerialError({ name: 'PortNotOpenError', errno: 'ECONNREFUSED', message: 'Port Not Open' }), { kind: 'disconnected' }],
    ['a CRC error', new Error('CRC error'), { kind: 'protocol', message: 'CRC error' }],
  ])('classifies %s', (_name, err, expected) => {
    expect(classifyModbusError(err)).toMatchObject(expected);
  });
});

describe('qualityOf', () => {
  it.each([
    [{ kind: 'timeout' as const }, QUALITY_BAD_NO_COMMUNICATION, true],
    [{ kind: 'disconnected' as const }, QUALITY_BAD_NO_COMMUNICATION, false],
    [{ kind: 'protocol' as const }, QUALITY_BAD_COMMUNICATION_ERROR, false],
    [{ kind: 'exception' as const, code: 1 }, QUALITY_BAD_NOT_SUPPORTED, false],
    [{ kind: 'exception' as const, code: 2 }, QUALITY_BAD_CONFIGURATION_ERROR, false],
    [{ kind: 'exception' as const, code: 3 }, QUALITY_BAD_CONFIGURATION_ERROR, false],
    [{ kind: 'exception' as const, code: 4 }, QUALITY_BAD_DEVICE_FAILURE, false],
    [{ kind: 'exception' as const, code: 6 }, QUALITY_BAD_DEVICE_FAILURE, false],
    [{ kind: 'exception' as const, code: 0x0a }, QUALITY_BAD_NO_COMMUNICATION, true],
    [{ kind: 'exception' as const, code: 0x0b }, QUALITY_BAD_NO_COMMUNICATION, true],
  ])('gives %j the status %d (unit unreachable: %s)', (failure, quality, unreachable) => {
    const f = { message: 'm', ...failure };
    expect(qualityOf(f)).toBe(quality);
    expect(unitUnreachable(f)).toBe(unreachable);
  });
});
