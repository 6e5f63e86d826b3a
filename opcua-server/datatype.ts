import { DataType, Variant, VariantArrayType } from 'node-opcua';
import type { ReadingValue } from '../common/reading.ts';
import type { TagDataType } from '../gateway/sources/types.ts';

/**
 * How a Reading value becomes an OPC UA Variant of a variable's DataType, and back for writes.
 * Pure: no I/O, no clock, no logger.
 *
 * A variable's type is fixed when it is created: the declared TagInfo.dataType, else the type of
 * the first non-null value (boolean → Boolean, number → Double, string → String). A tag declared
 * without a type, or first seen with null, starts as BaseDataType and takes the type of its first
 * non-null value (settledType). A later value that does not fit the variable's type is refused
 * here; the caller keeps the last value and marks it Bad_TypeMismatch.
 */
export type VariableType = TagDataType | 'BaseDataType';

export interface VariableKind {
  readonly type: VariableType;
  /** Values arrive as JSON text of an array (TagInfo.isArray). */
  readonly isArray: boolean;
}

export type Conversion = { ok: true; variant: Variant } | { ok: false; reason: string };

const BUILTIN: Record<VariableType, DataType> = {
  Boolean: DataType.Boolean,
  SByte: DataType.SByte,
  Byte: DataType.Byte,
  Int16: DataType.Int16,
  UInt16: DataType.UInt16,
  Int32: DataType.Int32,
  UInt32: DataType.UInt32,
  Int64: DataType.Int64,
  UInt64: DataType.UInt64,
  Float: DataType.Float,
  Double: DataType.Double,
  String: DataType.String,
  DateTime: DataType.DateTime,
  BaseDataType: DataType.Variant,
};

/** Inclusive ranges of the integer types that fit a JavaScript number exactly. */
const INT_RANGE: Partial<Record<VariableType, [number, number]>> = {
  SByte: [-128, 127],
  Byte: [0, 255],
  Int16: [-32_768, 32_767],
  UInt16: [0, 65_535],
  Int32: [-2_147_483_648, 2_147_483_647],
  UInt32: [0, 4_294_967_295],
};

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;
const WORD = 2n ** 32n;

/** The node-opcua builtin DataType of a variable type (BaseDataType is Variant). */
export function builtinOf(type: VariableType): DataType {
  return BUILTIN[type];
}

/** The variable type a BaseDataType variable settles on, from the Variant its first non-null value became. */
export function settledType(dataType: DataType): VariableType {
  const found = (Object.keys(BUILTIN) as VariableType[]).find((type) => BUILTIN[type] === dataType);
  return found ?? 'BaseDataType';
}

/** True for the types an AnalogItem (EURange, EngineeringUnits) can carry. */
export function isNumericType(type: VariableType): boolean {
  return type !== 'Boolean' && type !== 'String' && type !== 'DateTime' && type !== 'BaseDataType';
}

/** One shared, frozen VariableKind per type and shape: a server with 50,000 tags keeps a handful of objects, not 50,000. */
const KINDS = new Map<string, VariableKind>();

export function kindOf(type: VariableType, isArray: boolean): VariableKind {
  const key = isArray ? `${type}[]` : type;
  let kind = KINDS.get(key);
  if (!kind) {
    kind = Object.freeze({ type, isArray });
    KINDS.set(key, kind);
  }
  return kind;
}

/** The kind of a variable first seen with this value (no declaration). */
export function inferKind(value: ReadingValue): VariableKind {
  if (typeof value === 'boolean') return kindOf('Boolean', false);
  if (typeof value === 'number') return kindOf('Double', false);
  if (typeof value === 'string') return kindOf('String', false);
  return kindOf('BaseDataType', false);
}

/** A Reading value as a Variant of the variable's kind, or why it does not fit. null gives a Null variant. */
export function toVariant(kind: VariableKind, value: ReadingValue): Conversion {
  if (value === null) return { ok: true, variant: new Variant({ dataType: DataType.Null }) };
  if (kind.isArray) return arrayToVariant(kind.type, value);
  const scalar = toScalar(kind.type, value);
  if (!scalar.ok) return scalar;
  const dataType = kind.type === 'BaseDataType' ? scalar.dataType : BUILTIN[kind.type];
  return { ok: true, variant: new Variant({ dataType, arrayType: VariantArrayType.Scalar, value: scalar.value }) };
}

