import { backoffDelayMs, type BackoffPolicy } from '../../../common/backoff.ts';
import type { Logger } from '../../../common/logger.ts';
import { QUALITY_BAD_NO_COMMUNICATION } from '../../../common/quality.ts';
import { nowUs, type SourceReading } from '../../../common/reading.ts';
import type { ConnectionState } from '../types.ts';
import type { ModbusDeviceConfig } from './config.ts';
import type { Outcome, ReadOp } from './connection.ts';
import { qualityOf, unitUnreachable, type RequestFailure } from './failure.ts';
import { failedReadings, readingsFromResponse, type CompiledDevice, type DeviceTag } from './tags.ts';

/**
 * polling: answering. unreachable: did not answer; tried again after a backoff.
 * disconnected: the connection is down. waiting: not polled yet (connection opening).
 */
export type DeviceState = 'waiting' | 'polling' | 'unreachable' | 'disconnected' | 'stopped';

export interface DeviceCounts {
  /** Polls started (a poll reads every planned request, or stops at the first timeout). */
  polls: number;
  /** Polls not started because the previous one was still running. */
  pollsSkipped: number;
  /** Polls not started because the gateway asked the source to pause (queue policy block). */
  pollsPaused: number;
  requests: number;
  timeouts: number;
  /** Modbus exception answers. */
  exceptions: number;
  /** Malformed answers (CRC, length). */
  protocolErrors: number;
  /** Readings emitted with a Bad quality. */
  badReadings: number;
}

export interface DeviceStatus extends DeviceCounts {
  name: string;
  unitId: number;
  state: DeviceState;
  lastError?: string;
  lastErrorAt?: string;
  /** When an unreachable device is tried next. */
  retryAt?: string;
}

export interface PollerDeps {
  source: string;
  device: ModbusDeviceConfig;
  compiled: CompiledDevice;
  timeoutMs: number;
  backoff: BackoffPolicy;
  execute(key: string, op: ReadOp, timeoutMs: number): Promise<Outcome>;
  connectionState(): ConnectionState;
  emit(reading: SourceReading): void;
  log: Logger;
  random?: () => number;
}

/**
 * Polls one device every poll_interval_ms. Never two polls of the device at once: a tick that
 * finds the previous poll running is skipped and counted. A device that does not answer
 * (timeout, or a gateway's exception 0x0A/0x0B) stops its poll at once, gives Bad_NoCommunication
 * to all its tags and is tried again only after a growing backoff, so on a shared line it
 * costs the live devices at most one timeout per backoff period.
 */
export class DevicePoller {
  readonly #d: PollerDeps;
  readonly #key: string;
  readonly #counts: DeviceCounts = { polls: 0, pollsSkipped: 0, pollsPaused: 0, requests: 0, timeouts: 0, exceptions: 0, protocolErrors: 0, badReadings: 0 };
  readonly #loggedExceptions = new Set<string>();
  #state: DeviceState = 'waiting';
  #timer: NodeJS.Timeout | undefined;
  #current: Promise<void> | undefined;
  #failures = 0;
  #retryAt = 0;
  #paused = false;
  #lastError: string | undefined;
  #lastErrorAt: string | undefined;

  constructor(deps: PollerDeps) {
    this.#d = deps;
    this.#key = `${deps.device.name}`;
  }

