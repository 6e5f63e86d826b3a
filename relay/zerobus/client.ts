import { Client } from '@grpc/grpc-js';
import type { Logger } from '../../common/logger.ts';
import { descriptorBytes } from '../../common/records/schemas.ts';
import type { RecordType } from '../../common/batch.ts';
import type { ZerobusConfig } from '../config.ts';
import { encodeBatch, recordBytes } from './encode.ts';
import { channelCredentials, parseEndpoint } from './endpoint.ts';
import { ZerobusError } from './errors.ts';
import { TableStream, type BatchPayload, type StreamObserver, type StreamState } from './stream.ts';
import { TokenProvider } from './token.ts';

/** One ingest call carries at most 10 MiB; keep room for the request envelope. */
export const MAX_CALL_BYTES = 10 * 1024 * 1024;
export const CALL_ENVELOPE_BYTES = 64 * 1024;
/** Per-record framing in a repeated bytes field: tag plus a varint length. */
export const RECORD_FRAMING_BYTES = 6;
/** The most record bytes (with framing) one ingest call carries. */
export const MAX_PAYLOAD_BYTES = MAX_CALL_BYTES - CALL_ENVELOPE_BYTES;
export const SDK_NAME = 'iot-connector-relay/0.1.0';
const KEEPALIVE_TIME_MS = 30_000;

export interface IngestBatch {
  table: string;
  messageType: string;
  recordType: RecordType;
  /** Base64 protobuf records, or JSON texts. */
  records: string[];
}

/**
 * Which stream of a table a batch goes on. 'shared': the table's stream, with up to
 * max_inflight_batches in flight. 'isolated': a second stream with one batch in flight, so a
 * refusal on it concerns exactly that batch (used to find the bad records of a batch).
 */
export type IngestLane = 'shared' | 'isolated';

export interface StreamStatus {
  table: string;
  messageType: string;
  lane: IngestLane;
  state: StreamState;
  streamId: string | undefined;
  pendingBatches: number;
  lastError: { code: string; message: string } | undefined;
}

/**
 * The relay's Zerobus client: one HTTP/2 channel, one EphemeralStream per table and record
 * schema, OAuth tokens per table. ingest() resolves when every record of the batch is durable
 * and rejects with a ZerobusError that says whether a retry can help.
 */
export class ZerobusClient {
  readonly #config: ZerobusConfig;
  readonly #log: Logger;
  readonly #channel: Client;
  readonly #tokens: TokenProvider;
  readonly #streams = new Map<string, TableStream>();
  readonly #observer: StreamObserver | undefined;
  #closed = false;

