/**
 * One simulated Modbus unit (slave): four tables of 65,536 entries, plus the faults a test
 * needs: a dead unit (never answers), a slow one (answers after latencyMs) and exception
 * answers for chosen address ranges. Values are encoded here with Buffer's own methods, so a
 * test checks the gateway's decoding against an independent encoder.
 */
export type SimTable = 'coil' | 'discrete_input' | 'holding' | 'input';
export type SimDataType = 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'uint64' | 'float32' | 'float64';
export type SimOrder = 'ABCD' | 'CDAB' | 'BADC' | 'DCBA';

/** Modbus exception codes the simulator can answer with. */
export const SIM_EXCEPTION = {
  illegalFunction: 0x01,
  illegalDataAddress: 0x02,
  illegalDataValue: 0x03,
  deviceFailure: 0x04,
  gatewayTargetFailed: 0x0b,
} as const;

const TABLE_SIZE = 65_536;
const MAX_READ_REGISTERS = 125;
const MAX_READ_BITS = 2000;

/** The error shape modbus-serial's servers turn into an exception answer. */
export interface SimException {
  modbusErrorCode: number;
  message: string;
}

interface ExceptionRange {
  table: SimTable;
  from: number;
  to: number;
  code: number;
}

export class SimUnit {
  readonly unitId: number;
  readonly holding = new Uint16Array(TABLE_SIZE);
  readonly input = new Uint16Array(TABLE_SIZE);
  readonly coils = new Uint8Array(TABLE_SIZE);
  readonly discrete = new Uint8Array(TABLE_SIZE);
  /** A dead unit never answers, like a unit id with no device behind a gateway. */
  dead = false;
  /** Milliseconds before each answer. */
  latencyMs = 0;
  /** Requests seen per table (reads) and writes, answered or not. */
  readonly requests: Record<SimTable | 'write', number> = { coil: 0, discrete_input: 0, holding: 0, input: 0, write: 0 };
  #exceptions: ExceptionRange[] = [];

  constructor(unitId: number) {
    this.unitId = unitId;
  }

  /** Answer reads or writes touching [address, address + count) of the table with an exception. */
  setException(table: SimTable, address: number, count: number, code: number): void {
    this.#exceptions.push({ table, from: address, to: address + count, code });
  }

  clearExceptions(): void {
    this.#exceptions = [];
  }

  setRegisters(table: 'holding' | 'input', address: number, words: readonly number[]): void {
    this.#registers(table).set(words, address);
  }

  setBits(table: 'coil' | 'discrete_input', address: number, bits: readonly boolean[]): void {
    this.#bits(table).set(bits.map((b) => (b ? 1 : 0)), address);
  }

  /** Stores a number in the registers at address, in the given order. */
  setValue(table: 'holding' | 'input', address: number, type: SimDataType, order: SimOrder, value: number | bigint): void {
    this.setRegisters(table, address, encodeSimValue(type, order, value));
  }

  /** Stores text, two Latin-1 characters per register, NUL-padded to `registers`. */
  setString(table: 'holding' | 'input', address: number, registers: number, text: string, order: SimOrder = 'ABCD'): void {
    const bytes = Buffer.alloc(registers * 2);
    bytes.write(text, 'latin1');
    if (order === 'BADC' || order === 'DCBA') bytes.swap16();
    const words: number[] = [];
    for (let i = 0; i < bytes.length; i += 2) words.push(bytes.readUInt16BE(i));
    this.setRegisters(table, address, words);
  }

  /**
   * Reads count registers or bits: a value array, a rejected promise carrying an exception, a
   * promise that never settles (dead), or a promise settled after latencyMs.
   */
  read(table: SimTable, address: number, count: number): number[] | Promise<number[]> {
    this.requests[table]++;
    const max = table === 'holding' || table === 'input' ? MAX_READ_REGISTERS : MAX_READ_BITS;
    const fault = count < 1 || count > max ? SIM_EXCEPTION.illegalDataValue : address + count > TABLE_SIZE ? SIM_EXCEPTION.illegalDataAddress : this.#exceptionFor(table, address, count);
    const answer = () => {
      if (fault !== undefined) throw exception(fault);
      const source = table === 'holding' || table === 'input' ? this.#registers(table) : this.#bits(table);
      return Array.from(source.subarray(address, address + count));
    };
    return this.#deliver(answer);
  }

  /** Writes registers (FC 6/16) or coils (FC 5/15), with the same faults as read. */
  write(table: 'holding' | 'coil', address: number, values: readonly number[]): void | Promise<void> {
    this.requests.write++;
    const fault = address + values.length > TABLE_SIZE ? SIM_EXCEPTION.illegalDataAddress : this.#exceptionFor(table, address, values.length);
    return this.#deliver(() => {
      if (fault !== undefined) throw exception(fault);
      if (table === 'holding') this.holding.set(values, address);
      else this.coils.set(values.map((v) => (v ? 1 : 0)), address);
    });
  }

  #deliver<T>(answer: () => T): T | Promise<T> {
    if (this.dead) return new Promise<T>(() => {});
    if (this.latencyMs <= 0) return answer();
    return new Promise<T>((resolve, reject) => {
      setTimeout(() => {
        try {
          resolve(answer());
        } catch (err) {
          reject(err);
        }
      }, this.latencyMs);
    });
  }

  #exceptionFor(table: SimTable, address: number, count: number): number | undefined {
    return this.#exceptions.find((e) => e.table === table && address < e.to && address + count > e.from)?.code;
  }

  #registers(table: 'holding' | 'input'): Uint16Array {
    return table === 'holding' ? this.holding : this.input;
  }

  #bits(table: 'coil' | 'discrete_input'): Uint8Array {
    return table === 'coil' ? this.coils : this.discrete;
  }
}

export function exception(code: number): SimException {
  return { modbusErrorCode: code, message: `simulated exception ${code}` };
}

/**
 * Registers holding a value in the given order, built with Buffer's big-endian writers: CDAB
 * and DCBA reverse the registers, BADC and DCBA swap the two bytes inside each.
 */
export function encodeSimValue(type: SimDataType, order: SimOrder, value: number | bigint): number[] {
  const size = { int16: 2, uint16: 2, int32: 4, uint32: 4, float32: 4, int64: 8, uint64: 8, float64: 8 }[type];
  const b = Buffer.alloc(size);
  switch (type) {
    case 'int16':
      b.writeInt16BE(Number(value));
      break;
    case 'uint16':
      b.writeUInt16BE(Number(value));
      break;
    case 'int32':
      b.writeInt32BE(Number(value));
      break;
    case 'uint32':
      b.writeUInt32BE(Number(value));
      break;
    case 'float32':
      b.writeFloatBE(Number(value));
      break;
    case 'float64':
      b.writeDoubleBE(Number(value));
      break;
    case 'int64':
      b.writeBigInt64BE(BigInt(value));
      break;
    case 'uint64':
      b.writeBigUInt64BE(BigInt(value));
      break;
  }
  if (order === 'BADC' || order === 'DCBA') b.swap16();
  const words: number[] = [];
  for (let i = 0; i < size; i += 2) words.push(b.readUInt16BE(i));
  return order === 'CDAB' || order === 'DCBA' ? words.reverse() : words;
}
