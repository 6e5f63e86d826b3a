import type { SourceReading } from '../../../common/reading.ts';
import type { Rejection } from '../types.ts';
import { decodeValue, timestampUs, Unrepresentable, valueTypeOf, type VariantLike } from './decode.ts';
import type { NodeTable } from './nodes.ts';

/** The parts of a node-opcua DataValue a reading is made of. */
export interface DataValueLike {
  value: VariantLike;
  statusCode: { value: number };
  sourceTimestamp: Date | null;
  sourcePicoseconds: number;
  serverTimestamp: Date | null;
  serverPicoseconds: number;
}

/** A rejected value's payload is cut to this many characters; the pipeline cuts again at its own limit. */
const MAX_PAYLOAD_CHARS = 1_024;

/**
 * One node's DataValue as a reading: value and type from decode.ts, the full StatusCode as
 * quality (Bad and Uncertain values are delivered, with a null value when the server sent
 * none), the source timestamp (else the server's, else receipt time). Pure. Returns the
 * reading itself, or a Rejection (it has an `origin`) for a value with no faithful form:
 * no wrapper object per notification.
 */
export function toReading(source: string, table: NodeTable, index: number, dv: DataValueLike, receivedUs: number): SourceReading | Rejection {
  const nodeId = table.nodeIds[index] ?? '';
  const value = decodeValue(dv.value);
  if (value instanceof Unrepresentable) {
    return { origin: nodeId, kind: 'unsupported_value', reason: value.reason, payload: payloadText(dv.value.value) };
  }
  const browsePath = table.browsePaths[index];
  const valueType = valueTypeOf(dv.value);
  return {
    source,
    tag: table.tags[index] ?? nodeId,
    value,
    quality: dv.statusCode.value >>> 0,
    sourceTimeUs: timestampUs(dv.sourceTimestamp, dv.sourcePicoseconds) ?? timestampUs(dv.serverTimestamp, dv.serverPicoseconds) ?? receivedUs,
    gatewayTimeUs: receivedUs,
    details: browsePath === undefined ? { protocol: 'opcua', nodeId, valueType } : { protocol: 'opcua', nodeId, browsePath, valueType },
  };
}

/** A toReading result that is a rejection. */
export function isRejection(r: SourceReading | Rejection): r is Rejection {
  return 'origin' in r;
}

function payloadText(value: unknown): string {
  try {
    return String(JSON.stringify(value) ?? String(value)).slice(0, MAX_PAYLOAD_CHARS);
  } catch {
    return String(value).slice(0, MAX_PAYLOAD_CHARS);
  }
}
