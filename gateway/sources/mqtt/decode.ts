import type { ReadingValue } from '../../../common/reading.ts';
import { parseQuality, type QualityNumbers } from './quality.ts';

/**
 * JSON payload decoding. Pure: no I/O, no clock, no logger. plain.ts and sparkplug/ hold the
 * other formats a subscription can choose.
 */

/** Where one reading's value, timestamp and quality sit in a JSON document. */
export interface DecodeSpec {
  value_path: string;
  timestamp_path?: string | undefined;
  quality_path?: string | undefined;
  /** How a numeric quality reads; see quality.ts. Default opcua. */
  quality_numbers?: QualityNumbers | undefined;
}

export interface Decoded {
  value: ReadingValue;
  /** Present when the payload carried a timestamp. */
  sourceTimeUs?: number;
  /** Present when the payload carried a quality: an OPC UA StatusCode. */
  quality?: number;
}

/** A fixed label per kind of failure, fit for a metric label; reason says the detail. */
export type DecodeFailureKind =
  | 'empty_payload'
  | 'invalid_json'
  | 'value_not_found'
  | 'timestamp_not_found'
  | 'invalid_timestamp'
  | 'quality_not_found'
  | 'invalid_quality'
  | 'invalid_utf8'
  | 'invalid_number'
  | 'invalid_boolean';

export interface DecodeFailure {
  kind: DecodeFailureKind;
  reason: string;
}

/** Epoch milliseconds past this are not a plausible timestamp (the year 275760, Date's limit). */
const MAX_EPOCH_MS = 8.64e15;
const US_PER_MS = 1000;
const FRACTION_DIGITS_US = 6;
/** The shortest ISO 8601 date-time with a zone: 2024-05-01T12:00:00Z. */
const MIN_ISO_LENGTH = 20;
const [ZERO, DASH, COLON, DOT, PLUS, SPACE, UPPER_T, LOWER_T, UPPER_Z, LOWER_Z] = [...'0-:.+ TtZz'].map((c) => c.charCodeAt(0)) as [
  number, number, number, number, number, number, number, number, number, number,
];
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const MS_PER_MINUTE = 60_000;
const MINUTES_PER_HOUR = 60;
/** Date.UTC reads years 0-99 as 1900-1999. */
const TWO_DIGIT_YEARS = 100;
/** Dot paths come from config, so there are few: each is split once. */
const PATH_SEGMENTS = new Map<string, string[]>();
const ARRAY_INDEX = /^(0|[1-9][0-9]*)$/;

/** Decodes a payload holding one reading. */
export function decodeJsonPayload(payload: Buffer, spec: DecodeSpec): Decoded | DecodeFailure {
  const doc = parseJsonPayload(payload);
  if (isJsonFailure(doc)) return doc;
  return extractReading(doc.doc, spec);
}

/** Parses the payload once, for one or several readings. */
export function parseJsonPayload(payload: Buffer): { doc: unknown } | DecodeFailure {
  if (payload.length === 0) return { kind: 'empty_payload', reason: 'empty payload' };
  try {
    return { doc: JSON.parse(payload.toString('utf8')) };
  } catch (err) {
    return { kind: 'invalid_json', reason: `invalid JSON: ${(err as Error).message}` };
  }
}

export function isJsonFailure(result: { doc: unknown } | DecodeFailure): result is DecodeFailure {
  return 'reason' in result;
}

/** One reading from a parsed document: its value, and its timestamp and quality when asked for. */
export function extractReading(doc: unknown, spec: DecodeSpec): Decoded | DecodeFailure {
  const found = lookup(doc, spec.value_path);
  if (!found.found) return { kind: 'value_not_found', reason: `value path '${spec.value_path}' not found` };
  const decoded: Decoded = { value: toReadingValue(found.value) };
  if (spec.timestamp_path !== undefined) {
    const ts = lookup(doc, spec.timestamp_path);
    if (!ts.found) return { kind: 'timestamp_not_found', reason: `timestamp path '${spec.timestamp_path}' not found` };
    const sourceTimeUs = parseTimestampUs(ts.value);
    if (typeof sourceTimeUs === 'string') return { kind: 'invalid_timestamp', reason: sourceTimeUs };
    decoded.sourceTimeUs = sourceTimeUs;
  }
  if (spec.quality_path !== undefined) {
    const q = lookup(doc, spec.quality_path);
    if (!q.found) return { kind: 'quality_not_found', reason: `quality path '${spec.quality_path}' not found` };
    const quality = parseQuality(q.value, spec.quality_numbers ?? 'opcua');
    if (typeof quality === 'string') return { kind: 'invalid_quality', reason: quality };
    decoded.quality = quality;
  }
  return decoded;
}

