/**
 * Modbus RTU framing for the simulator: serves RTU frames (unit, function, data, CRC-16) on
 * any byte stream, such as a TCP socket (RTU over TCP, as serial device servers speak it) or
 * a pty bridged to one. Requests are answered one at a time, as on a serial bus; a frame with
 * a bad CRC, or for a unit that is absent or dead, gets no answer.
 */
import type { Duplex } from 'node:stream';
import type { SimUnit, SimTable } from './modbus-unit.ts';

const FC_READ_COILS = 1;
const FC_READ_DISCRETE = 2;
const FC_READ_HOLDING = 3;
const FC_READ_INPUT = 4;
const FC_WRITE_COIL = 5;
const FC_WRITE_REGISTER = 6;
const FC_WRITE_COILS = 15;
const FC_WRITE_REGISTERS = 16;
const EXCEPTION_FLAG = 0x80;
const EXCEPTION_ILLEGAL_FUNCTION = 0x01;
const EXCEPTION_DEVICE_FAILURE = 0x04;
const COIL_ON = 0xff00;
/** unit + function + address + quantity/value + CRC */
const FIXED_REQUEST_BYTES = 8;
/** A write-multiple request carries its byte count at offset 6; the frame is 9 bytes plus the data. */
const BYTE_COUNT_OFFSET = 6;
const MULTIPLE_REQUEST_OVERHEAD = 9;
const CRC_BYTES = 2;

const READ_TABLES: Record<number, SimTable> = {
  [FC_READ_COILS]: 'coil',
  [FC_READ_DISCRETE]: 'discrete_input',
  [FC_READ_HOLDING]: 'holding',
  [FC_READ_INPUT]: 'input',
};

/** Modbus CRC-16 (polynomial 0xA001 reflected, initial 0xFFFF), sent low byte first. */
export function crc16(bytes: Uint8Array): number {
  let crc = 0xffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}

export function withCrc(body: Buffer): Buffer {
  const frame = Buffer.alloc(body.length + CRC_BYTES);
  body.copy(frame);
  frame.writeUInt16LE(crc16(body), body.length);
  return frame;
}

/** Serves RTU frames on a stream until it ends. */
export function serveRtu(stream: Duplex, unitFor: (unitId: number) => SimUnit | undefined): void {
  let buffer = Buffer.alloc(0);
  let chain: Promise<void> = Promise.resolve();
  stream.on('data', (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    for (;;) {
      const length = frameLength(buffer);
      if (length === undefined || buffer.length < length) {
        // An unknown function code cannot be framed: drop what we have and wait for silence.
        if (length === undefined && buffer.length >= 2) buffer = Buffer.alloc(0);
        return;
      }
      const frame = buffer.subarray(0, length);
      buffer = buffer.subarray(length);
      if (crc16(frame.subarray(0, length - CRC_BYTES)) !== frame.readUInt16LE(length - CRC_BYTES)) {
        buffer = Buffer.alloc(0);
        return;
      }
      const unit = unitFor(frame[0] ?? 0);
      if (!unit) continue;
      // A dead unit never answers; the bus is free for the next request, as on a real line.
      if (unit.dead) {
        void answer(frame, unit);
        continue;
      }
      chain = chain.then(() => answer(frame, unit)).then(
        (reply) => {
          if (reply && !stream.destroyed) stream.write(reply);
        },
        () => {},
      );
    }
  });
  stream.on('error', () => {});
}

/** Bytes of the request at the head of the buffer, or undefined when it cannot be told yet or at all. */
function frameLength(buffer: Buffer): number | undefined {
  if (buffer.length < 2) return undefined;
  const fc = buffer[1] ?? 0;
  if (fc >= FC_READ_COILS && fc <= FC_WRITE_REGISTER) return FIXED_REQUEST_BYTES;
  if (fc === FC_WRITE_COILS || fc === FC_WRITE_REGISTERS) {
    return buffer.length > BYTE_COUNT_OFFSET ? MULTIPLE_REQUEST_OVERHEAD + (buffer[BYTE_COUNT_OFFSET] ?? 0) : Number.MAX_SAFE_INTEGER;
  }
  return undefined;
}

/** The reply frame to one request, or undefined when the unit stays silent (dead). */
async function answer(frame: Buffer, unit: SimUnit): Promise<Buffer | undefined> {
  const unitId = frame[0] ?? 0;
  const fc = frame[1] ?? 0;
  const address = frame.readUInt16BE(2);
  const word = frame.readUInt16BE(4);
  try {
    const table = READ_TABLES[fc];
    if (table) {
      const values = await unit.read(table, address, word);
      return withCrc(Buffer.concat([Buffer.from([unitId, fc]), table === 'holding' || table === 'input' ? registerBytes(values) : bitBytes(values)]));
    }
    switch (fc) {
      case FC_WRITE_COIL:
        await unit.write('coil', address, [word === COIL_ON ? 1 : 0]);
        return withCrc(frame.subarray(0, FIXED_REQUEST_BYTES - CRC_BYTES));
      case FC_WRITE_REGISTER:
        await unit.write('holding', address, [word]);
        return withCrc(frame.subarray(0, FIXED_REQUEST_BYTES - CRC_BYTES));
      case FC_WRITE_REGISTERS: {
        const words: number[] = [];
        for (let i = 0; i < word; i++) words.push(frame.readUInt16BE(BYTE_COUNT_OFFSET + 1 + i * 2));
        await unit.write('holding', address, words);
        return withCrc(frame.subarray(0, BYTE_COUNT_OFFSET));
      }
      case FC_WRITE_COILS: {
        const bits: number[] = [];
        for (let i = 0; i < word; i++) bits.push(((frame[BYTE_COUNT_OFFSET + 1 + (i >> 3)] ?? 0) >> (i & 7)) & 1);
        await unit.write('coil', address, bits);
        return withCrc(frame.subarray(0, BYTE_COUNT_OFFSET));
      }
      default:
        return withCrc(Buffer.from([unitId, fc | EXCEPTION_FLAG, EXCEPTION_ILLEGAL_FUNCTION]));
    }
  } catch (err) {
    const code = (err as { modbusErrorCode?: number }).modbusErrorCode ?? EXCEPTION_DEVICE_FAILURE;
    return withCrc(Buffer.from([unitId, fc | EXCEPTION_FLAG, code]));
  }
}

function registerBytes(values: readonly number[]): Buffer {
  const out = Buffer.alloc(1 + values.length * 2);
  out[0] = values.length * 2;
  values.forEach((v, i) => out.writeUInt16BE(v, 1 + i * 2));
  return out;
}

function bitBytes(values: readonly number[]): Buffer {
  const byteCount = Math.ceil(values.length / 8);
  const out = Buffer.alloc(1 + byteCount);
  out[0] = byteCount;
  values.forEach((v, i) => {
    if (v) out[1 + (i >> 3)] = (out[1 + (i >> 3)] ?? 0) | (1 << (i & 7));
  });
  return out;
}
