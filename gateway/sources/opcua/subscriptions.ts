import type { TransferSubscriptionsResponse } from 'node-opcua-client';
import type { OpcuaConfig } from './config.ts';
import { createMonitoredItems, type FilterFallback } from './monitor.ts';
import type { NodeTable } from './nodes.ts';
import type { PublishLoop } from './publish.ts';
import type { Limits, UaSession } from './ua.ts';

/** One OPC UA subscription: a contiguous range of one group's nodes in the table. */
export interface SubscriptionSlot {
  group: number;
  first: number;
  /** One past the last node index. */
  end: number;
  subscriptionId: number;
  /** Last NotificationMessage sequence number handled, carried over a transfer. */
  lastSeq: number;
  /** Items created and nodes refused at the last creation. */
  monitored: number;
  failed: number;
}

export interface CreateReport {
  created: number;
  failed: Array<{ index: number; status: string }>;
  filterFallbacks: FilterFallback[];
}

/**
 * The subscriptions of the source's subscription groups. The slots outlive a session: after a
 * reconnect they are transferred to the new session (items, handles and queued values
 * included) or, where the server no longer has them, created again.
 */
export class SubscriptionSet {
  slots: SubscriptionSlot[] = [];
  readonly #config: OpcuaConfig;

  constructor(config: OpcuaConfig) {
    this.#config = config;
  }

  /** Lays out the slots for a table: each subscription group split into max_items_per_subscription ranges. */
  plan(table: NodeTable): void {
    this.slots = [];
    this.#config.groups.forEach((g, group) => {
      if (g.mode !== 'subscription') return;
      const indexes = table.indexesOfGroup(group);
      if (indexes.length === 0) return;
      const first = indexes[0] ?? 0;
      const end = (indexes[indexes.length - 1] ?? 0) + 1;
      for (let start = first; start < end; start += g.max_items_per_subscription) {
        this.slots.push({ group, first: start, end: Math.min(end, start + g.max_items_per_subscription), subscriptionId: 0, lastSeq: 0, monitored: 0, failed: 0 });
      }
    });
  }

  /**
   * Moves the slots' subscriptions to a new session. Returns the slots the server no longer
   * had (they must be created again) and how many came across.
   */
  async transfer(session: UaSession, loop: PublishLoop): Promise<{ transferred: number; lost: SubscriptionSlot[] }> {
    const live = this.slots.filter((s) => s.subscriptionId !== 0);
    const lost = this.slots.filter((s) => s.subscriptionId === 0);
    if (live.length === 0) return { transferred: 0, lost };
    let results: TransferSubscriptionsResponse['results'] = [];
    try {
      // The callback form: with one argument TypeScript picks the overload that returns void.
      const response = await new Promise<TransferSubscriptionsResponse>((resolve, reject) =>
        session.transferSubscriptions({ subscriptionIds: live.map((s) => s.subscriptionId), sendInitialValues: true }, (err, r) => (err || !r ? reject(err ?? new Error('empty response')) : resolve(r))),
      );
      results = response.results ?? [];
    } catch {
      // Not supported, or refused as a whole: every subscription is created anew.
    }
    let transferred = 0;
    live.forEach((slot, i) => {
      const result = results[i];
      if (result?.statusCode.isGood()) {
        transferred++;
        loop.add(slot.subscriptionId, this.#keepAliveMs(slot.group), slot.lastSeq);
      } else {
        slot.subscriptionId = 0;
        slot.lastSeq = 0;
        lost.push(slot);
      }
    });
    return { transferred, lost };
  }

  /** Creates a subscription (publishing as `publishing` says) and its monitored items for each slot given. */
  async create(session: UaSession, loop: PublishLoop, table: NodeTable, limits: Limits, slots: SubscriptionSlot[], publishing: boolean): Promise<CreateReport> {
    const report: CreateReport = { created: 0, failed: [], filterFallbacks: [] };
    for (const slot of slots) {
      const g = this.#config.groups[slot.group];
      if (!g) continue;
      const response = await session.createSubscription({
        requestedPublishingInterval: g.publishing_interval_ms,
        requestedLifetimeCount: g.lifetime_count,
        requestedMaxKeepAliveCount: g.keep_alive_count,
        maxNotificationsPerPublish: g.max_notifications_per_publish,
        publishingEnabled: publishing,
        priority: 0,
      });
      if (!response.responseHeader.serviceResult.isGood()) throw new Error(`CreateSubscription failed: ${response.responseHeader.serviceResult.name}`);
      slot.subscriptionId = response.subscriptionId;
      slot.lastSeq = 0;
      loop.add(slot.subscriptionId, response.revisedPublishingInterval * response.revisedMaxKeepAliveCount);
      const indexes = Array.from({ length: slot.end - slot.first }, (_, k) => slot.first + k);
      const outcome = await createMonitoredItems(session, slot.subscriptionId, table, indexes, limits);
      slot.monitored = outcome.created;
      slot.failed = outcome.failed.length;
      report.created += outcome.created;
      report.failed.push(...outcome.failed);
      report.filterFallbacks.push(...outcome.filterFallbacks);
    }
    return report;
  }

  /**
   * Turns publishing on or off for every subscription (pause and resume). Off, the server
   * keeps sampling into each node's queue (queue_size values) and sends only keep-alives.
   */
  async setPublishing(session: UaSession, enabled: boolean): Promise<void> {
    const ids = this.slots.map((s) => s.subscriptionId).filter((id) => id !== 0);
    if (ids.length > 0) await session.setPublishingMode(enabled, ids);
  }

  /** Keeps each slot's last sequence number, so a transfer can tell what was missed. */
  remember(loop: PublishLoop): void {
    for (const slot of this.slots) if (slot.subscriptionId !== 0) slot.lastSeq = loop.lastSequence(slot.subscriptionId) || slot.lastSeq;
  }

  /** Items monitored and nodes refused, over every slot. */
  totals(): { monitored: number; failed: number } {
    let monitored = 0;
    let failed = 0;
    for (const s of this.slots) {
      monitored += s.monitored;
      failed += s.failed;
    }
    return { monitored, failed };
  }

  /** Deletes the subscriptions at the server (at stop); errors are of no use then. */
  async delete(session: UaSession): Promise<void> {
    const ids = this.slots.map((s) => s.subscriptionId).filter((id) => id !== 0);
    this.slots = [];
    if (ids.length > 0) await new Promise<void>((resolve) => session.deleteSubscriptions({ subscriptionIds: ids }, () => resolve()));
  }

  #keepAliveMs(group: number): number {
    const g = this.#config.groups[group];
    return g ? g.publishing_interval_ms * g.keep_alive_count : 0;
  }
}
