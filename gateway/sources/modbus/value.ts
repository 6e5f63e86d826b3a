/**
 * From a decoded register value to a reading value and back: scale, offset and the 64-bit
 * rule. Pure.
 *
 * The 64-bit rule: an int64/uint64 tag without scale and offset is delivered as a number
 * when it lies within ±(2^53 - 1) (Number.MAX_SAFE_INTEGER), where a double holds every
 * integer exactly, and otherwise as a string of its exact decimal digits. Nothing is rounded
 * silently: a consumer that sees a string for an Int64 tag has the exact value. With scale
 * or offset set the tag is a Double by choice, and the value is computed in doubles.
 */
import type { ReadingValue } from '../../../common/reading.ts';
import { fromBigEndianBytes, stringWords, type ByteOrder, type DecodedValue, type ModbusDataType } from './decode.ts';

/** Scaled values are rounded to the 15 significant digits a double always carries, so 3 × 0.1 is 0.3. */
export const SCALED_SIGNIFICANT_DIGITS = 15;

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const BYTES_PER_REGISTER = 2;
const MAX_LATIN1_CODE = 0xff;

const INTEGER_RANGES: Partial<Record<ModbusDataType, readonly [bigint, bigint]>> = {
  int16: [-(2n ** 15n), 2n ** 15n - 1n],
  uint16: [0n, 2n ** 16n - 1n],
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  uint32: [0n, 2n ** 32n - 1n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
};

export interface Scaling {
  scale: number;
  offset: number;
}

function isIdentity(s: Scaling): boolean {
  return s.scale === 1 && s.offset === 0;
}

function roundScaled(x: number): number {
  return Number(x.toPrecision(SCALED_SIGNIFICANT_DIGITS));
}

/**
 * The reading value of a decoded register value: raw × scale + offset. A float that holds NaN
 * or ±Infinity (before or after scaling) cannot travel in a row or as JSON, so it comes back
 * as outOfRange with the reason.
 */
export function toReadingValue(decoded: DecodedValue, s: Scaling): { value: ReadingValue } | { outOfRange: string } {
  if (typeof decoded === 'boolean' || typeof decoded === 'string') return { value: decoded };
  if (typeof decoded === 'bigint') {
    if (isIdentity(s)) return { value: decoded >= -MAX_SAFE && decoded <= MAX_SAFE ? Number(decoded) : decoded.toString() };
    return { value: roundScaled(Number(decoded) * s.scale + s.offset) };
  }
  if (!Number.isFinite(decoded)) return { outOfRange: `register value is ${decoded}` };
  if (isIdentity(s)) return { value: decoded };
  const scaled = roundScaled(decoded * s.scale + s.offset);
  return Number.isFinite(scaled) ? { value: scaled } : { outOfRange: `scaled value is ${scaled}` };
}

export interface EncodeSpec extends Scaling {
  type: ModbusDataType;
  order: ByteOrder;
  /** Registers of a string tag. */
  length?: number;
}

/**
 * The registers to write for a value, in the device's order: (value - offset) / scale,
 * rounded to a whole number for integer types when scale or offset is set, and refused when
 * it does not fit. Without scale and offset an integer type takes whole numbers only; an
 * int64/uint64 also takes a string of decimal digits, as it is delivered beyond 2^53.
 */
export function encodeValue(value: ReadingValue, spec: EncodeSpec): { words: number[] } | { error: string } {
  const { type, order } = spec;
  if (type === 'string') return encodeString(value, spec.length ?? 1, order);
  if (type === 'bool') {
    const bool = toBool(value);
    if (bool === undefined) return { error: `expected true, false, 1 or 0 for a bool tag, got ${describe(value)}` };
    return { words: fromBigEndianBytes(Buffer.from([0, bool ? 1 : 0]), order) };
  }
  if (type === 'float32' || type === 'float64') {
    if (typeof value !== 'number' || !Number.isFinite(value)) return { error: `expected a finite number for a ${type} tag, got ${describe(value)}` };
    const raw = (value - spec.offset) / spec.scale;
    const bytes = Buffer.alloc(type === 'float32' ? 4 : 8);
    if (type === 'float32') {
      if (!Number.isFinite(Math.fround(raw))) return { error: `${value} is outside the float32 range` };
      bytes.writeFloatBE(raw, 0);
    } else bytes.writeDoubleBE(raw, 0);
    return { words: fromBigEndianBytes(bytes, order) };
  }
  const raw = integerOf(value, spec);
  if (typeof raw === 'string') return { error: raw };
  const [min, max] = INTEGER_RANGES[type] ?? [0n, 0n];
  if (raw < min || raw > max) return { error: `${describe(value)} is outside the ${type} range ${min}..${max}` };
  const width = type === 'int64' || type === 'uint64' ? 8 : type === 'int32' || type === 'uint32' ? 4 : 2;
  const bytes = Buffer.alloc(width);
  // Two's complement of the value in `width` bytes, written most significant byte first.
  let bits = BigInt.asUintN(width * 8, raw);
  for (let i = width - 1; i >= 0; i--) {
    bytes[i] = Number(bits & 0xffn);
    bits >>= 8n;
  }
  return { words: fromBigEndianBytes(bytes, order) };
}

/** The state to write to a coil. */
export function encodeCoil(value: ReadingValue): { state: boolean } | { error: string } {
  const bool = toBool(value);
  return bool === undefined ? { error: `expected true, false, 1 or 0 for a coil, got ${describe(value)}` } : { state: bool };
}

function toBool(value: ReadingValue): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (value === 0 || value === 1) return value === 1;
  return undefined;
}

function integerOf(value: ReadingValue, spec: EncodeSpec): bigint | string {
  const identity = isIdentity(spec);
  const wide = spec.type === 'int64' || spec.type === 'uint64';
  if (typeof value === 'string' && wide && identity) {
    return /^-?\d+$/.test(value) ? BigInt(value) : `expected decimal digits for a ${spec.type} tag, got ${describe(value)}`;
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) return `expected a number for a ${spec.type} tag, got ${describe(value)}`;
  if (identity) {
    if (!Number.isInteger(value)) return `expected a whole number for a ${spec.type} tag, got ${value}`;
    if (!Number.isSafeInteger(value)) return `${value} is beyond 2^53; send it as a string of digits`;
    return BigInt(value);
  }
  return BigInt(Math.round(roundScaled((value - spec.offset) / spec.scale)));
}

function encodeString(value: ReadingValue, registers: number, order: ByteOrder): { words: number[] } | { error: string } {
  if (typeof value !== 'string') return { error: `expected a string, got ${describe(value)}` };
  const capacity = registers * BYTES_PER_REGISTER;
  for (const ch of value) {
    if ((ch.codePointAt(0) ?? 0) > MAX_LATIN1_CODE) return { error: `character ${JSON.stringify(ch)} is not Latin-1` };
  }
  if (value.length > capacity) return { error: `${value.length} characters do not fit ${registers} registers (${capacity} at most)` };
  const bytes = Buffer.alloc(capacity);
  bytes.write(value, 'latin1');
  return { words: stringWords(bytes, order) };
}

function describe(value: ReadingValue): string {
  if (value === null) return 'null';
  return `${typeof value} ${typeof value === 'string' ? JSON.stringify(value) : String(value)}`;
}
