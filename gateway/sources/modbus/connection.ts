import modbusSerial from 'modbus-serial';
import { backoffDelayMs, type BackoffPolicy } from '../../../common/backoff.ts';
import type { Logger } from '../../../common/logger.ts';
import type { ModbusRegisterType } from '../../../common/reading.ts';
import type { ConnectionState } from '../types.ts';
import type { ModbusConfig } from './config.ts';
import { classifyModbusError, type RequestFailure } from './failure.ts';
import { FairQueue } from './queue.ts';

/** Extra wait past the request timeout before the driver gives up on modbus-serial's own timer. */
export const TIMEOUT_GUARD_MS = 250;
/** Longest a serial port may take to close at stop. */
export const CLOSE_TIMEOUT_MS = 2_000;

export interface ReadOp {
  kind: 'read';
  unitId: number;
  registerType: ModbusRegisterType;
  address: number;
  count: number;
}

export type WriteOp =
  | { kind: 'write_coil'; unitId: number; address: number; state: boolean }
  | { kind: 'write_registers'; unitId: number; address: number; words: number[] };

/** An answer (registers, or bits as 0/1; empty for writes) or why there is none. */
export type Outcome = { ok: true; data: number[] } | { ok: false; failure: RequestFailure };

export interface ConnectionStatus {
  state: ConnectionState;
  lastError?: string;
  lastErrorAt?: string;
  connects: number;
  disconnects: number;
}

interface Job {
  op: ReadOp | WriteOp;
  timeoutMs: number;
  resolve(outcome: Outcome): void;
}

type Callback = (err: unknown, res?: { data?: unknown[] }) => void;

/** modbus-serial is CommonJS: its class is module.exports, which TypeScript sees as `.default`. */
const ModbusRTU = modbusSerial.default;
type ModbusRTU = InstanceType<typeof ModbusRTU>;

const NOT_CONNECTED: Outcome = { ok: false, failure: { kind: 'disconnected', message: 'not connected' } };

/**
 * One Modbus connection (TCP socket, RTU-over-TCP socket or serial line) shared by the
 * devices on it. Requests run one at a time, as a serial line must and as many TCP devices
 * and gateways expect; devices take turns (FairQueue). The connection reconnects with
 * backoff whenever it closes or fails to open.
 */
export class ModbusConnection {
  readonly #config: ModbusConfig;
  readonly #log: Logger;
  readonly #random: () => number;
  readonly #reconnect: BackoffPolicy;
  readonly #queue = new FairQueue<Job>();
  #client: ModbusRTU | undefined;
  #state: ConnectionState = 'stopped';
  #busy = false;
  #attempt = 0;
  /** Set once a request got an answer on this connection; then a later loss starts backoff afresh. */
  #answered = false;
  #timer: NodeJS.Timeout | undefined;
  #inflight: ((outcome: Outcome) => void) | undefined;
  #stopping: Promise<void> | undefined;
  #lastError: string | undefined;
  #lastErrorAt: string | undefined;
  #connects = 0;
  #disconnects = 0;
  readonly #onOpen: (() => void)[] = [];

  constructor(config: ModbusConfig, log: Logger, random: () => number = Math.random) {
    this.#config = config;
    this.#log = log;
    this.#random = random;
    this.#reconnect = { initialMs: config.reconnect_initial_ms, maxMs: config.reconnect_max_ms };
  }

  get state(): ConnectionState {
    return this.#state;
  }

  get connected(): boolean {
    return this.#state === 'connected';
  }

  /** Calls listener every time the connection opens. */
  onOpen(listener: () => void): void {
    this.#onOpen.push(listener);
  }

