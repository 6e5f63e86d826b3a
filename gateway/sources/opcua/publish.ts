import {
  DataChangeNotification,
  PublishRequest,
  RepublishRequest,
  StatusChangeNotification,
  StatusCodes,
  type MonitoredItemNotification,
  type NotificationMessage,
  type PublishResponse,
  type RepublishResponse,
  type StatusCode,
} from 'node-opcua-client';
import { isAfter, missingBefore, previousSequence } from './sequence.ts';
import type { UaSession } from './ua.ts';

/**
 * Publish requests kept at the server: five per subscription (as node-opcua's own client
 * does), within these bounds. Servers that cap a NotificationMessage (node-opcua at 1,000
 * notifications) send a backlog only as fast as requests wait there; fewer requests let a
 * 10,000-node subscription fall behind and its queues overflow. A server that finds them too
 * many says BadTooManyPublishRequests, and the count comes down.
 */
const MIN_IN_FLIGHT = 3;
const MAX_IN_FLIGHT = 50;
const IN_FLIGHT_PER_SUBSCRIPTION = 5;
/** A publish request may wait at the server this many keep-alive periods (per request ahead of it) before it times out. */
const TIMEOUT_HINT_KEEP_ALIVES = 2;
const MAX_TIMEOUT_HINT_MS = 0x7fff_ffff;

/** Service results after which this session's publishing cannot go on. */
export const SESSION_GONE = new Set<number>(
  [StatusCodes.BadSessionIdInvalid, StatusCodes.BadSessionClosed, StatusCodes.BadSessionNotActivated, StatusCodes.BadNoSubscription, StatusCodes.BadSecureChannelIdInvalid].map((c) => c.value),
);

export interface PublishHandlers {
  /** Data changes of one NotificationMessage; called synchronously from the response. */
  onDataChange(subscriptionId: number, items: MonitoredItemNotification[]): void;
  /** The server ended a subscription (StatusChangeNotification, e.g. BadTimeout). */
  onSubscriptionStatus(subscriptionId: number, status: StatusCode): void;
  /** Publishing on this session cannot go on: the caller reconnects. Called at most once. */
  onSessionLost(reason: string): void;
  /** Messages were missed and could not be republished: their notifications are lost. */
  onLost(subscriptionId: number, messages: number, reason: string): void;
  /** Missed messages that came back through Republish. */
  onRepublished(subscriptionId: number, messages: number): void;
}

interface SubscriptionState {
  /** Sequence number of the last data message handled; 0 before the first. */
  lastSeq: number;
  keepAliveMs: number;
  /**
   * Set for a transferred subscription until its first response: messages handled on the old
   * session whose acknowledgement was lost with it are acknowledged then.
   */
  reconcile: boolean;
}

/** The service result a failed request carries (a ServiceFault), if the server answered at all. */
export function serviceResultOf(err: unknown): StatusCode | undefined {
  return (err as { response?: { responseHeader?: { serviceResult?: StatusCode } } } | null)?.response?.responseHeader?.serviceResult;
}

/**
 * Keeps Publish requests pending at the server for every subscription of one session,
 * acknowledges what arrived, and dispatches data changes without creating anything per node.
 * Checks sequence numbers: a message missed (e.g. lost with a dropped connection) is fetched
 * again with Republish when the server still has it, and counted as lost when it does not.
 */
export class PublishLoop {
  readonly #session: UaSession;
  readonly #handlers: PublishHandlers;
  readonly #subs = new Map<number, SubscriptionState>();
  #acks: Array<{ subscriptionId: number; sequenceNumber: number }> = [];
  #inFlight = 0;
  #cap = MAX_IN_FLIGHT;
  #stopped = false;
  #lost = false;
  lastResponseAt = Date.now();

  constructor(session: UaSession, handlers: PublishHandlers) {
    this.#session = session;
    this.#handlers = handlers;
  }

  /** Starts publishing for a subscription; lastSeq carries on the numbering of a transferred one. */
  add(subscriptionId: number, keepAliveMs: number, lastSeq = 0): void {
    this.#subs.set(subscriptionId, { lastSeq, keepAliveMs, reconcile: lastSeq !== 0 });
    this.#fill();
  }

  remove(subscriptionId: number): void {
    this.#subs.delete(subscriptionId);
  }

  lastSequence(subscriptionId: number): number {
    return this.#subs.get(subscriptionId)?.lastSeq ?? 0;
  }

  stop(): void {
    this.#stopped = true;
    this.#subs.clear();
  }

  #target(): number {
    return Math.min(this.#cap, MAX_IN_FLIGHT, Math.max(MIN_IN_FLIGHT, this.#subs.size * IN_FLIGHT_PER_SUBSCRIPTION));
  }

