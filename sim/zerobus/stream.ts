import { Metadata, status, type ServerDuplexStream } from '@grpc/grpc-js';
import { randomUUID } from 'node:crypto';
import type { Logger } from '../../common/logger.ts';
import { HEADER_TABLE, type StreamRequest, type StreamResponse } from '../../common/zerobus/wire.ts';
import { Refusal, decodeIngest, recordFormat, type RecordFormat } from './decode.ts';
import { StreamQuota, type Faults } from './faults.ts';
import type { RowStore } from './store.ts';
import type { TokenStore } from './tokens.ts';

type Call = ServerDuplexStream<StreamRequest, StreamResponse>;

export interface StreamDeps {
  tokens: TokenStore;
  store: RowStore;
  faults: Faults;
  /** Drops every client connection (a fault: the transport fails mid-stream). */
  dropConnections(): void;
  log: Logger;
}

/**
 * One EphemeralStream, as Zerobus serves it: authenticate, create the stream from its
 * descriptor, then decode every record, append the rows in offset order and ack them
 * cumulatively once written. Each request is queued for writing as soon as it is decoded,
 * so requests that arrive while the disk is busy share one write; acks are coalesced to
 * the highest written offset.
 */
export function serveStream(call: Call, deps: StreamDeps): void {
  // The official clients wait for response headers before they send create_stream.
  call.sendMetadata(new Metadata());
  const { faults } = deps;
  let table: string;
  try {
    const injected = faults.takeCallFailure();
    if (injected) throw new Refusal(injected.code, injected.message);
    table = authorize(call.metadata, deps.tokens);
  } catch (err) {
    refuse(call, err, deps.log);
    return;
  }
  const streamId = randomUUID();
  const log = deps.log.child({ table, streamId });
  const quota = new StreamQuota(faults.quotaPerStream, Date.now());
  let format: RecordFormat | undefined;
  let expectedOffset = 0;
  let messages = 0;
  /** No response goes out any more: refused, finished, cancelled or dropped. */
  let ended = false;
  /** False once a drop fault is armed: the connection is about to go, nothing after is read. */
  let reading = true;
  /** Resolves once every accepted message is on disk (in offset order). */
  let written: Promise<void> = Promise.resolve();
  let highestWritten = -1;
  let highestAcked = -1;
  let ackScheduled = false;
  const delayedAcks = new Set<Promise<void>>();

  const fail = (err: unknown) => {
    if (ended) return;
    ended = true;
    refuse(call, err, log);
  };

  const sendAck = (offset: number) => {
    if (!ended) call.write({ ingest_record_response: { durability_ack_up_to_offset: offset } });
  };
  const flushAcks = () => {
    ackScheduled = false;
    if (ended || highestWritten <= highestAcked) return;
    const offset = (highestAcked = highestWritten);
    const delayMs = faults.ackDelayMs;
    if (delayMs <= 0) return sendAck(offset);
    const delayed = new Promise<void>((resolve) => setTimeout(resolve, delayMs)).then(() => sendAck(offset));
    delayedAcks.add(delayed);
    void delayed.finally(() => delayedAcks.delete(delayed));
  };

  const onWritten = (offset: number, dropAfter: boolean) => {
    if (ended) return;
    if (dropAfter) {
      // Written but not acked: the client must resend it, and the table shows a duplicate.
      flushAcks();
      ended = true;
      log.info({ offset }, 'Fault: dropping every connection before the ack.');
      setImmediate(() => deps.dropConnections());
      return;
    }
    highestWritten = offset;
    if (!ackScheduled) {
      ackScheduled = true;
      queueMicrotask(flushAcks);
    }
  };

  /** Ends the call OK once every accepted message is written and acked. */
  const finish = async () => {
    for (let seen: Promise<void> | undefined; seen !== written; ) await (seen = written);
    flushAcks();
    await Promise.all(delayedAcks);
    if (ended) return;
    ended = true;
    call.end();
  };

  call.on('data', (request: StreamRequest) => {
    if (ended || !reading) return;
    try {
      if (!format) {
        format = createStream(request, table, faults);
        call.write({ create_stream_response: { stream_id: streamId } });
        log.debug({ recordType: format.kind }, 'Stream created.');
        return;
      }
      const { offset, lines } = decodeIngest(request, expectedOffset, format);
      expectedOffset++;
      const violation = faults.violation(table, lines);
      if (violation) {
        throw new Refusal(
          status.INVALID_ARGUMENT,
          `offset ${offset} record ${violation.index}: column ${violation.column} = ${JSON.stringify(violation.value)} violates a constraint of ${table}`,
        );
      }
      if (!quota.take(lines.length, Date.now())) {
        throw new Refusal(status.RESOURCE_EXHAUSTED, `quota exceeded: ${faults.quotaPerStream} records/s per stream`);
      }
      const count = ++messages;
      const dropAfter = faults.takeDrop(count);
      const append = deps.store.append(table, lines);
      written = append.then(
        () => onWritten(offset, dropAfter),
        (err: Error) => fail(new Refusal(status.INTERNAL, `writing rows failed: ${err.message}`)),
      );
      if (dropAfter) reading = false;
      const close = faults.closeStreamAfter();
      if (close && count === close.messages) {
        log.info({ durationMs: close.durationMs }, 'Fault: sending close_stream_signal.');
        call.write({ close_stream_signal: { duration_ms: close.durationMs } });
        setTimeout(() => void finish(), close.durationMs);
      }
    } catch (err) {
      fail(err);
    }
  });
  // Client half-closed: finish the writes and acks, then end the call OK.
  call.on('end', () => void finish());
  call.on('cancelled', () => {
    ended = true;
  });
  call.on('error', () => {
    ended = true;
  });
}