  start(): void {
    if (this.#state !== 'stopped' || this.#stopping) return;
    void this.#connect();
  }

  /** Queues a request on the device's line (or ahead of all lines); resolves with its outcome, never rejects. */
  execute(key: string, op: ReadOp | WriteOp, timeoutMs: number, priority = false): Promise<Outcome> {
    if (!this.connected) return Promise.resolve(NOT_CONNECTED);
    return new Promise((resolve) => {
      const job = { op, timeoutMs, resolve };
      if (priority) this.#queue.pushPriority(job);
      else this.#queue.push(key, job);
      this.#pump();
    });
  }

  status(): ConnectionStatus {
    return {
      state: this.#state,
      ...(this.#lastError !== undefined ? { lastError: this.#lastError, lastErrorAt: this.#lastErrorAt } : {}),
      connects: this.#connects,
      disconnects: this.#disconnects,
    };
  }

  /** Closes the connection and answers every waiting request with "not connected". Safe twice. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#state = 'stopped';
      clearTimeout(this.#timer);
      this.#failAll();
      const client = this.#client;
      this.#client = undefined;
      if (client) await this.#close(client);
    })();
    return this.#stopping;
  }

  async #connect(): Promise<void> {
    if (this.#stopping) return;
    this.#state = 'connecting';
    const client = new ModbusRTU();
    this.#client = client;
    // A serial port reports its errors as events; without a listener they would end the process.
    client.on('error', (err: unknown) => {
      if (client === this.#client) this.#setError(classifyModbusError(err).message);
    });
    client.on('close', () => this.#onClose(client));
    let timer: NodeJS.Timeout | undefined;
    try {
      const timedOut = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no connection within ${this.#config.connect_timeout_ms} ms`)), this.#config.connect_timeout_ms);
      });
      await Promise.race([this.#open(client), timedOut]);
    } catch (err) {
      if (client !== this.#client) return;
      this.#client = undefined;
      void this.#close(client);
      const message = err instanceof Error ? err.message : String(err);
      if (this.#attempt === 0) this.#log.warn({ endpoint: this.#endpoint(), error: message }, 'Modbus connection failed; retrying with backoff.');
      this.#setError(message);
      this.#state = 'disconnected';
      this.#scheduleReconnect();
      return;
    } finally {
      clearTimeout(timer);
    }
    if (client !== this.#client) return;
    this.#state = 'connected';
    this.#connects++;
    this.#answered = false;
    this.#log.info({ endpoint: this.#endpoint(), attempts: this.#attempt + 1 }, 'Modbus connection open.');
    for (const listener of this.#onOpen) listener();
    this.#pump();
  }

  #open(client: ModbusRTU): Promise<void> {
    const c = this.#config;
    if (c.transport === 'rtu') {
      const s = c.serial;
      if (!s) return Promise.reject(new Error('transport rtu needs serial settings'));
      return client.connectRTUBuffered(s.path, { baudRate: s.baud_rate, dataBits: s.data_bits, stopBits: s.stop_bits, parity: s.parity });
    }
    const host = c.host ?? '';
    return c.transport === 'rtu_over_tcp' ? client.connectTelnet(host, { port: c.port }) : client.connectTCP(host, { port: c.port });
  }

  #onClose(client: ModbusRTU): void {
    if (client !== this.#client || this.#stopping) return;
    this.#client = undefined;
    const wasConnected = this.#state === 'connected';
    this.#state = 'disconnected';
    this.#failAll();
    if (wasConnected) {
      this.#disconnects++;
      if (this.#answered) this.#attempt = 0;
      this.#setError('connection closed');
      this.#log.warn({ endpoint: this.#endpoint() }, 'Modbus connection lost; reconnecting.');
    }
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    if (this.#stopping) return;
    this.#attempt++;
    const delay = backoffDelayMs(this.#reconnect, this.#attempt, this.#random());
    this.#timer = setTimeout(() => void this.#connect(), delay);
  }

  #pump(): void {
    if (this.#busy || !this.connected) return;
    const job = this.#queue.shift();
    if (!job) return;
    this.#busy = true;
    const client = this.#client;
    void this.#run(job).then((outcome) => {
      this.#busy = false;
      job.resolve(outcome);
      // modbus-serial's TCP port takes a reset (ECONNRESET) quietly: it marks itself closed
      // and never emits 'close'. A failed request on a port that is no longer open is then
      // the only sign that the connection is gone.
      if (!outcome.ok && client && !client.isOpen) this.#onClose(client);
      this.#pump();
    });
  }

  #run(job: Job): Promise<Outcome> {
    const client = this.#client;
    if (!client) return Promise.resolve(NOT_CONNECTED);
    return new Promise<Outcome>((resolve) => {
      let guard: NodeJS.Timeout | undefined;
      const settle = (outcome: Outcome) => {
        if (this.#inflight !== settle) return;
        this.#inflight = undefined;
        clearTimeout(guard);
        if (outcome.ok || outcome.failure.kind === 'exception') this.#answered = true;
        resolve(outcome);
      };
      this.#inflight = settle;
      guard = setTimeout(() => settle({ ok: false, failure: { kind: 'timeout', message: 'no answer within the timeout' } }), job.timeoutMs + TIMEOUT_GUARD_MS);
      client.setTimeout(job.timeoutMs);
      const expected = job.op.kind === 'read' ? job.op.count : 0;
      const callback: Callback = (err, res) => {
        if (err) return settle({ ok: false, failure: classifyModbusError(err) });
        const data = job.op.kind === 'read' ? (res?.data ?? []).slice(0, expected).map(Number) : [];
        if (data.length !== expected) return settle({ ok: false, failure: { kind: 'protocol', message: `expected ${expected} values, got ${data.length}` } });
        settle({ ok: true, data });
      };
      try {
        issue(client, job.op, callback);
      } catch (err) {
        settle({ ok: false, failure: classifyModbusError(err) });
      }
    });
  }

  #failAll(): void {
    this.#inflight?.(NOT_CONNECTED);
    for (const job of this.#queue.drain()) job.resolve(NOT_CONNECTED);
  }

  #close(client: ModbusRTU): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, CLOSE_TIMEOUT_MS);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      try {
        // A serial port has no destroy(); a socket is destroyed at once rather than waiting for FIN.
        if (this.#config.transport === 'rtu') client.close(done);
        else client.destroy(done);
      } catch {
        done();
      }
    });
  }

  #endpoint(): string {
    const c = this.#config;
    return c.transport === 'rtu' ? (c.serial?.path ?? '') : `${c.host}:${c.port}`;
  }

  #setError(message: string): void {
    this.#lastError = message;
    this.#lastErrorAt = new Date().toISOString();
  }
}

/** Sends one request with modbus-serial's callback API, which takes the unit id per call. */
function issue(client: ModbusRTU, op: ReadOp | WriteOp, cb: Callback): void {
  const next = cb as never;
  switch (op.kind) {
    case 'read':
      switch (op.registerType) {
        case 'coil':
          return client.writeFC1(op.unitId, op.address, op.count, (err, res) => cb(err, res && { data: res.data.map((b) => (b ? 1 : 0)) }));
        case 'discrete_input':
          return client.writeFC2(op.unitId, op.address, op.count, (err, res) => cb(err, res && { data: res.data.map((b) => (b ? 1 : 0)) }));
        case 'holding':
          return client.writeFC3(op.unitId, op.address, op.count, next);
        case 'input':
          return client.writeFC4(op.unitId, op.address, op.count, next);
      }
      return;
    case 'write_coil':
      return client.writeFC5(op.unitId, op.address, op.state, next);
    case 'write_registers':
      if (op.words.length === 1) return client.writeFC6(op.unitId, op.address, op.words[0] as number, next);
      return client.writeFC16(op.unitId, op.address, op.words, next);
  }
}
