import { Metadata, type Client, type ClientDuplexStream, type ServiceError } from '@grpc/grpc-js';
import { backoffDelayMs, type BackoffPolicy } from '../../common/backoff.ts';
import type { Logger } from '../../common/logger.ts';
import {
  EPHEMERAL_STREAM_PATH,
  HEADER_SDK,
  HEADER_TABLE,
  RECORD_TYPE,
  decodeResponse,
  encodeRequest,
  type StreamRequest,
  type StreamResponse,
} from '../../common/zerobus/wire.ts';
import { ingestRequestBytes, type EncodedBatch } from './encode.ts';
import { ZerobusError, fromGrpcError } from './errors.ts';
import { InflightBatches } from './inflight.ts';
import type { TokenProvider } from './token.ts';

export type StreamState = 'idle' | 'opening' | 'open' | 'draining' | 'backoff' | 'closed';

/** One batch as it goes on the wire: its records, serialized once (see encode.ts). */
export type BatchPayload = EncodedBatch;

export interface StreamObserver {
  onAck?(table: string, records: number, latencyMs: number): void;
  onRecovery?(table: string, reason: string): void;
}

export interface TableStreamOptions {
  table: string;
  recordType: 'proto' | 'json';
  descriptorProto?: Uint8Array;
  client: Client;
  tokens: TokenProvider;
  log: Logger;
  sdkName: string;
  ackTimeoutMs: number;
  connectTimeoutMs: number;
  maxInflightBatches: number;
  recovery: BackoffPolicy & { maxAttempts: number };
  observer?: StreamObserver;
}

/** Ingest requests go out already serialized (encode.ts); create_stream goes through protobufjs. */
type Call = ClientDuplexStream<StreamRequest | Buffer, StreamResponse>;
const serializeRequest = (message: StreamRequest | Buffer): Buffer => (Buffer.isBuffer(message) ? message : encodeRequest(message));

/**
 * One EphemeralStream for one table: waits for create_stream_response, numbers requests from
 * 0, resolves each batch when a cumulative durability ack covers it, and recovers from
 * failures by opening a new stream and resending what is unacked, in order.
 */
export class TableStream {
  readonly #o: TableStreamOptions;
  readonly #batches = new InflightBatches<BatchPayload>();
  readonly #capacityWaiters: Array<() => void> = [];
  #state: StreamState = 'idle';
  #call: Call | undefined;
  #nextOffset = 0;
  #failures = 0;
  #authRefreshed = false;
  #timer: NodeJS.Timeout | undefined;
  #streamId: string | undefined;
  #lastError: ZerobusError | undefined;

  constructor(options: TableStreamOptions) {
    this.#o = options;
  }

  get state(): StreamState {
    return this.#state;
  }

  get streamId(): string | undefined {
    return this.#streamId;
  }

  get lastError(): ZerobusError | undefined {
    return this.#lastError;
  }

  get pendingBatches(): number {
    return this.#batches.size;
  }

