import sparkplugProto from 'sparkplug-payload/lib/sparkplugPayloadProto.js';
import sparkplugPayload from 'sparkplug-payload';
import type { org } from 'sparkplug-payload/lib/sparkplugPayloadProto.js';

/**
 * The Sparkplug B payload codec of Eclipse Tahu (the sparkplug-payload package). Messages are
 * decoded with its generated protobuf types rather than its decodePayload(): DATA messages
 * normally leave out a metric's datatype (Sparkplug 3.0 says they should), and only the BIRTH
 * knows it, so values are read here with the datatype the BIRTH declared (see value.ts).
 */
export const Payload = sparkplugProto.org.eclipse.tahu.protobuf.Payload;
export type ProtoPayload = org.eclipse.tahu.protobuf.IPayload;
export type ProtoMetric = org.eclipse.tahu.protobuf.Payload.IMetric;
export type ProtoPropertySet = org.eclipse.tahu.protobuf.Payload.IPropertySet;
export type ProtoPropertyValue = org.eclipse.tahu.protobuf.Payload.IPropertyValue;
export type ProtoDataSet = org.eclipse.tahu.protobuf.Payload.IDataSet;
export type ProtoTemplate = org.eclipse.tahu.protobuf.Payload.ITemplate;

/** A 64-bit integer as protobufjs decodes it: a Long, or a number when it fits. */
export type LongLike = number | { low: number; high: number; unsigned?: boolean };

const codec = sparkplugPayload.get('spBv1.0');
if (!codec) throw new Error('sparkplug-payload has no spBv1.0 codec');
/** Tahu's encoder, for the Rebirth command and for tests that play an edge node. */
export const encodePayload = codec.encodePayload;
export type UPayload = Parameters<typeof codec.encodePayload>[0];

/** Decodes a payload, or says why it is not Sparkplug B protobuf. */
export function decodeSparkplugPayload(bytes: Uint8Array): { payload: ProtoPayload } | { reason: string } {
  try {
    return { payload: Payload.decode(bytes) };
  } catch (err) {
    return { reason: `not a Sparkplug B payload: ${(err as Error).message}` };
  }
}

/** Sparkplug B datatype codes (Sparkplug 3.0, section 6.4.16). */
export const DataType = {
  Int8: 1,
  Int16: 2,
  Int32: 3,
  Int64: 4,
  UInt8: 5,
  UInt16: 6,
  UInt32: 7,
  UInt64: 8,
  Float: 9,
  Double: 10,
  Boolean: 11,
  String: 12,
  DateTime: 13,
  Text: 14,
  UUID: 15,
  DataSet: 16,
  Bytes: 17,
  File: 18,
  Template: 19,
  PropertySet: 20,
  PropertySetList: 21,
  Int8Array: 22,
  Int16Array: 23,
  Int32Array: 24,
  Int64Array: 25,
  UInt8Array: 26,
  UInt16Array: 27,
  UInt32Array: 28,
  UInt64Array: 29,
  FloatArray: 30,
  DoubleArray: 31,
  BooleanArray: 32,
  StringArray: 33,
  DateTimeArray: 34,
} as const;

const NAMES = new Map<number, string>(Object.entries(DataType).map(([name, code]) => [code, name]));

export function dataTypeName(code: number): string {
  return NAMES.get(code) ?? `unknown datatype ${code}`;
}

/**
 * A scalar field only when the message carried it. protobufjs puts defaults on the prototype
 * (0 for seq, alias and timestamp), and 0 is a real value for all three.
 */
export function carried<T extends object, K extends keyof T>(message: T, key: K): T[K] | undefined {
  return Object.hasOwn(message, key) ? message[key] : undefined;
}

/** A uint64 protobuf field (timestamp, seq, alias, bdSeq) as a number; these stay far below 2^53. */
export function longToNumber(value: LongLike | null | undefined): number | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'number') return value;
  return (value.high >>> 0) * 2 ** 32 + (value.low >>> 0);
}

/** A 64-bit field as an unsigned bigint, for values that may pass 2^53. */
export function longToBigInt(value: LongLike): bigint {
  if (typeof value === 'number') return BigInt.asUintN(64, BigInt(Math.trunc(value)));
  return (BigInt(value.high >>> 0) << 32n) | BigInt(value.low >>> 0);
}
