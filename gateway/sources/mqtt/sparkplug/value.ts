import type { ReadingValue } from '../../../../common/reading.ts';
import type { TagDataType } from '../../types.ts';
import { DataType, dataTypeName, longToBigInt, type ProtoDataSet, type ProtoMetric } from './proto.ts';

/**
 * Sparkplug B metric values to reading values. Pure.
 *
 * - Integers keep their exact value: a number when it is a safe integer (|v| < 2^53), else its
 *   decimal text. Int8/Int16/Int32 accept both encodings seen in the field (sign-extended to
 *   32 bits, or the unsigned two's-complement byte/word).
 * - Float is reported as the shortest decimal that is the same 32-bit float (0.1, not
 *   0.10000000149011612).
 * - DateTime (epoch milliseconds) becomes ISO 8601 text.
 * - Bytes and File become base64 text; a DataSet becomes JSON text
 *   {"columns": [...], "types": [...], "rows": [[...]]}; arrays (Sparkplug 3.0, types 22-34
 *   except BooleanArray) become JSON text of their elements.
 * - Template instances are flattened by the host (host.ts) before they get here.
 */

export type ValueResult = { value: ReadingValue } | { kind: 'type_mismatch' | 'unsupported_datatype' | 'invalid_value'; reason: string };

const INTEGER_BITS: ReadonlyMap<number, { bits: number; signed: boolean }> = new Map([
  [DataType.Int8, { bits: 8, signed: true }],
  [DataType.Int16, { bits: 16, signed: true }],
  [DataType.Int32, { bits: 32, signed: true }],
  [DataType.Int64, { bits: 64, signed: true }],
  [DataType.UInt8, { bits: 8, signed: false }],
  [DataType.UInt16, { bits: 16, signed: false }],
  [DataType.UInt32, { bits: 32, signed: false }],
  [DataType.UInt64, { bits: 64, signed: false }],
]);

/** Element size in bytes and reader of each fixed-size array type (little-endian). */
const ARRAY_READERS: ReadonlyMap<number, { size: number; read: (view: DataView, offset: number) => ReadingValue }> = new Map([
  [DataType.Int8Array, { size: 1, read: (v, o) => v.getInt8(o) }],
  [DataType.Int16Array, { size: 2, read: (v, o) => v.getInt16(o, true) }],
  [DataType.Int32Array, { size: 4, read: (v, o) => v.getInt32(o, true) }],
  [DataType.Int64Array, { size: 8, read: (v, o) => exact(v.getBigInt64(o, true)) }],
  [DataType.UInt8Array, { size: 1, read: (v, o) => v.getUint8(o) }],
  [DataType.UInt16Array, { size: 2, read: (v, o) => v.getUint16(o, true) }],
  [DataType.UInt32Array, { size: 4, read: (v, o) => v.getUint32(o, true) }],
  [DataType.UInt64Array, { size: 8, read: (v, o) => exact(v.getBigUint64(o, true)) }],
  [DataType.FloatArray, { size: 4, read: (v, o) => shortestFloat32(v.getFloat32(o, true)) }],
  [DataType.DoubleArray, { size: 8, read: (v, o) => v.getFloat64(o, true) }],
  [DataType.DateTimeArray, { size: 8, read: (v, o) => isoTime(v.getBigInt64(o, true)) }],
]);

const TAG_TYPES: ReadonlyMap<number, TagDataType> = new Map<number, TagDataType>([
  [DataType.Int8, 'SByte'],
  [DataType.Int16, 'Int16'],
  [DataType.Int32, 'Int32'],
  [DataType.Int64, 'Int64'],
  [DataType.UInt8, 'Byte'],
  [DataType.UInt16, 'UInt16'],
  [DataType.UInt32, 'UInt32'],
  [DataType.UInt64, 'UInt64'],
  [DataType.Float, 'Float'],
  [DataType.Double, 'Double'],
  [DataType.Boolean, 'Boolean'],
  [DataType.DateTime, 'DateTime'],
  [DataType.Int8Array, 'SByte'],
  [DataType.Int16Array, 'Int16'],
  [DataType.Int32Array, 'Int32'],
  [DataType.Int64Array, 'Int64'],
  [DataType.UInt8Array, 'Byte'],
  [DataType.UInt16Array, 'UInt16'],
  [DataType.UInt32Array, 'UInt32'],
  [DataType.UInt64Array, 'UInt64'],
  [DataType.FloatArray, 'Float'],
  [DataType.DoubleArray, 'Double'],
  [DataType.StringArray, 'String'],
  [DataType.DateTimeArray, 'DateTime'],
]);

const FLOAT32_MAX_DIGITS = 9;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** The OPC UA type a metric of this datatype is declared with, and whether it is an array. */
export function tagTypeOf(datatype: number): { dataType: TagDataType; isArray: boolean } {
  const isArray = datatype >= DataType.Int8Array && datatype <= DataType.DateTimeArray;
  return { dataType: TAG_TYPES.get(datatype) ?? 'String', isArray };
}

export function isSupportedDatatype(datatype: number): boolean {
  return (datatype >= DataType.Int8 && datatype <= DataType.Template) || (ARRAY_READERS.has(datatype) || datatype === DataType.StringArray);
}