  /** Resolves once the batch is durable. Waits first while the in-flight cap is reached. */
  async send(payload: BatchPayload): Promise<void> {
    while (this.#state !== 'closed' && this.#batches.size >= this.#o.maxInflightBatches) {
      await new Promise<void>((resolve) => this.#capacityWaiters.push(resolve));
    }
    if (this.#state === 'closed') throw this.#closedError();
    return new Promise<void>((resolve, reject) => {
      this.#batches.add({ payload, resolve, reject });
      this.#pump();
    });
  }

  /** Waits up to graceMs for pending batches to be acked, then closes; the rest fail as retryable. */
  async close(graceMs: number): Promise<void> {
    if (this.#state === 'closed') return;
    const deadline = Date.now() + graceMs;
    while (this.#batches.size > 0 && Date.now() < deadline && this.#state !== 'idle') {
      await new Promise((r) => setTimeout(r, 20));
    }
    this.#state = 'closed';
    this.#clearTimer();
    const call = this.#detach();
    call?.end();
    for (const item of this.#batches.takeAll()) item.reject(this.#closedError());
    this.#releaseWaiters();
  }

  #pump(): void {
    if (this.#state === 'idle') {
      void this.#open();
      return;
    }
    if (this.#state !== 'open' || !this.#call) return;
    const call = this.#call;
    const now = Date.now();
    for (let item = this.#batches.markNextSent(this.#nextOffset, now); item; item = this.#batches.markNextSent(this.#nextOffset, now)) {
      call.write(ingestRequestBytes(this.#nextOffset, item.payload));
      this.#nextOffset++;
    }
    if (this.#batches.inflight > 0 && !this.#timer) this.#armTimer(this.#o.ackTimeoutMs, 'ACK_TIMEOUT');
  }


  async #open(): Promise<void> {
    this.#state = 'opening';
    const { table, tokens, client, sdkName } = this.#o;
    let token: string;
    try {
      token = await tokens.token(table);
    } catch (err) {
      this.#fail(err instanceof ZerobusError ? err : new ZerobusError(String(err), { code: 'UNKNOWN', retryable: true, table, cause: err }));
      return;
    }
    if (this.#state !== 'opening') return;
    const metadata = new Metadata();
    metadata.set('authorization', `Bearer ${token}`);
    metadata.set(HEADER_TABLE, table);
    metadata.set(HEADER_SDK, sdkName);
    const call: Call = client.makeBidiStreamRequest(EPHEMERAL_STREAM_PATH, serializeRequest, decodeResponse, metadata, {});
    this.#call = call;
    this.#nextOffset = 0;
    this.#streamId = undefined;
    const resent = this.#batches.resetForResend();
    if (resent > 0) this.#o.log.info({ table, batches: resent }, 'Resending unacknowledged batches on a new stream.');
    // Like the official clients, send create_stream once the server's response headers arrive.
    call.once('metadata', () => {
      if (call !== this.#call) return;
      call.write({
        create_stream: {
          table_name: table,
          record_type: this.#o.recordType === 'proto' ? RECORD_TYPE.PROTO : RECORD_TYPE.JSON,
          ...(this.#o.descriptorProto ? { descriptor_proto: this.#o.descriptorProto } : {}),
        },
      });
    });
    call.on('data', (response: StreamResponse) => this.#onResponse(call, response));
    call.on('error', (err: ServiceError) => {
      if (call === this.#call) this.#fail(fromGrpcError(err, table));
    });
    call.on('end', () => {
      if (call === this.#call && this.#state !== 'closed') {
        this.#fail(new ZerobusError(`zerobus stream for ${table} ended by the server`, { code: 'UNAVAILABLE', retryable: true, table }));
      }
    });
    this.#armTimer(this.#o.connectTimeoutMs, 'DEADLINE_EXCEEDED');
  }

  #onResponse(call: Call, response: StreamResponse): void {
    if (call !== this.#call) return;
    const { table, log } = this.#o;
    if (response.create_stream_response) {
      this.#streamId = response.create_stream_response.stream_id;
      this.#state = 'open';
      this.#clearTimer();
      log.debug({ table, streamId: this.#streamId }, 'Zerobus stream opened.');
      this.#pump();
      return;
    }
    if (response.ingest_record_response) {
      this.#onAck(response.ingest_record_response.durability_ack_up_to_offset);
      return;
    }
    if (response.close_stream_signal) {
      const graceMs = response.close_stream_signal.duration_ms;
      log.info({ table, streamId: this.#streamId, graceMs, inflight: this.#batches.inflight }, 'Server asked to close the stream; draining.');
      this.#state = 'draining';
      if (this.#batches.inflight === 0) this.#rotate('close_stream_signal');
      else {
        this.#clearTimer();
        this.#timer = setTimeout(() => this.#rotate('close_stream_signal'), graceMs);
      }
    }
  }

  #onAck(ackedOffset: number): void {
    const now = Date.now();
    const acked = this.#batches.ackUpTo(ackedOffset);
    this.#failures = 0;
    this.#authRefreshed = false;
    for (const item of acked) {
      this.#o.observer?.onAck?.(this.#o.table, item.payload.records, now - item.sentAtMs);
      item.resolve();
    }
    this.#releaseWaiters();
    if (this.#state === 'draining') {
      if (this.#batches.inflight === 0) this.#rotate('close_stream_signal');
      return;
    }
    this.#clearTimer();
    if (this.#batches.inflight > 0) this.#armTimer(this.#o.ackTimeoutMs, 'ACK_TIMEOUT');
  }

  /** Ends the current stream gracefully and opens a new one for whatever is unacked. */
  #rotate(reason: string): void {
    this.#clearTimer();
    const call = this.#detach();
    call?.end();
    this.#o.observer?.onRecovery?.(this.#o.table, reason);
    this.#state = 'idle';
    if (this.#batches.size > 0) this.#pump();
  }

  #fail(error: ZerobusError): void {
    if (this.#state === 'closed') return;
    const { table, log, tokens, recovery } = this.#o;
    const wasOpen = this.#state === 'open' || this.#state === 'draining';
    this.#clearTimer();
    const call = this.#detach();
    call?.cancel();
    this.#lastError = error;
    if (error.code === 'UNAUTHENTICATED' && !this.#authRefreshed) {
      this.#authRefreshed = true;
      tokens.invalidate(table);
      log.warn({ table, code: error.code }, 'Stream refused the token; refreshing it once.');
      this.#state = 'idle';
      if (this.#batches.size > 0) this.#pump();
      return;
    }
    if (!error.retryable) {
      // Refused while opening (token, grant, schema): every pending batch would meet the same
      // refusal. Refused on an open stream: only the batches in flight share its failure.
      const failed = wasOpen ? this.#batches.takeSent() : this.#batches.takeAll();
      log.warn({ table, code: error.code, err: error.message, batches: failed.length }, 'Zerobus rejected batches; handing them back.');
      const handed = wasOpen ? error.withScope('request') : error;
      for (const item of failed) item.reject(handed);
      this.#releaseWaiters();
      this.#state = 'idle';
      if (this.#batches.size > 0) this.#pump();
      return;
    }
    this.#failures++;
    if (this.#failures > recovery.maxAttempts) {
      const failed = this.#batches.takeAll();
      log.warn({ table, code: error.code, attempts: this.#failures - 1, batches: failed.length }, 'Zerobus stream did not recover; handing batches back.');
      this.#failures = 0;
      for (const item of failed) item.reject(error);
      this.#releaseWaiters();
      this.#state = 'idle';
      return;
    }
    const delayMs = backoffDelayMs(recovery, this.#failures);
    log.warn({ table, code: error.code, err: error.message, attempt: this.#failures, delayMs }, 'Zerobus stream failed; recovering.');
    this.#o.observer?.onRecovery?.(table, error.code);
    this.#state = 'backoff';
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#state !== 'backoff') return;
      this.#state = 'idle';
      if (this.#batches.size > 0) this.#pump();
      else this.#failures = 0;
    }, delayMs);
  }

  #armTimer(ms: number, code: 'ACK_TIMEOUT' | 'DEADLINE_EXCEEDED'): void {
    this.#clearTimer();
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      const what = code === 'ACK_TIMEOUT' ? `no ack for ${ms} ms with batches in flight` : `no create_stream_response within ${ms} ms`;
      this.#fail(new ZerobusError(`zerobus stream for ${this.#o.table}: ${what}`, { code, retryable: true, table: this.#o.table }));
    }, ms);
  }

  #clearTimer(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #detach(): Call | undefined {
    const call = this.#call;
    this.#call = undefined;
    if (call) call.removeAllListeners('data').removeAllListeners('end').on('error', () => {});
    return call;
  }

  #releaseWaiters(): void {
    while (this.#capacityWaiters.length > 0 && (this.#state === 'closed' || this.#batches.size < this.#o.maxInflightBatches)) {
      this.#capacityWaiters.shift()?.();
    }
  }

  #closedError(): ZerobusError {
    return new ZerobusError(`zerobus stream for ${this.#o.table} is closed`, { code: 'CLIENT_CLOSED', retryable: true, table: this.#o.table });
  }
}
