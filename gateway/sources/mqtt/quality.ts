import { QUALITY_BAD, QUALITY_GOOD, QUALITY_UNCERTAIN } from '../../../common/quality.ts';

/**
 * Quality values found in payloads, mapped to OPC UA StatusCodes. Pure.
 *
 * - Booleans: true is Good, false is Bad.
 * - Strings (any case, surrounding spaces ignored): "good"/"ok" are Good, "uncertain" is
 *   Uncertain, "bad"/"error"/"fault" are Bad; an OPC UA StatusCode name such as
 *   "BadNoCommunication" or "Bad_NoCommunication" is that code (the names in STATUS_CODES);
 *   "0x80310000" is that code.
 * - Numbers, by the subscription's `quality_numbers`:
 *   - `opcua` (default): the number is an OPC UA StatusCode (0 is Good, 0x80000000 Bad).
 *   - `opcda`: an OPC DA / OPC Classic quality, 0-255 in the low byte (QQSSSSLL), mapped as
 *     OPC UA Part 8 Annex A.3.2.3 says: 192 is Good, 64 Uncertain, 0 Bad, the sub-status picks
 *     the specific code (24 COMM_FAILURE is Bad_NoCommunication) and the limit bits carry over.
 *     Bits above the low byte are vendor-specific and ignored.
 */

export type QualityNumbers = 'opcua' | 'opcda';

/** The OPC UA StatusCodes a quality string may name (OPC 10000-4 and -8). */
export const STATUS_CODES: Readonly<Record<string, number>> = {
  Good: QUALITY_GOOD,
  GoodLocalOverride: 0x00960000,
  Uncertain: QUALITY_UNCERTAIN,
  UncertainLastUsableValue: 0x40900000,
  UncertainSubstituteValue: 0x40910000,
  UncertainInitialValue: 0x40920000,
  UncertainSensorNotAccurate: 0x40930000,
  UncertainEngineeringUnitsExceeded: 0x40940000,
  UncertainSubNormal: 0x40950000,
  Bad: QUALITY_BAD,
  BadNoCommunication: 0x80310000,
  BadWaitingForInitialData: 0x80320000,
  BadConfigurationError: 0x80890000,
  BadNotConnected: 0x808a0000,
  BadDeviceFailure: 0x808b0000,
  BadSensorFailure: 0x808c0000,
  BadOutOfService: 0x808d0000,
};

const WORDS: Readonly<Record<string, number>> = {
  good: QUALITY_GOOD,
  ok: QUALITY_GOOD,
  uncertain: QUALITY_UNCERTAIN,
  bad: QUALITY_BAD,
  error: QUALITY_BAD,
  fault: QUALITY_BAD,
};

const BY_LOWER_NAME = new Map(Object.entries(STATUS_CODES).map(([name, code]) => [name.toLowerCase(), code]));
const HEX_CODE = /^0x[0-9a-f]{1,8}$/i;
const MAX_STATUS_CODE = 0xffffffff;

/** OPC DA main quality (bits 7-6) and sub-status (bits 5-2) to OPC UA, per Part 8 A.3.2.3. */
const DA_GOOD = 0b11;
const DA_UNCERTAIN = 0b01;
const DA_BAD = 0b00;
const DA_TO_UA: ReadonlyMap<number, number> = new Map([
  [(DA_GOOD << 4) | 0, QUALITY_GOOD],
  [(DA_GOOD << 4) | 6, 0x00960000], // LOCAL_OVERRIDE
  [(DA_UNCERTAIN << 4) | 0, QUALITY_UNCERTAIN],
  [(DA_UNCERTAIN << 4) | 1, 0x40900000], // LAST_USABLE
  [(DA_UNCERTAIN << 4) | 4, 0x40930000], // SENSOR_CAL
  [(DA_UNCERTAIN << 4) | 5, 0x40940000], // EGU_EXCEEDED
  [(DA_UNCERTAIN << 4) | 6, 0x40950000], // SUB_NORMAL
  [(DA_BAD << 4) | 0, QUALITY_BAD],
  [(DA_BAD << 4) | 1, 0x80890000], // CONFIG_ERROR
  [(DA_BAD << 4) | 2, 0x808a0000], // NOT_CONNECTED
  [(DA_BAD << 4) | 3, 0x808b0000], // DEVICE_FAILURE
  [(DA_BAD << 4) | 4, 0x808c0000], // SENSOR_FAILURE
  [(DA_BAD << 4) | 5, 0x808d0000], // LAST_KNOWN
  [(DA_BAD << 4) | 6, 0x80310000], // COMM_FAILURE
  [(DA_BAD << 4) | 7, 0x808d0000], // OUT_OF_SERVICE
  [(DA_BAD << 4) | 8, 0x80320000], // WAITING_FOR_INITIAL_DATA
]);
const DA_QUALITY_MASK = 0xff;
const DA_LIMIT_MASK = 0b11;
/** OPC UA keeps the limit bits (low, high, constant) at bits 8-9 of a StatusCode. */
const UA_LIMIT_SHIFT = 8;

/** Maps an OPC DA quality (its low byte) to an OPC UA StatusCode. */
export function fromOpcDaQuality(quality: number): number {
  const low = quality & DA_QUALITY_MASK;
  const main = low >> 6;
  const sub = (low >> 2) & 0b1111;
  const limit = low & DA_LIMIT_MASK;
  const exact = DA_TO_UA.get((main << 4) | sub);
  // An unknown sub-status keeps its main quality; DA's unused main quality 0b10 counts as Bad.
  const base = exact ?? (main === DA_GOOD ? QUALITY_GOOD : main === DA_UNCERTAIN ? QUALITY_UNCERTAIN : QUALITY_BAD);
  return (base | (limit << UA_LIMIT_SHIFT)) >>> 0;
}

/** The StatusCode a payload's quality value stands for, or why it stands for none. */
export function parseQuality(value: unknown, numbers: QualityNumbers): number | string {
  if (typeof value === 'boolean') return value ? QUALITY_GOOD : QUALITY_BAD;
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0 || value > MAX_STATUS_CODE) return `quality ${value} is not a status code (an integer 0-0xFFFFFFFF)`;
    if (numbers === 'opcda') return fromOpcDaQuality(value);
    return value;
  }
  if (typeof value === 'string') {
    const text = value.trim();
    const lower = text.toLowerCase();
    const word = WORDS[lower] ?? BY_LOWER_NAME.get(lower.replace(/_/g, ''));
    if (word !== undefined) return word;
    if (HEX_CODE.test(text)) return Number.parseInt(text.slice(2), 16);
    return `quality '${value}' is not a known quality word or OPC UA status code name`;
  }
  return `quality must be a boolean, a number or a string, got ${value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value}`;
}
