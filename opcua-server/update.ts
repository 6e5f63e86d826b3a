import { DataValue, getStatusCodeFromCode, StatusCodes, type StatusCode, type UAVariable, type Variant } from 'node-opcua';

/**
 * Setting a variable's value from a Reading, with the reading's own timestamps and StatusCode.
 *
 * setValueFromSource, node-opcua's public setter, copies the source timestamp into the server
 * timestamp and drops sub-millisecond time. We build the DataValue ourselves (source time from
 * the device, server time from the gateway's receipt, microseconds kept as picoseconds) and hand
 * it to _internal_set_dataValue, the method setValueFromSource itself ends in: it checks the
 * Variant against the DataType and tells every monitored item of the change. assertSettable()
 * checks at start-up that the installed node-opcua still has it.
 */
interface SettableVariable {
  _internal_set_dataValue(dataValue: DataValue): void;
}

const US_PER_MS = 1000;
const PICOSECONDS_PER_US = 1_000_000;

/**
 * The Date of the last millisecond asked for, shared by every DataValue stamped in it.
 *
 * Readings come in bursts with one timestamp (a poll, a publish, a batch of messages), and each
 * variable keeps its DataValue until the next change, long enough for V8 to promote it to the
 * old generation: a Date of its own per timestamp was 2 × 96 bytes of old-generation garbage per
 * update, and 192 bytes per variable of live heap. Sharing is safe because nothing mutates
 * these Dates: node-opcua only reads and encodes them, and DataValue.clone() shares them too.
 */
class SharedDate {
  #ms = Number.NaN;
  #date = new Date(0);

  at(ms: number): Date {
    if (ms !== this.#ms) {
      this.#ms = ms;
      this.#date = new Date(ms);
    }
    return this.#date;
  }
}

// One per field: source times (the device's) and server times (the gateway's) differ, and one
// cache for both would be replaced at every call.
const sourceDates = new SharedDate();
const serverDates = new SharedDate();

/** Throws at start-up, with what to do, if this node-opcua cannot take a DataValue directly. */
export function assertSettable(variable: UAVariable): void {
  if (typeof (variable as unknown as Partial<SettableVariable>)._internal_set_dataValue !== 'function') {
    throw new Error('node-opcua no longer has UAVariable._internal_set_dataValue: pin node-opcua to the version in package-lock.json');
  }
}

/** A reading's value, quality and times as a DataValue. Times are integer microseconds since the epoch. */
export function readingDataValue(variant: Variant, statusCode: StatusCode, sourceTimeUs: number, gatewayTimeUs: number): DataValue {
  // Fields set directly: the options constructor would copy the Variant and coerce every field again.
  const dataValue = new DataValue();
  dataValue.value = variant;
  dataValue.statusCode = statusCode;
  dataValue.sourceTimestamp = sourceDates.at(Math.floor(sourceTimeUs / US_PER_MS));
  dataValue.sourcePicoseconds = (sourceTimeUs % US_PER_MS) * PICOSECONDS_PER_US;
  dataValue.serverTimestamp = serverDates.at(Math.floor(gatewayTimeUs / US_PER_MS));
  dataValue.serverPicoseconds = (gatewayTimeUs % US_PER_MS) * PICOSECONDS_PER_US;
  return dataValue;
}

export function setDataValue(variable: UAVariable, dataValue: DataValue): void {
  (variable as unknown as SettableVariable)._internal_set_dataValue(dataValue);
}

/** Distinct quality codes kept; drivers use a handful, so this only guards against a runaway one. */
const STATUS_CACHE_MAX = 1024;
const statusCache = new Map<number, StatusCode>();

/** The StatusCode of a Reading's quality number (cached: a gateway sees few distinct codes). */
export function statusCodeOf(quality: number): StatusCode {
  if (quality === 0) return StatusCodes.Good;
  let code = statusCache.get(quality);
  if (!code) {
    code = getStatusCodeFromCode(quality >>> 0);
    if (statusCache.size < STATUS_CACHE_MAX) statusCache.set(quality, code);
  }
  return code;
}