  constructor(config: ZerobusConfig, log: Logger, observer?: StreamObserver) {
    this.#config = config;
    this.#log = log;
    this.#observer = observer;
    const endpoint = parseEndpoint(config.endpoint);
    const workspaceId = config.workspace_id ?? endpoint.workspaceIdFromHost;
    if (!workspaceId) {
      throw new ZerobusError(`zerobus.workspace_id is required: it cannot be read from endpoint ${config.endpoint}`, {
        code: 'INVALID_ARGUMENT',
        retryable: false,
      });
    }
    this.#channel = new Client(endpoint.address, channelCredentials({ insecure: config.insecure, caFile: config.ca_file }), {
      'grpc.primary_user_agent': SDK_NAME,
      'grpc.keepalive_time_ms': KEEPALIVE_TIME_MS,
      'grpc.max_send_message_length': MAX_CALL_BYTES + CALL_ENVELOPE_BYTES,
      // grpc-js waits up to 120 s between reconnections by default, and fails calls at once
      // meanwhile: after a long outage the relay would stay cut off well after the service is back.
      'grpc.initial_reconnect_backoff_ms': config.recovery_initial_ms,
      'grpc.max_reconnect_backoff_ms': config.recovery_max_ms,
    });
    this.#tokens = new TokenProvider({
      workspaceUrl: config.workspace_url,
      workspaceId,
      clientId: config.client_id,
      clientSecret: config.client_secret,
      refreshMarginMs: config.token_refresh_margin_ms,
      log,
      ...(config.ca_file ? { caFile: config.ca_file } : {}),
    });
  }

  /** Sends a batch, split where it would pass 10 MiB, and resolves when all of it is durable. */
  async ingest(batch: IngestBatch, lane: IngestLane = 'shared'): Promise<void> {
    if (this.#closed) throw new ZerobusError('zerobus client is closed', { code: 'CLIENT_CLOSED', retryable: true, table: batch.table });
    const payloads = splitBySize(batch);
    const stream = this.#stream(batch.table, batch.messageType, batch.recordType, lane);
    await Promise.all(payloads.map((payload) => stream.send(payload)));
  }

  /** True when the endpoint accepts a connection (TCP, TLS, HTTP/2) within timeoutMs. Sends nothing. */
  reachable(timeoutMs: number): Promise<boolean> {
    if (this.#closed) return Promise.resolve(false);
    return new Promise((resolve) => this.#channel.waitForReady(Date.now() + timeoutMs, (err) => resolve(!err)));
  }

  status(): StreamStatus[] {
    return [...this.#streams.entries()].map(([key, stream]) => ({
      table: key.split('|')[0] ?? key,
      messageType: key.split('|')[1] ?? '',
      lane: (key.split('|')[3] ?? 'shared') as IngestLane,
      state: stream.state,
      streamId: stream.streamId,
      pendingBatches: stream.pendingBatches,
      lastError: stream.lastError ? { code: stream.lastError.code, message: stream.lastError.message } : undefined,
    }));
  }

  /** Lets in-flight batches finish for up to graceMs, then closes every stream and the channel. Safe twice. */
  async close(graceMs: number): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([...this.#streams.values()].map((s) => s.close(graceMs)));
    this.#channel.close();
  }

  #stream(table: string, messageType: string, recordType: RecordType, lane: IngestLane): TableStream {
    const key = `${table}|${messageType}|${recordType}|${lane}`;
    let stream = this.#streams.get(key);
    if (!stream) {
      stream = new TableStream({
        table,
        recordType,
        ...(recordType === 'proto' ? { descriptorProto: descriptorBytes(messageType) } : {}),
        client: this.#channel,
        tokens: this.#tokens,
        log: this.#log.child(lane === 'isolated' ? { table, lane } : { table }),
        sdkName: SDK_NAME,
        ackTimeoutMs: this.#config.ack_timeout_ms,
        connectTimeoutMs: this.#config.connect_timeout_ms,
        maxInflightBatches: lane === 'isolated' ? 1 : this.#config.max_inflight_batches,
        recovery: { initialMs: this.#config.recovery_initial_ms, maxMs: this.#config.recovery_max_ms, maxAttempts: this.#config.recovery_attempts },
        ...(this.#observer ? { observer: this.#observer } : {}),
      });
      this.#streams.set(key, stream);
    }
    return stream;
  }
}

/** What one record of a job (base64 protobuf or JSON text) takes in an ingest call, framing included. */
export function recordCallBytes(text: string, recordType: RecordType): number {
  return recordBytes(text, recordType) + RECORD_FRAMING_BYTES;
}

/** Splits a batch into payloads of at most 10 MiB each, keeping record order, each serialized once. */
export function splitBySize(batch: IngestBatch, limit = MAX_PAYLOAD_BYTES): BatchPayload[] {
  const out: BatchPayload[] = [];
  let from = 0;
  let size = 0;
  for (let i = 0; i < batch.records.length; i++) {
    const bytes = recordCallBytes(batch.records[i] ?? '', batch.recordType);
    if (bytes > limit) {
      throw new ZerobusError(`a record of ${bytes} bytes for ${batch.table} exceeds the ${limit}-byte call limit`, {
        code: 'BATCH_TOO_LARGE',
        retryable: false,
        table: batch.table,
        scope: 'request',
      });
    }
    if (size + bytes > limit) {
      out.push(encodeBatch(batch.records, batch.recordType, from, i));
      from = i;
      size = 0;
    }
    size += bytes;
  }
  if (from < batch.records.length) out.push(encodeBatch(batch.records, batch.recordType, from, batch.records.length));
  return out;
}