/** The value of a metric (or DataSet cell) read as the given datatype. */
export function decodeMetricValue(metric: ProtoMetric, datatype: number): ValueResult {
  if (metric.isNull) return { value: null };
  const integer = INTEGER_BITS.get(datatype);
  if (integer) {
    if (isSet(metric.intValue)) return { value: fromUint32(metric.intValue, integer.bits, integer.signed) };
    if (isSet(metric.longValue)) return { value: exact(fit(longToBigInt(metric.longValue), integer.bits, integer.signed)) };
    return mismatch(metric, datatype);
  }
  switch (datatype) {
    case DataType.Float:
    case DataType.Double: {
      const v = isSet(metric.floatValue) ? shortestFloat32(metric.floatValue) : isSet(metric.doubleValue) ? metric.doubleValue : undefined;
      return v === undefined ? mismatch(metric, datatype) : { value: v };
    }
    case DataType.Boolean:
      return isSet(metric.booleanValue) ? { value: metric.booleanValue } : mismatch(metric, datatype);
    case DataType.String:
    case DataType.Text:
    case DataType.UUID:
      return isSet(metric.stringValue) ? { value: metric.stringValue } : mismatch(metric, datatype);
    case DataType.DateTime: {
      const raw = isSet(metric.longValue) ? longToBigInt(metric.longValue) : undefined;
      if (raw === undefined) return mismatch(metric, datatype);
      const iso = isoTime(BigInt.asIntN(64, raw));
      return iso === null ? { kind: 'invalid_value', reason: `DateTime ${raw} ms is outside the range of a date` } : { value: iso };
    }
    case DataType.Bytes:
    case DataType.File:
      return isSet(metric.bytesValue) ? { value: Buffer.from(metric.bytesValue).toString('base64') } : mismatch(metric, datatype);
    case DataType.DataSet:
      return isSet(metric.datasetValue) ? decodeDataSet(metric.datasetValue) : mismatch(metric, datatype);
    case DataType.StringArray:
      return isSet(metric.bytesValue) ? { value: JSON.stringify(splitStrings(metric.bytesValue)) } : mismatch(metric, datatype);
    default: {
      const array = ARRAY_READERS.get(datatype);
      if (!array) return { kind: 'unsupported_datatype', reason: `datatype ${dataTypeName(datatype)} is not supported` };
      if (!isSet(metric.bytesValue)) return mismatch(metric, datatype);
      return decodeArray(metric.bytesValue, array.size, array.read, datatype);
    }
  }
}

function isSet<T>(value: T | null | undefined): value is T {
  return value !== null && value !== undefined;
}

function mismatch(metric: ProtoMetric, datatype: number): ValueResult {
  const carried = (metric as { value?: string }).value;
  return {
    kind: 'type_mismatch',
    reason: `declared ${dataTypeName(datatype)} but the metric carries ${carried ?? 'no value'}`,
  };
}

/** An int_value (uint32 on the wire) read as a signed or unsigned integer of the given width. */
function fromUint32(raw: number, bits: number, signed: boolean): number {
  if (bits >= 32) return signed ? raw | 0 : raw >>> 0;
  const shift = 32 - bits;
  return signed ? (raw << shift) >> shift : (raw << shift) >>> shift;
}

function fit(raw: bigint, bits: number, signed: boolean): bigint {
  return signed ? BigInt.asIntN(bits, raw) : BigInt.asUintN(bits, raw);
}

/** A number when it is exact in a double, else decimal text. */
function exact(value: bigint): number | string {
  return value <= MAX_SAFE && value >= -MAX_SAFE ? Number(value) : value.toString();
}

/** The shortest decimal that reads back as the same 32-bit float. */
export function shortestFloat32(value: number): number {
  if (!Number.isFinite(value) || value === 0) return value;
  for (let digits = 1; digits <= FLOAT32_MAX_DIGITS; digits++) {
    const candidate = Number(value.toPrecision(digits));
    if (Math.fround(candidate) === value) return candidate;
  }
  return value;
}

function isoTime(ms: bigint): string | null {
  const n = Number(ms);
  const date = new Date(n);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

function decodeArray(bytes: Uint8Array, size: number, read: (view: DataView, offset: number) => ReadingValue, datatype: number): ValueResult {
  if (bytes.length % size !== 0) {
    return { kind: 'invalid_value', reason: `${dataTypeName(datatype)} of ${bytes.length} bytes is not a whole number of ${size}-byte elements` };
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const values: ReadingValue[] = [];
  for (let offset = 0; offset < bytes.length; offset += size) values.push(read(view, offset));
  return { value: JSON.stringify(values) };
}

/** StringArray: UTF-8 strings, each ended by a NUL byte. */
function splitStrings(bytes: Uint8Array): string[] {
  const text = Buffer.from(bytes).toString('utf8');
  const parts = text.split('\u0000');
  if (parts.at(-1) === '') parts.pop();
  return parts;
}

function decodeDataSet(dataSet: ProtoDataSet): ValueResult {
  const types = dataSet.types ?? [];
  const rows: ReadingValue[][] = [];
  for (const [r, row] of (dataSet.rows ?? []).entries()) {
    const cells: ReadingValue[] = [];
    for (const [c, element] of (row.elements ?? []).entries()) {
      const cell = decodeMetricValue(element as ProtoMetric, types[c] ?? 0);
      if (!('value' in cell)) return { kind: 'invalid_value', reason: `DataSet row ${r} column ${c}: ${cell.reason}` };
      cells.push(cell.value);
    }
    rows.push(cells);
  }
  return { value: JSON.stringify({ columns: dataSet.columns ?? [], types: types.map(dataTypeName), rows }) };
}

