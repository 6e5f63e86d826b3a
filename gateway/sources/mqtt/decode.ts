import type { ReadingValue } from '../../../common/reading.ts';

/**
 * MQTT payload decoding. Pure: no I/O, no clock, no logger. Today payloads are JSON; other
 * formats (Sparkplug B, plain text) will be further decoders chosen by a subscription's format.
 */

export interface DecodeSpec {
  value_path: string;
  timestamp_path?: string | undefined;
}

export interface Decoded {
  value: ReadingValue;
  /** Present when the payload carried a timestamp. */
  sourceTimeUs?: number;
}

/** A fixed label per kind of failure, fit for a metric label; reason says the detail. */
export type DecodeFailureKind = 'empty_payload' | 'invalid_json' | 'value_not_found' | 'timestamp_not_found' | 'invalid_timestamp';

export interface DecodeFailure {
  kind: DecodeFailureKind;
  reason: string;
}

/** Epoch milliseconds past this are not a plausible timestamp (the year 275760, Date's limit). */
const MAX_EPOCH_MS = 8.64e15;
const US_PER_MS = 1000;
const FRACTION_DIGITS_US = 6;
/** ISO 8601 date-time with a time zone: 2024-05-01T12:00:00.123456Z or ...+02:00. */
const ISO_DATE_TIME = /^(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})$/i;

export function decodeJsonPayload(payload: Buffer, spec: DecodeSpec): Decoded | DecodeFailure {
  if (payload.length === 0) return { kind: 'empty_payload', reason: 'empty payload' };
  let doc: unknown;
  try {
    doc = JSON.parse(payload.toString('utf8'));
  } catch (err) {
    return { kind: 'invalid_json', reason: `invalid JSON: ${(err as Error).message}` };
  }
  const found = lookup(doc, spec.value_path);
  if (!found.found) return { kind: 'value_not_found', reason: `value path '${spec.value_path}' not found` };
  const value = toReadingValue(found.value);
  if (spec.timestamp_path === undefined) return { value };
  const ts = lookup(doc, spec.timestamp_path);
  if (!ts.found) return { kind: 'timestamp_not_found', reason: `timestamp path '${spec.timestamp_path}' not found` };
  const sourceTimeUs = parseTimestampUs(ts.value);
  if (typeof sourceTimeUs === 'string') return { kind: 'invalid_timestamp', reason: sourceTimeUs };
  return { value, sourceTimeUs };
}

/** Follows a dot path; a numeric segment indexes an array. "" is the document itself. */
export function lookup(doc: unknown, path: string): { found: true; value: unknown } | { found: false } {
  if (path === '') return { found: true, value: doc };
  let node: unknown = doc;
  for (const segment of path.split('.')) {
    if (Array.isArray(node)) {
      const index = /^(0|[1-9][0-9]*)$/.test(segment) ? Number(segment) : -1;
      if (index < 0 || index >= node.length) return { found: false };
      node = node[index];
    } else if (node !== null && typeof node === 'object' && Object.hasOwn(node, segment)) {
      node = (node as Record<string, unknown>)[segment];
    } else {
      return { found: false };
    }
  }
  return { found: true, value: node };
}

/** Scalars stay as they are; arrays and objects become their JSON text. */
export function toReadingValue(value: unknown): ReadingValue {
  if (value === null || typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean') return value;
  return JSON.stringify(value);
}

/** Epoch milliseconds or an ISO 8601 string to epoch microseconds, or the reason it is not one. */
export function parseTimestampUs(value: unknown): number | string {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0 || value > MAX_EPOCH_MS) return `timestamp ${value} is not epoch milliseconds`;
    return Math.round(value * US_PER_MS);
  }
  if (typeof value === 'string') {
    const m = ISO_DATE_TIME.exec(value);
    const zone = (m?.[3] ?? '').toUpperCase().replace(/^([+-]\d{2})(\d{2})$/, '$1:$2');
    const ms = m ? Date.parse(`${(m[1] ?? '').replace(' ', 'T')}${zone}`) : Number.NaN;
    if (!m || Number.isNaN(ms)) return `timestamp '${value}' is not an ISO 8601 date-time with a time zone`;
    const fraction = (m[2] ?? '').slice(0, FRACTION_DIGITS_US).padEnd(FRACTION_DIGITS_US, '0');
    return ms * US_PER_MS + Number(fraction);
  }
  return `timestamp must be an ISO 8601 string or epoch milliseconds, got ${value === null ? 'null' : typeof value}`;
}

export function isDecodeFailure(result: Decoded | DecodeFailure): result is DecodeFailure {
  return 'reason' in result;
}
