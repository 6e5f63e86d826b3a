import { DataType, VariantArrayType } from 'node-opcua-client';
import type { ReadingValue } from '../../../common/reading.ts';

/**
 * OPC UA values to reading values. Pure: no I/O, no clock, no logger.
 *
 * - Boolean, the 8-32 bit integers, Float and Double become numbers (booleans stay booleans).
 * - Int64/UInt64 become a number when they fit in 2^53 - 1, else their exact decimal text:
 *   never a silently rounded double.
 * - String, XmlElement, Guid stay text; DateTime is ISO 8601 text; ByteString is base64.
 * - Arrays and matrices become JSON text (matrices as nested arrays); inside them the same
 *   rules apply per element (NaN and Infinity become null, as JSON has no form for them).
 */
export interface VariantLike {
  dataType: number;
  arrayType: number;
  value: unknown;
  dimensions?: number[] | null;
}

/** Returned instead of a value that has no faithful reading form (kept apart from the hot path's allocations). */
export class Unrepresentable {
  constructor(readonly reason: string) {}
}

const TWO_POW_32 = 0x1_0000_0000n;
const SIGN_BIT = 0x8000_0000;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
const US_PER_MS = 1000;
const PICOSECONDS_PER_US = 1_000_000;
/** OPC UA's DateTime 0 (1601-01-01) as node-opcua decodes it: "no timestamp". */
const OPCUA_MIN_DATE_MS = Date.UTC(1601, 0, 1);

export function typeName(dataType: number): string {
  return DataType[dataType] ?? `DataType${dataType}`;
}

/** An Int64/UInt64 as node-opcua carries it ([high, low] 32-bit words) to a bigint. */
export function int64ToBigInt(words: readonly [number, number] | number[], signed: boolean): bigint {
  const high = words[0] ?? 0;
  const low = words[1] ?? 0;
  const unsigned = BigInt(high >>> 0) * TWO_POW_32 + BigInt(low >>> 0);
  return signed && (high & SIGN_BIT) !== 0 ? unsigned - TWO_POW_32 * TWO_POW_32 : unsigned;
}

/** A 64-bit integer as a number when that is exact, else as decimal text. */
export function int64Value(raw: unknown, signed: boolean): number | string {
  if (typeof raw === 'number') return raw;
  if (typeof raw === 'bigint') return raw >= MIN_SAFE && raw <= MAX_SAFE ? Number(raw) : raw.toString();
  const big = int64ToBigInt(raw as [number, number], signed);
  return big >= MIN_SAFE && big <= MAX_SAFE ? Number(big) : big.toString();
}

/** The reading value of a Variant. Called once per notification: allocates nothing for scalars. */
export function decodeValue(v: VariantLike): ReadingValue | Unrepresentable {
  if (v.arrayType === VariantArrayType.Scalar) {
    const value = scalar(v.dataType, v.value);
    return value === undefined ? new Unrepresentable(`cannot represent a ${typeName(v.dataType)} value`) : value;
  }
  const items = v.value == null ? [] : Array.from(v.value as ArrayLike<unknown>);
  const elements: unknown[] = [];
  for (const item of items) {
    const element = jsonElement(v.dataType, item);
    if (element === undefined) return new Unrepresentable(`cannot represent an element of a ${typeName(v.dataType)} array`);
    elements.push(element);
  }
  const dims = v.arrayType === VariantArrayType.Matrix ? (v.dimensions ?? []) : [];
  try {
    return JSON.stringify(dims.length > 1 ? nest(elements, dims) : elements);
  } catch (err) {
    return new Unrepresentable(`cannot write a ${typeName(v.dataType)} array as JSON: ${(err as Error).message}`);
  }
}

/** details.valueType: the builtin type name, with [] per array dimension (Double[], Int32[][]). */
export function valueTypeOf(v: VariantLike): string {
  const name = typeName(v.dataType);
  if (v.arrayType === VariantArrayType.Scalar) return name;
  const dims = v.arrayType === VariantArrayType.Matrix ? (v.dimensions?.length ?? 1) : 1;
  return `${name}${'[]'.repeat(Math.max(1, dims))}`;
}

function scalar(dataType: number, value: unknown): ReadingValue | undefined {
  if (value === null || value === undefined) return null;
  switch (dataType) {
    case DataType.Null:
      return null;
    case DataType.Boolean:
      return Boolean(value);
    case DataType.SByte:
    case DataType.Byte:
    case DataType.Int16:
    case DataType.UInt16:
    case DataType.Int32:
    case DataType.UInt32:
    case DataType.Float:
    case DataType.Double:
      return typeof value === 'number' ? value : Number(value);
    case DataType.Int64:
      return int64Value(value, true);
    case DataType.UInt64:
      return int64Value(value, false);
    case DataType.StatusCode:
      return (value as { value: number }).value >>> 0;
    default: {
      const element = jsonElement(dataType, value);
      if (element === undefined) return undefined;
      return typeof element === 'string' || element === null ? element : JSON.stringify(element);
    }
  }
}

/** One value as it sits inside JSON text. undefined: no faithful form. */
function jsonElement(dataType: number, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  switch (dataType) {
    case DataType.Boolean:
      return Boolean(value);
    case DataType.Int64:
      return int64Value(value, true);
    case DataType.UInt64:
      return int64Value(value, false);
    case DataType.String:
    case DataType.XmlElement:
    case DataType.Guid:
      return String(value);
    case DataType.DateTime:
      return value instanceof Date && !Number.isNaN(value.getTime()) ? value.toISOString() : null;
    case DataType.ByteString:
      return Buffer.isBuffer(value) ? value.toString('base64') : null;
    case DataType.NodeId:
    case DataType.ExpandedNodeId:
    case DataType.QualifiedName:
      return String(value);
    case DataType.LocalizedText:
      return (value as { text?: string | null }).text ?? null;
    case DataType.StatusCode:
      return (value as { value: number }).value >>> 0;
    case DataType.ExtensionObject: {
      const json = (value as { toJSON?: () => unknown }).toJSON?.();
      return json ?? undefined;
    }
    case DataType.DataValue:
    case DataType.Variant:
    case DataType.DiagnosticInfo:
      return undefined;
    default:
      return typeof value === 'number' ? (Number.isFinite(value) ? value : null) : Number(value);
  }
}

/** A flat row-major array to nested arrays of the given dimensions. */
function nest(flat: unknown[], dims: number[]): unknown[] {
  const [first = 0, ...rest] = dims;
  if (rest.length === 0) return flat.slice(0, first);
  const size = rest.reduce((a, b) => a * b, 1);
  return Array.from({ length: first }, (_, i) => nest(flat.slice(i * size, (i + 1) * size), rest));
}

/** A DataValue timestamp in microseconds (with its sub-millisecond picoseconds); undefined when absent. */
export function timestampUs(date: Date | null | undefined, picoseconds: number | null | undefined): number | undefined {
  if (!date) return undefined;
  const ms = date.getTime();
  if (Number.isNaN(ms) || ms <= OPCUA_MIN_DATE_MS) return undefined;
  return ms * US_PER_MS + Math.floor((picoseconds ?? 0) / PICOSECONDS_PER_US);
}