function arrayToVariant(type: VariableType, value: ReadingValue): Conversion {
  if (typeof value !== 'string') return { ok: false, reason: `expected an array as JSON text, got ${typeof value}` };
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return { ok: false, reason: 'expected an array as JSON text, got text that is not JSON' };
  }
  if (!Array.isArray(parsed)) return { ok: false, reason: 'expected an array as JSON text' };
  const elements: unknown[] = [];
  let dataType = type === 'BaseDataType' ? undefined : BUILTIN[type];
  for (let i = 0; i < parsed.length; i++) {
    const element = parsed[i] as unknown;
    if (element !== null && typeof element === 'object') return { ok: false, reason: `element ${i}: expected a scalar` };
    const scalar = toScalar(type, element as ReadingValue);
    if (!scalar.ok) return { ok: false, reason: `element ${i}: ${scalar.reason}` };
    dataType ??= scalar.dataType;
    if (scalar.dataType !== dataType && type === 'BaseDataType') return { ok: false, reason: `element ${i}: elements of one array must share a type` };
    elements.push(scalar.value);
  }
  return { ok: true, variant: new Variant({ dataType: dataType ?? DataType.Double, arrayType: VariantArrayType.Array, value: elements }) };
}

type Scalar = { ok: true; dataType: DataType; value: unknown } | { ok: false; reason: string };

function toScalar(type: VariableType, value: ReadingValue): Scalar {
  if (value === null) return { ok: false, reason: 'null inside an array' };
  switch (type) {
    case 'BaseDataType':
      if (typeof value === 'boolean') return { ok: true, dataType: DataType.Boolean, value };
      if (typeof value === 'number') return { ok: true, dataType: DataType.Double, value };
      return { ok: true, dataType: DataType.String, value };
    case 'Boolean':
      if (typeof value === 'boolean') return { ok: true, dataType: DataType.Boolean, value };
      if (value === 0 || value === 1) return { ok: true, dataType: DataType.Boolean, value: value === 1 };
      return mismatch(type, value);
    case 'String':
      return typeof value === 'string' ? { ok: true, dataType: DataType.String, value } : mismatch(type, value);
    case 'Float':
    case 'Double':
      return typeof value === 'number' ? { ok: true, dataType: BUILTIN[type], value } : mismatch(type, value);
    case 'DateTime':
      return toDateTime(value);
    case 'Int64':
    case 'UInt64':
      return toInt64(type, value);
    default: {
      const range = INT_RANGE[type];
      if (typeof value !== 'number' || !Number.isInteger(value) || !range) return mismatch(type, value);
      if (value < range[0] || value > range[1]) return { ok: false, reason: `${value} is outside ${type} (${range[0]} to ${range[1]})` };
      return { ok: true, dataType: BUILTIN[type], value };
    }
  }
}

function toDateTime(value: string | number | boolean): Scalar {
  if (typeof value === 'boolean') return mismatch('DateTime', value);
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return { ok: false, reason: `${JSON.stringify(value)} is not a date` };
  return { ok: true, dataType: DataType.DateTime, value: date };
}

/** Int64/UInt64 travel as [high, low] 32-bit words in node-opcua. */
function toInt64(type: 'Int64' | 'UInt64', value: string | number | boolean): Scalar {
  let big: bigint;
  if (typeof value === 'number' && Number.isInteger(value)) big = BigInt(value);
  else if (typeof value === 'string' && /^-?\d+$/.test(value)) big = BigInt(value);
  else return mismatch(type, value);
  const [min, max] = type === 'Int64' ? [INT64_MIN, INT64_MAX] : [0n, UINT64_MAX];
  if (big < min || big > max) return { ok: false, reason: `${value} is outside ${type}` };
  const unsigned = BigInt.asUintN(64, big);
  return { ok: true, dataType: BUILTIN[type], value: [Number(unsigned / WORD), Number(unsigned % WORD)] };
}

function mismatch(type: VariableType, value: string | number | boolean): Scalar {
  return { ok: false, reason: `a ${typeof value} does not fit ${type}` };
}

/**
 * A value a client wrote, as the ReadingValue a driver's write() takes. node-opcua has already
 * checked the Variant against the variable's DataType. Arrays go as JSON text, like readings.
 */
export function fromVariant(variant: Variant): ReadingValue {
  if (variant.arrayType !== VariantArrayType.Scalar) {
    const elements = Array.from(variant.value as ArrayLike<unknown>, (v) => scalarFrom(variant.dataType, v));
    return JSON.stringify(elements);
  }
  return scalarFrom(variant.dataType, variant.value);
}

function scalarFrom(dataType: DataType, value: unknown): ReadingValue {
  if (value === null || value === undefined) return null;
  if (dataType === DataType.Int64 || dataType === DataType.UInt64) {
    const [high, low] = value as [number, number];
    const unsigned = BigInt(high) * WORD + BigInt(low);
    const big = dataType === DataType.Int64 ? BigInt.asIntN(64, unsigned) : unsigned;
    return Number.isSafeInteger(Number(big)) ? Number(big) : big.toString();
  }
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean') return value;
  return String(value);
}
