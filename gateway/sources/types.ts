import type { z } from 'zod';
import type { Logger } from '../../common/logger.ts';
import type { Protocol, SourceReading } from '../../common/reading.ts';

export type ConnectionState = 'connecting' | 'connected' | 'disconnected' | 'stopped';

export interface SourceStatus {
  state: ConnectionState;
  lastError?: string;
  lastErrorAt?: string;
}

export interface SourceContext {
  /** Hands one reading to the pipeline. Never throws; cheap enough to call per message. */
  emit(reading: SourceReading): void;
  /**
   * Reports a payload that could not become a reading. The pipeline counts it per source and
   * keeps it with its reason; the source keeps running.
   */
  reject(rejection: Rejection): void;
  log: Logger;
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
}

/** One plugin, one spec: its protocol key in config, its schema, and its factory. */
export interface SourceSpec<C> {
  protocol: Protocol;
  configSchema: z.ZodType<C>;
  create(name: string, config: C): Source;
}