function createStream(request: StreamRequest, table: string, faults: Faults): RecordFormat {
  const create = request.create_stream;
  if (!create) throw new Refusal(status.INVALID_ARGUMENT, 'the first message of a stream must be create_stream');
  if (create.table_name !== table) {
    throw new Refusal(status.INVALID_ARGUMENT, `create_stream.table_name ${create.table_name} does not match header ${HEADER_TABLE} ${table}`);
  }
  if (faults.rejectsSchema(table)) throw new Refusal(status.INVALID_ARGUMENT, `schema mismatch: the descriptor does not match the columns of ${table}`);
  return recordFormat(create);
}

function authorize(metadata: Metadata, tokens: TokenStore): string {
  const header = String(metadata.get('authorization')[0] ?? '');
  const token = /^Bearer\s+(.+)$/i.exec(header)?.[1];
  const grant = tokens.check(token);
  if (grant === 'missing') throw new Refusal(status.UNAUTHENTICATED, 'missing bearer token in authorization metadata');
  if (grant === 'unknown') throw new Refusal(status.UNAUTHENTICATED, 'invalid bearer token');
  if (grant === 'expired') throw new Refusal(status.UNAUTHENTICATED, 'bearer token expired');
  const table = String(metadata.get(HEADER_TABLE)[0] ?? '');
  if (!table) throw new Refusal(status.INVALID_ARGUMENT, `missing ${HEADER_TABLE} metadata`);
  if (table !== grant.table) throw new Refusal(status.PERMISSION_DENIED, `token grants ${grant.table}, not ${table}`);
  return table;
}

/** Ends the call with the refusal's status; anything else is INTERNAL. */
function refuse(call: Call, err: unknown, log: Logger): void {
  const refusal = err instanceof Refusal ? err : new Refusal(status.INTERNAL, (err as Error).message);
  log.info({ code: status[refusal.code], reason: refusal.message }, 'Stream refused.');
  call.emit('error', { code: refusal.code, details: refusal.message, metadata: new Metadata() });
}
