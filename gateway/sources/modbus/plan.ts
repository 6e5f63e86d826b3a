/**
 * Read planning: which requests read a device's tags. Pure.
 *
 * Tags of the same register type whose ranges touch or overlap (or leave a gap of at most
 * maxGap registers/bits) merge into one request, as long as the request spans at most
 * maxRegisters registers (holding, input) or maxBits bits (coil, discrete input). A device's
 * requests are planned once at start and read in order at every poll.
 */
import type { ModbusRegisterType } from '../../../common/reading.ts';

/** Modbus caps one read at 125 registers (FC 3/4) and 2000 bits (FC 1/2). */
export const MODBUS_MAX_READ_REGISTERS = 125;
export const MODBUS_MAX_READ_BITS = 2000;

/** The order requests are issued in within one poll. */
export const REGISTER_TYPE_ORDER: readonly ModbusRegisterType[] = ['coil', 'discrete_input', 'holding', 'input'];

export interface Span {
  registerType: ModbusRegisterType;
  /** First register or bit, 0-based. */
  address: number;
  /** Registers (holding, input) or bits (coil, discrete input) it covers. */
  width: number;
}

export interface PlanLimits {
  maxRegisters: number;
  maxBits: number;
  /** Unused registers/bits a request may read across to join two tags; 0 joins only touching tags. */
  maxGap: number;
}

export interface ReadRequest<T extends Span> {
  registerType: ModbusRegisterType;
  address: number;
  count: number;
  /** The tags the request covers, by address. */
  tags: T[];
}

export function isBitType(type: ModbusRegisterType): boolean {
  return type === 'coil' || type === 'discrete_input';
}

/** Plans the requests for a device's tags. A tag wider than the limit gets a request of its own. */
export function planReads<T extends Span>(tags: readonly T[], limits: PlanLimits): ReadRequest<T>[] {
  const requests: ReadRequest<T>[] = [];
  for (const registerType of REGISTER_TYPE_ORDER) {
    const maxSpan = isBitType(registerType) ? limits.maxBits : limits.maxRegisters;
    const ofType = tags.filter((t) => t.registerType === registerType).sort((a, b) => a.address - b.address);
    let current: ReadRequest<T> | undefined;
    for (const tag of ofType) {
      const end = tag.address + tag.width;
      if (current) {
        const currentEnd = current.address + current.count;
        const newEnd = Math.max(currentEnd, end);
        if (tag.address <= currentEnd + limits.maxGap && newEnd - current.address <= maxSpan) {
          current.count = newEnd - current.address;
          current.tags.push(tag);
          continue;
        }
      }
      current = { registerType, address: tag.address, count: tag.width, tags: [tag] };
      requests.push(current);
    }
  }
  return requests;
}
