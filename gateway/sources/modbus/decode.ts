/**
 * Register decoding for Modbus tags. Pure: no I/O, no clock, no logger.
 *
 * A register is 16 bits. Multi-register values are laid out in one of four orders, named by
 * where the bytes of a 32-bit value A B C D (A most significant) land on the wire:
 *
 * | order | words         | bytes in a word | 32-bit value on the wire |
 * | ----- | ------------- | --------------- | ------------------------ |
 * | ABCD  | high first    | high first      | AB CD (Modbus standard)  |
 * | CDAB  | low first     | high first      | CD AB ("word swap")      |
 * | BADC  | high first    | low first       | BA DC ("byte swap")      |
 * | DCBA  | low first     | low first       | DC BA (little-endian)    |
 *
 * The same two choices extend to 64-bit values (CDAB puts the lowest word first) and to
 * 16-bit values (only the byte choice applies). Strings keep their registers in address
 * order; only the byte choice applies inside each register.
 */

export const MODBUS_DATA_TYPES = ['bool', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64', 'float32', 'float64', 'string'] as const;
export type ModbusDataType = (typeof MODBUS_DATA_TYPES)[number];

export const BYTE_ORDERS = ['ABCD', 'CDAB', 'BADC', 'DCBA'] as const;
export type ByteOrder = (typeof BYTE_ORDERS)[number];

/** A decoded value before scale and offset. 64-bit integers stay bigint so nothing is lost. */
export type DecodedValue = boolean | number | bigint | string;

const BITS_PER_REGISTER = 16;
const BYTES_PER_REGISTER = 2;
const BYTE_MASK = 0xff;
const BYTE_BITS = 8;
/** float32 needs at most 9 significant digits to round-trip. */
const FLOAT32_MAX_DIGITS = 9;

const FIXED_REGISTERS: Record<Exclude<ModbusDataType, 'string'>, number> = {
  bool: 1,
  int16: 1,
  uint16: 1,
  int32: 2,
  uint32: 2,
  float32: 2,
  int64: 4,
  uint64: 4,
  float64: 4,
};

/** Registers a value of this type occupies; a string occupies its configured length. */
export function registerCount(type: ModbusDataType, stringLength = 1): number {
  return type === 'string' ? stringLength : FIXED_REGISTERS[type];
}

function swapsWords(order: ByteOrder): boolean {
  return order === 'CDAB' || order === 'DCBA';
}

function swapsBytes(order: ByteOrder): boolean {
  return order === 'BADC' || order === 'DCBA';
}

/** The registers as big-endian bytes (most significant first), undoing the device's order. */
export function toBigEndianBytes(words: readonly number[], order: ByteOrder): Buffer {
  const n = words.length;
  const bytes = Buffer.alloc(n * BYTES_PER_REGISTER);
  const wordSwap = swapsWords(order);
  const byteSwap = swapsBytes(order);
  for (let i = 0; i < n; i++) {
    const word = words[wordSwap ? n - 1 - i : i] ?? 0;
    const high = (word >> BYTE_BITS) & BYTE_MASK;
    const low = word & BYTE_MASK;
    bytes[i * 2] = byteSwap ? low : high;
    bytes[i * 2 + 1] = byteSwap ? high : low;
  }
  return bytes;
}

/** The inverse of toBigEndianBytes: big-endian bytes to registers in the device's order. */
export function fromBigEndianBytes(bytes: Buffer, order: ByteOrder): number[] {
  const n = bytes.length / BYTES_PER_REGISTER;
  const wordSwap = swapsWords(order);
  const byteSwap = swapsBytes(order);
  const words = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const high = bytes[i * 2] ?? 0;
    const low = bytes[i * 2 + 1] ?? 0;
    words[wordSwap ? n - 1 - i : i] = byteSwap ? (low << BYTE_BITS) | high : (high << BYTE_BITS) | low;
  }
  return words;
}

/** String registers as bytes in address order, each register's bytes per the order. */
export function stringBytes(words: readonly number[], order: ByteOrder): Buffer {
  const bytes = Buffer.alloc(words.length * BYTES_PER_REGISTER);
  const byteSwap = swapsBytes(order);
  words.forEach((word, i) => {
    const high = (word >> BYTE_BITS) & BYTE_MASK;
    const low = word & BYTE_MASK;
    bytes[i * 2] = byteSwap ? low : high;
    bytes[i * 2 + 1] = byteSwap ? high : low;
  });
  return bytes;
}

/** Bytes to string registers, the inverse of stringBytes. The byte count must be even. */
export function stringWords(bytes: Buffer, order: ByteOrder): number[] {
  const byteSwap = swapsBytes(order);
  const words: number[] = [];
  for (let i = 0; i < bytes.length; i += 2) {
    const first = bytes[i] ?? 0;
    const second = bytes[i + 1] ?? 0;
    words.push(byteSwap ? (second << BYTE_BITS) | first : (first << BYTE_BITS) | second);
  }
  return words;
}

/**
 * Decodes the registers of one tag. `bit` (0 = least significant) picks one bit of a
 * register for a bool; without it a bool is true when the register is not 0. A string ends
 * at its first NUL byte and is read as Latin-1, one character per byte. Throws RangeError
 * when the register count does not fit the type: the read planner never lets that happen.
 */
export function decodeRegisters(words: readonly number[], type: ModbusDataType, order: ByteOrder, bit?: number): DecodedValue {
  const expected = type === 'string' ? words.length : FIXED_REGISTERS[type];
  if (words.length !== expected || words.length === 0) {
    throw new RangeError(`${type} needs ${expected} register(s), got ${words.length}`);
  }
  if (type === 'string') {
    const bytes = stringBytes(words, order);
    const end = bytes.indexOf(0);
    return bytes.toString('latin1', 0, end === -1 ? bytes.length : end);
  }
  const bytes = toBigEndianBytes(words, order);
  switch (type) {
    case 'bool': {
      const word = bytes.readUInt16BE(0);
      if (bit === undefined) return word !== 0;
      if (!Number.isInteger(bit) || bit < 0 || bit >= BITS_PER_REGISTER) throw new RangeError(`bit must be 0-15, got ${bit}`);
      return ((word >> bit) & 1) === 1;
    }
    case 'int16':
      return bytes.readInt16BE(0);
    case 'uint16':
      return bytes.readUInt16BE(0);
    case 'int32':
      return bytes.readInt32BE(0);
    case 'uint32':
      return bytes.readUInt32BE(0);
    case 'int64':
      return bytes.readBigInt64BE(0);
    case 'uint64':
      return bytes.readBigUInt64BE(0);
    case 'float32':
      return shortestFloat32(bytes.readFloatBE(0));
    case 'float64':
      return bytes.readDoubleBE(0);
  }
}

/**
 * The shortest decimal that reads back as the same float32, so 0.1f is 0.1 rather than
 * 0.10000000149011612. NaN and the infinities pass through unchanged.
 */
export function shortestFloat32(value: number): number {
  if (!Number.isFinite(value) || value === 0) return value;
  for (let digits = 1; digits < FLOAT32_MAX_DIGITS; digits++) {
    const candidate = Number(value.toPrecision(digits));
    if (Math.fround(candidate) === value) return candidate;
  }
  return Number(value.toPrecision(FLOAT32_MAX_DIGITS));
}
