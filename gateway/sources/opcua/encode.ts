import { DataType, VariantArrayType } from 'node-opcua-client';
import type { ReadingValue } from '../../../common/reading.ts';

/**
 * A value written through the aggregated server, made into what the node's DataType takes.
 * Pure. Returns a problem sentence when the value does not fit (a SourceWriteError bad_value).
 * Arrays are written as JSON text, as they are read. Int64/UInt64 take a safe integer or
 * exact decimal text. DateTime takes ISO 8601 text or epoch milliseconds.
 */
export interface VariantOptions {
  dataType: DataType;
  arrayType: VariantArrayType;
  value: unknown;
}

const RANGES: Partial<Record<DataType, [number, number]>> = {
  [DataType.SByte]: [-128, 127],
  [DataType.Byte]: [0, 255],
  [DataType.Int16]: [-32768, 32767],
  [DataType.UInt16]: [0, 65535],
  [DataType.Int32]: [-2147483648, 2147483647],
  [DataType.UInt32]: [0, 4294967295],
};
const INT64_RANGE: [bigint, bigint] = [-(2n ** 63n), 2n ** 63n - 1n];
const UINT64_RANGE: [bigint, bigint] = [0n, 2n ** 64n - 1n];
const FLOAT_MAX = 3.4028234663852886e38;
const TWO_POW_32 = 2n ** 32n;

export function encodeWrite(value: ReadingValue, dataType: number, isArray: boolean): VariantOptions | string {
  const name = DataType[dataType] ?? `DataType ${dataType}`;
  if (value === null) return 'a null value cannot be written';
  if (isArray) {
    if (typeof value !== 'string') return `an array node takes JSON text, got ${typeof value}`;
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      return 'an array node takes JSON text, got text that is not JSON';
    }
    if (!Array.isArray(parsed)) return 'an array node takes a JSON array';
    const items: unknown[] = [];
    for (const [i, item] of parsed.entries()) {
      const v = scalar(item as ReadingValue, dataType, name);
      if (v instanceof Problem) return `element ${i}: ${v.text}`;
      items.push(v);
    }
    return { dataType, arrayType: VariantArrayType.Array, value: items };
  }
  const v = scalar(value, dataType, name);
  if (v instanceof Problem) return v.text;
  return { dataType, arrayType: VariantArrayType.Scalar, value: v };
}

class Problem {
  constructor(readonly text: string) {}
}

function scalar(value: ReadingValue, dataType: number, name: string): unknown {
  const problem = (text: string) => new Problem(text);
  switch (dataType) {
    case DataType.Boolean:
      if (typeof value === 'boolean') return value;
      if (value === 0 || value === 1) return value === 1;
      return problem(`a Boolean node takes true, false, 0 or 1, got ${JSON.stringify(value)}`);
    case DataType.SByte:
    case DataType.Byte:
    case DataType.Int16:
    case DataType.UInt16:
    case DataType.Int32:
    case DataType.UInt32: {
      const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      const [low, high] = RANGES[dataType as DataType] ?? [0, 0];
      if (typeof n !== 'number' || !Number.isInteger(n) || n < low || n > high) return problem(`a ${name} node takes a whole number ${low} to ${high}, got ${JSON.stringify(value)}`);
      return n;
    }
    case DataType.Int64:
    case DataType.UInt64: {
      const [low, high] = dataType === DataType.Int64 ? INT64_RANGE : UINT64_RANGE;
      let big: bigint;
      try {
        if (typeof value === 'number' && !Number.isSafeInteger(value)) throw new Error('unsafe');
        if (typeof value === 'boolean' || value === null) throw new Error('not an integer');
        big = BigInt(value);
      } catch {
        return problem(`a ${name} node takes a safe integer or exact decimal text, got ${JSON.stringify(value)}`);
      }
      if (big < low || big > high) return problem(`${String(value)} is outside ${name}`);
      const unsigned = big < 0n ? big + TWO_POW_32 * TWO_POW_32 : big;
      return [Number(unsigned / TWO_POW_32), Number(unsigned % TWO_POW_32)];
    }
    case DataType.Float:
    case DataType.Double: {
      const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      if (typeof n !== 'number' || Number.isNaN(n)) return problem(`a ${name} node takes a number, got ${JSON.stringify(value)}`);
      if (dataType === DataType.Float && Number.isFinite(n) && Math.abs(n) > FLOAT_MAX) return problem(`${n} is outside Float`);
      return n;
    }
    case DataType.String:
      return typeof value === 'string' ? value : String(value);
    case DataType.DateTime: {
      const date = typeof value === 'number' ? new Date(value) : typeof value === 'string' ? new Date(value) : undefined;
      if (!date || Number.isNaN(date.getTime())) return problem(`a DateTime node takes ISO 8601 text or epoch milliseconds, got ${JSON.stringify(value)}`);
      return date;
    }
    default:
      return problem(`writing to a ${name} node is not supported`);
  }
}
