import type { ReadingValue } from '../../../common/reading.ts';
import type { Logger } from '../../../common/logger.ts';
import { SourceWriteError, type Pausable, type Source, type SourceContext, type SourceStatus } from '../types.ts';
import type { ModbusConfig } from './config.ts';
import { ModbusConnection, type WriteOp } from './connection.ts';
import { DevicePoller, type DeviceStatus } from './device.ts';
import { compileDevice, tagInfo, type CompiledDevice, type DeviceTag } from './tags.ts';
import { encodeCoil, encodeValue } from './value.ts';

/** The queue line writes would use if they were not ahead of every line. */
const WRITE_KEY = '\u0000write';

/** The Modbus part of GET /status (`details`): per connection and per device. */
export interface ModbusDetails {
  connects: number;
  disconnects: number;
  writes: number;
  writesFailed: number;
  /** True while the gateway's block policy has polling paused. */
  paused: boolean;
  /** One entry per configured device (bounded by the config). */
  devices: DeviceStatus[];
}

/** status(): the same counters at the top level (for code holding the driver) and in details (for /status). */
export interface ModbusSourceStatus extends SourceStatus, Omit<ModbusDetails, 'paused'> {
  details: ModbusDetails & Record<string, unknown>;
}

interface TagEntry {
  tag: DeviceTag;
  unitId: number;
  timeoutMs: number;
}

/**
 * Polls the devices (unit ids) on one Modbus connection, each on its own interval, and writes
 * to tags declared writable. See README.md for the failure behaviour.
 */
export class ModbusSource implements Source, Pausable {
  readonly #name: string;
  readonly #config: ModbusConfig;
  readonly #devices: { config: ModbusConfig['devices'][number]; compiled: CompiledDevice }[];
  readonly #tags = new Map<string, TagEntry>();
  #connection: ModbusConnection | undefined;
  #pollers: DevicePoller[] = [];
  #log: Logger | undefined;
  #stopping: Promise<void> | undefined;
  #writes = 0;
  #writesFailed = 0;
  #paused = false;

  constructor(name: string, config: ModbusConfig) {
    this.#name = name;
    this.#config = config;
    const limits = { maxRegisters: config.max_registers_per_read, maxBits: config.max_bits_per_read, maxGap: config.max_read_gap };
    this.#devices = config.devices.map((device) => ({ config: device, compiled: compileDevice(device, limits) }));
    for (const { config: device, compiled } of this.#devices) {
      for (const tag of compiled.tags) this.#tags.set(tag.path, { tag, unitId: device.unit_id, timeoutMs: device.timeout_ms ?? config.timeout_ms });
    }
  }

  async start(ctx: SourceContext): Promise<void> {
    if (this.#connection || this.#stopping) return;
    const c = this.#config;
    const log = ctx.log.child({ transport: c.transport });
    this.#log = log;
    ctx.describe(this.#devices.flatMap((d) => d.compiled.tags.map(tagInfo)));
    const connection = new ModbusConnection(c, log);
    this.#connection = connection;
    connection.start();
    this.#pollers = this.#devices.map(
      ({ config: device, compiled }) =>
        new DevicePoller({
          source: this.#name,
          device,
          compiled,
          timeoutMs: device.timeout_ms ?? c.timeout_ms,
          backoff: { initialMs: c.unit_backoff_initial_ms, maxMs: c.unit_backoff_max_ms },
          execute: (key, op, timeoutMs) => connection.execute(key, op, timeoutMs),
          connectionState: () => connection.state,
          emit: (reading) => ctx.emit(reading),
          log,
        }),
    );
    if (this.#paused) for (const poller of this.#pollers) poller.pause();
    connection.onOpen(() => {
      for (const poller of this.#pollers) poller.connectionOpened();
    });
    for (const poller of this.#pollers) poller.start();
    log.info({ devices: this.#devices.length, tags: this.#tags.size, requestsPerCycle: this.#devices.reduce((n, d) => n + d.compiled.requests.length, 0) }, 'Modbus source started.');
  }

  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      const polls = this.#pollers.map((p) => p.stop());
      await this.#connection?.stop();
      await Promise.all(polls);
      if (this.#connection) this.#log?.info('Modbus source stopped.');
    })();
    return this.#stopping;
  }

  /**
   * Stops polling until resume(): every device skips its ticks (counted in pollsPaused) and
   * emits nothing, not even Bad readings. The connection stays open and writes still go
   * through. Honest for Modbus: a register holds only its current value, so nothing queues up
   * to be lost; the cost is the samples not taken while paused.
   */
  pause(): boolean {
    if (this.#paused) return true;
    this.#paused = true;
    for (const poller of this.#pollers) poller.pause();
    this.#log?.info({ devices: this.#pollers.length }, 'Pausing Modbus polling while the gateway queue is blocked.');
    return true;
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    for (const poller of this.#pollers) poller.resume();
    this.#log?.info('Resuming Modbus polling.');
  }

  status(): ModbusSourceStatus {
    const connection = this.#connection?.status() ?? { state: 'stopped' as const, connects: 0, disconnects: 0 };
    const counters = {
      connects: connection.connects,
      disconnects: connection.disconnects,
      writes: this.#writes,
      writesFailed: this.#writesFailed,
      devices: this.#pollers.map((p) => p.status()),
    };
    return {
      ...connection,
      ...(this.#stopping ? { state: 'stopped' as const } : {}),
      ...counters,
      details: { ...counters, paused: this.#paused },
    };
  }

  /** Writes through the same connection as the polls, ahead of them. Resolves once the device confirmed. */
  async write(tag: string, value: ReadingValue): Promise<void> {
    const entry = this.#tags.get(tag);
    if (!entry) throw new SourceWriteError(`unknown tag ${tag}`, 'unknown_tag');
    const c = entry.tag.config;
    if (!c.writable) throw new SourceWriteError(`tag ${tag} is not writable (set writable: true in its config)`, 'not_writable');
    let op: WriteOp;
    if (c.register_type === 'coil') {
      const coil = encodeCoil(value);
      if ('error' in coil) throw new SourceWriteError(`tag ${tag}: ${coil.error}`, 'bad_value');
      op = { kind: 'write_coil', unitId: entry.unitId, address: c.address, state: coil.state };
    } else {
      const encoded = encodeValue(value, c);
      if ('error' in encoded) throw new SourceWriteError(`tag ${tag}: ${encoded.error}`, 'bad_value');
      op = { kind: 'write_registers', unitId: entry.unitId, address: c.address, words: encoded.words };
    }
    const connection = this.#connection;
    if (!connection || this.#stopping) throw new SourceWriteError(`tag ${tag}: the source is not running`, 'device');
    const outcome = await connection.execute(WRITE_KEY, op, entry.timeoutMs, true);
    if (!outcome.ok) {
      this.#writesFailed++;
      const f = outcome.failure;
      const detail = f.kind === 'exception' ? `exception ${f.code}: ${f.message}` : f.message;
      this.#log?.warn({ tag, kind: f.kind, code: f.code, error: f.message }, 'Modbus write failed.');
      throw new SourceWriteError(`tag ${tag}: the device did not take the write (${detail})`, 'device', { cause: f });
    }
    this.#writes++;
  }
}