  start(): void {
    if (this.#timer || this.#state === 'stopped') return;
    this.#timer = setInterval(() => this.#tick(), this.#d.device.poll_interval_ms);
    this.#tick();
  }

  /** The connection opened: a device waiting for it polls now rather than at its next tick. */
  connectionOpened(): void {
    if (this.#timer && (this.#state === 'waiting' || this.#state === 'disconnected')) this.#tick();
  }

  /**
   * Skips every tick from now on (each counted in pollsPaused) until resume(). A poll already
   * running finishes and its readings go out. Nothing is emitted for the pause itself: the
   * device is fine, the gateway just takes fewer samples.
   */
  pause(): void {
    this.#paused = true;
  }

  /** Polls again: at once (the data is overdue), then on the usual ticks. */
  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    if (this.#timer) this.#tick();
  }

  /** Stops ticking at once; resolves when the poll in progress (if any) has ended. */
  async stop(): Promise<void> {
    this.#state = 'stopped';
    clearInterval(this.#timer);
    await this.#current;
  }

  status(): DeviceStatus {
    return {
      name: this.#d.device.name,
      unitId: this.#d.device.unit_id,
      state: this.#state,
      ...this.#counts,
      ...(this.#lastError !== undefined ? { lastError: this.#lastError, lastErrorAt: this.#lastErrorAt } : {}),
      ...(this.#state === 'unreachable' ? { retryAt: new Date(this.#retryAt).toISOString() } : {}),
    };
  }

  #tick(): void {
    if (this.#state === 'stopped') return;
    if (this.#paused) {
      this.#counts.pollsPaused++;
      return;
    }
    if (this.#current) {
      this.#counts.pollsSkipped++;
      return;
    }
    const connection = this.#d.connectionState();
    if (connection !== 'connected') {
      // While the first connection is still opening there is nothing to report yet.
      if (!(connection === 'connecting' && this.#state === 'waiting')) this.#markDisconnected();
      return;
    }
    if (this.#state === 'unreachable' && Date.now() < this.#retryAt) return;
    this.#current = this.#poll().finally(() => {
      this.#current = undefined;
    });
  }

  async #poll(): Promise<void> {
    const { device, compiled } = this.#d;
    const requests = compiled.requests;
    this.#counts.polls++;
    for (let i = 0; i < requests.length; i++) {
      const request = requests[i]!;
      const outcome = await this.#d.execute(this.#key, { kind: 'read', unitId: device.unit_id, ...span(request) }, this.#d.timeoutMs);
      if (this.#state === 'stopped') return;
      this.#counts.requests++;
      const ctx = { source: this.#d.source, unitId: device.unit_id, timeUs: nowUs() };
      if (outcome.ok) {
        this.#loggedExceptions.delete(`${request.registerType}:${request.address}`);
        for (const reading of readingsFromResponse(request, outcome.data, ctx)) this.#emit(reading);
        continue;
      }
      const failure = outcome.failure;
      this.#record(failure);
      if (failure.kind === 'disconnected' || unitUnreachable(failure)) {
        const rest = requests.slice(i).flatMap((r) => r.tags);
        this.#emitAll(failedReadings(rest, qualityOf(failure), ctx));
        if (failure.kind === 'disconnected') this.#state = 'disconnected';
        else this.#backOff(failure);
        return;
      }
      this.#logException(request, failure);
      this.#emitAll(failedReadings(request.tags, qualityOf(failure), ctx));
    }
    if (this.#state === 'unreachable') this.#d.log.info({ device: device.name, unitId: device.unit_id, failures: this.#failures }, 'Modbus device answers again.');
    this.#state = 'polling';
    this.#failures = 0;
  }

  #backOff(failure: RequestFailure): void {
    const { device } = this.#d;
    this.#failures++;
    const delay = backoffDelayMs(this.#d.backoff, this.#failures, (this.#d.random ?? Math.random)());
    this.#retryAt = Date.now() + delay;
    if (this.#state !== 'unreachable') {
      this.#d.log.warn({ device: device.name, unitId: device.unit_id, error: failure.message, retryInMs: delay }, 'Modbus device does not answer; backing off.');
    }
    this.#state = 'unreachable';
  }

  #markDisconnected(): void {
    if (this.#state === 'disconnected') return;
    this.#state = 'disconnected';
    this.#failures = 0;
    const ctx = { source: this.#d.source, unitId: this.#d.device.unit_id, timeUs: nowUs() };
    this.#emitAll(failedReadings(this.#d.compiled.tags, QUALITY_BAD_NO_COMMUNICATION, ctx));
  }

  #record(failure: RequestFailure): void {
    if (failure.kind === 'timeout') this.#counts.timeouts++;
    else if (failure.kind === 'exception') this.#counts.exceptions++;
    else if (failure.kind === 'protocol') this.#counts.protocolErrors++;
    this.#lastError = failure.kind === 'exception' ? `exception ${failure.code}: ${failure.message}` : failure.message;
    this.#lastErrorAt = new Date().toISOString();
  }

  /** Logs an exception or a malformed answer once per request until that request succeeds again. */
  #logException(request: { registerType: string; address: number; count: number }, failure: RequestFailure): void {
    const key = `${request.registerType}:${request.address}`;
    if (this.#loggedExceptions.has(key)) return;
    this.#loggedExceptions.add(key);
    const { device } = this.#d;
    this.#d.log.warn(
      { device: device.name, unitId: device.unit_id, kind: failure.kind, registerType: request.registerType, address: request.address, count: request.count, code: failure.code, error: failure.message },
      'Modbus read failed; its tags are Bad until it succeeds.',
    );
  }

  #emitAll(readings: SourceReading[]): void {
    for (const reading of readings) this.#emit(reading);
  }

  #emit(reading: SourceReading): void {
    if (reading.quality !== 0) this.#counts.badReadings++;
    this.#d.emit(reading);
  }
}

function span(request: { registerType: DeviceTag['registerType']; address: number; count: number }): Omit<ReadOp, 'kind' | 'unitId'> {
  return { registerType: request.registerType, address: request.address, count: request.count };
}
