import type { z } from 'zod';
import type { Logger } from '../../common/logger.ts';
import type { Protocol, ReadingValue, SourceReading } from '../../common/reading.ts';

export type ConnectionState = 'connecting' | 'connected' | 'disconnected' | 'stopped';

export interface SourceStatus {
  state: ConnectionState;
  lastError?: string;
  lastErrorAt?: string;
  /**
   * What this driver alone knows, shown as-is under the source in GET /status (`details`):
   * counters per device, per topic or per subscription, session facts, `paused`. It must be
   * JSON-safe (numbers, strings, booleans, null, arrays and plain objects; no bigint, Date,
   * Map or class instance) and cheap, as /status is polled: build it from counters kept as
   * data arrives, never by asking the device. Keep it bounded: cap every list that grows
   * with the data (topics, nodes) and say what was left out (e.g. `{ shown, omitted }`).
   * Absent when the driver has nothing to add.
   */
  details?: Record<string, unknown>;
}

export interface SourceContext {
  /** Hands one reading to the pipeline. Never throws; cheap enough to call per message. */
  emit(reading: SourceReading): void;
  /**
   * Reports a payload that could not become a reading. The pipeline counts it per source and
   * keeps it with its reason; the source keeps running.
   */
  reject(rejection: Rejection): void;
  /**
   * Declares the tags this source reports, with what it knows of each (type, unit, range,
   * writability). Call once the tags are known (from config at start, or after discovery);
   * a later call replaces the whole set. Tags that only appear with readings (MQTT
   * wildcards) need not be declared. The aggregated OPC UA server builds its address space
   * from this, and report-by-exception takes EURange from it.
   */
  describe(tags: TagInfo[]): void;
  log: Logger;
}

/** OPC UA builtin type names a tag can carry (the aggregated server's DataType). */
export type TagDataType =
  | 'Boolean'
  | 'SByte'
  | 'Byte'
  | 'Int16'
  | 'UInt16'
  | 'Int32'
  | 'UInt32'
  | 'Int64'
  | 'UInt64'
  | 'Float'
  | 'Double'
  | 'String'
  | 'DateTime';

/** What a source knows about one tag before (or besides) its readings. */
export interface TagInfo {
  /** The tag path, exactly as in SourceReading.tag; '/' separates folders. */
  tag: string;
  dataType?: TagDataType;
  /** The value is an array of dataType (delivered as JSON text in the reading). */
  isArray?: boolean;
  /** Engineering unit, e.g. "degC", "kW". */
  unit?: string;
  /** Engineering-unit range, e.g. from an OPC UA EURange property or Modbus tag config. */
  euRange?: { low: number; high: number };
  description?: string;
  /** The source accepts writes to this tag through write(); off unless configured. */
  writable?: boolean;
}

/** A write the source refused or could not carry out. */
export class SourceWriteError extends Error {
  /** not_writable: the tag is read-only; bad_value: the value does not fit the tag; device: the device refused or did not answer. */
  readonly reason: 'not_writable' | 'unknown_tag' | 'bad_value' | 'device';

  constructor(message: string, reason: SourceWriteError['reason'], options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SourceWriteError';
    this.reason = reason;
  }
}

export interface Rejection {
  /** Where it came from: an MQTT topic, a node id, a register address. */
  origin: string;
  reason: string;
  /**
   * A fixed, short label for the kind of failure (invalid_json, value_not_found, ...), used
   * as a metric label; reason carries the detail. Defaults to 'invalid_payload'.
   */
  kind?: string;
  /** The payload as received, as text (base64 for binary). */
  payload: string;
}

/** A source that runs all the time. start resolves once it is running; stop is safe to call twice. */
export interface Source {
  start(ctx: SourceContext): Promise<void>;
  stop(): Promise<void>;
  status(): SourceStatus;
  /**
   * Writes a value through to the device, for tags declared writable. Resolves once the
   * device confirmed the write; rejects with SourceWriteError. Absent on read-only drivers.
   */
  write?(tag: string, value: ReadingValue): Promise<void>;
}

/**
 * Optional flow control a driver may offer besides Source. The gateway calls pause() when its
 * queue policy `block` asks the sources to hold back (memory queue at 80 %) and resume() when
 * it lets go (50 %); see docs/gateway.md, "What block means for each protocol". A paused
 * driver stops taking data in a way its protocol makes up for later (a poll not taken, a
 * broker or server queue holding messages) and says so in status().details.paused.
 * pause() returns false when the driver cannot pause without losing data silently (it logs
 * why and keeps sending; what the full queue cannot take is then dropped and counted);
 * true, or nothing, when it paused. Both are called again for a driver already in that
 * state, and must then do nothing.
 */
export interface Pausable {
  pause(): boolean | void;
  resume(): void;
}

/** One plugin, one spec: its protocol key in config, its schema, and its factory. */
export interface SourceSpec<C> {
  protocol: Protocol;
  configSchema: z.ZodType<C>;
  create(name: string, config: C): Source;
}