  #fill(): void {
    while (!this.#stopped && this.#subs.size > 0 && this.#inFlight < this.#target()) this.#send();
  }

  #send(): void {
    this.#inFlight++;
    const acks = this.#acks;
    this.#acks = [];
    let keepAliveMs = 0;
    for (const s of this.#subs.values()) keepAliveMs = Math.max(keepAliveMs, s.keepAliveMs);
    const timeoutHint = Math.min(MAX_TIMEOUT_HINT_MS, this.#target() * keepAliveMs * TIMEOUT_HINT_KEEP_ALIVES);
    const request = new PublishRequest({ requestHeader: { timeoutHint }, subscriptionAcknowledgements: acks });
    this.#session.publish(request, (err, response) => {
      this.#inFlight--;
      if (this.#stopped) return;
      if (err || !response) return this.#failed(err ?? new Error('empty publish response'), acks);
      this.lastResponseAt = Date.now();
      this.#received(response);
      this.#fill();
    });
  }

  #failed(err: Error, acks: Array<{ subscriptionId: number; sequenceNumber: number }>): void {
    const status = serviceResultOf(err);
    if (status) this.lastResponseAt = Date.now();
    // The acknowledgements of a failed request did not reach the server: send them again.
    this.#acks.push(...acks);
    if (status?.value === StatusCodes.BadTimeout.value) return this.#fill();
    if (status?.value === StatusCodes.BadTooManyPublishRequests.value) {
      this.#cap = Math.max(1, this.#inFlight);
      return;
    }
    if (status && !SESSION_GONE.has(status.value)) return this.#fill();
    this.#sessionLost(status ? `publish failed: ${status.name}` : `publish failed: ${err.message}`);
  }

  #sessionLost(reason: string): void {
    if (this.#lost || this.#stopped) return;
    this.#lost = true;
    this.#handlers.onSessionLost(reason);
  }

  #received(response: PublishResponse): void {
    const subscriptionId = response.subscriptionId;
    const message = response.notificationMessage;
    const seq = message.sequenceNumber;
    const sub = this.#subs.get(subscriptionId);
    const hasData = (message.notificationData?.length ?? 0) > 0;
    if (hasData) this.#acks.push({ subscriptionId, sequenceNumber: seq });
    if (!sub || seq === 0) return;
    // A data message is number seq; a keep-alive announces seq as the next one, so every
    // number between the last one handled and seq was missed either way.
    const available = response.availableSequenceNumbers ?? [];
    if (sub.reconcile) {
      sub.reconcile = false;
      for (const s of available) if (s !== seq && !isAfter(s, sub.lastSeq)) this.#acks.push({ subscriptionId, sequenceNumber: s });
    }
    const gap = missingBefore(sub.lastSeq, seq);
    if (gap.count > 0) {
      const held = new Set(available);
      const again = gap.listed.filter((s) => held.has(s));
      const lost = gap.count - again.length;
      if (lost > 0) this.#handlers.onLost(subscriptionId, lost, 'no longer held by the server');
      if (again.length > 0) void this.#republish(subscriptionId, again);
    }
    const handled = hasData ? seq : previousSequence(seq);
    if (sub.lastSeq === 0 ? hasData : isAfter(handled, sub.lastSeq)) sub.lastSeq = handled;
    if (hasData) this.#dispatch(subscriptionId, message);
  }

  #dispatch(subscriptionId: number, message: NotificationMessage): void {
    for (const data of message.notificationData ?? []) {
      if (data instanceof DataChangeNotification) this.#handlers.onDataChange(subscriptionId, data.monitoredItems ?? []);
      else if (data instanceof StatusChangeNotification) this.#handlers.onSubscriptionStatus(subscriptionId, data.status);
    }
  }

  async #republish(subscriptionId: number, sequenceNumbers: number[]): Promise<void> {
    let recovered = 0;
    for (const retransmitSequenceNumber of sequenceNumbers) {
      if (this.#stopped) return;
      try {
        const response = await new Promise<RepublishResponse>((resolve, reject) =>
          this.#session.republish(new RepublishRequest({ subscriptionId, retransmitSequenceNumber }), (err, r) => (err || !r ? reject(err ?? new Error('empty republish response')) : resolve(r))),
        );
        this.#acks.push({ subscriptionId, sequenceNumber: retransmitSequenceNumber });
        this.#dispatch(subscriptionId, response.notificationMessage);
        recovered++;
      } catch (err) {
        if (this.#stopped) return;
        this.#handlers.onLost(subscriptionId, 1, `republish of message ${retransmitSequenceNumber} failed: ${serviceResultOf(err)?.name ?? (err as Error).message}`);
      }
    }
    if (recovered > 0) this.#handlers.onRepublished(subscriptionId, recovered);
  }
}