/** Follows a dot path; a numeric segment indexes an array. "" is the document itself. */
export function lookup(doc: unknown, path: string): { found: true; value: unknown } | { found: false } {
  if (path === '') return { found: true, value: doc };
  let segments = PATH_SEGMENTS.get(path);
  if (!segments) {
    segments = path.split('.');
    PATH_SEGMENTS.set(path, segments);
  }
  let node: unknown = doc;
  for (const segment of segments) {
    if (Array.isArray(node)) {
      const index = ARRAY_INDEX.test(segment) ? Number(segment) : -1;
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
    const us = parseIsoUs(value);
    return us === undefined ? `timestamp '${value}' is not an ISO 8601 date-time with a time zone` : us;
  }
  return `timestamp must be an ISO 8601 string or epoch milliseconds, got ${value === null ? 'null' : typeof value}`;
}

/**
 * An ISO 8601 date-time with a zone to epoch microseconds (digits past the sixth are cut):
 * YYYY-MM-DD, then T, t or a space, hh:mm:ss, an optional fraction, then Z or +hh:mm / +hhmm.
 * Read character by character: it runs once per message.
 */
function parseIsoUs(text: string): number | undefined {
  if (text.length < MIN_ISO_LENGTH) return undefined;
  const year = digitsAt(text, 0, 4);
  const month = digitsAt(text, 5, 2);
  const day = digitsAt(text, 8, 2);
  const hour = digitsAt(text, 11, 2);
  const minute = digitsAt(text, 14, 2);
  const second = digitsAt(text, 17, 2);
  const separator = text.charCodeAt(10);
  if (year < 0 || month < 0 || day < 0 || hour < 0 || minute < 0 || second < 0) return undefined;
  if (text.charCodeAt(4) !== DASH || text.charCodeAt(7) !== DASH || text.charCodeAt(13) !== COLON || text.charCodeAt(16) !== COLON) return undefined;
  if (separator !== UPPER_T && separator !== LOWER_T && separator !== SPACE) return undefined;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1];
  if (days === undefined || day < 1 || day > days || hour > 23 || minute > 59 || second > 59) return undefined;

  let i = 19;
  let us = 0;
  if (text.charCodeAt(i) === DOT) {
    const first = ++i;
    for (let d = text.charCodeAt(i) - ZERO; d >= 0 && d <= 9; d = text.charCodeAt(++i) - ZERO) {
      if (i - first < FRACTION_DIGITS_US) us = us * 10 + d;
    }
    if (i === first) return undefined;
    for (let n = i - first; n < FRACTION_DIGITS_US; n++) us *= 10;
  }
  let offsetMs = 0;
  const zone = text.charCodeAt(i);
  if (zone === UPPER_Z || zone === LOWER_Z) {
    if (i + 1 !== text.length) return undefined;
  } else if (zone === PLUS || zone === DASH) {
    const withColon = text.charCodeAt(i + 3) === COLON;
    const zoneHours = digitsAt(text, i + 1, 2);
    const zoneMinutes = digitsAt(text, withColon ? i + 4 : i + 3, 2);
    if ((withColon ? i + 6 : i + 5) !== text.length || zoneHours < 0 || zoneMinutes < 0 || zoneHours > 23 || zoneMinutes > 59) return undefined;
    offsetMs = (zoneHours * MINUTES_PER_HOUR + zoneMinutes) * MS_PER_MINUTE * (zone === PLUS ? -1 : 1);
  } else {
    return undefined;
  }
  let ms = Date.UTC(year, month - 1, day, hour, minute, second);
  if (year < TWO_DIGIT_YEARS) ms = new Date(ms).setUTCFullYear(year);
  return (ms + offsetMs) * US_PER_MS + us;
}

/** The number written by n decimal digits at start, or -1. */
function digitsAt(text: string, start: number, n: number): number {
  let value = 0;
  for (let i = start; i < start + n; i++) {
    const d = text.charCodeAt(i) - ZERO;
    if (!(d >= 0 && d <= 9)) return -1;
    value = value * 10 + d;
  }
  return value;
}

export function isDecodeFailure(result: Decoded | DecodeFailure): result is DecodeFailure {
  return 'reason' in result;
}
