import { setTimeout as sleep } from 'node:timers/promises';
import type { DataValue, MonitoredItemNotification, OPCUAClient, UserIdentityInfo } from 'node-opcua-client';
import { backoffDelayMs } from '../../../common/backoff.ts';
import type { Logger } from '../../../common/logger.ts';
import { nowUs, type ReadingValue } from '../../../common/reading.ts';
import type { ConnectionState, Pausable, Source, SourceContext, SourceStatus } from '../types.ts';
import type { OpcuaConfig } from './config.ts';
import { connect, loadUserIdentity } from './connection.ts';
import { DataTypeResolver } from './datatypes.ts';
import { UntrustedServerError } from './errors.ts';
import { bareTags, readMetadata } from './metadata.ts';
import type { NodeTable } from './nodes.ts';
import { openPki, type Pki } from './pki.ts';
import { Poller } from './poll.ts';
import { PublishLoop, serviceResultOf, SESSION_GONE } from './publish.ts';
import { isRejection, toReading, type DataValueLike } from './reading.ts';
import { MAX_NAMED, reportMonitoring, reportResolution } from './report.ts';
import { groupName, resolveNodes } from './resolve.ts';
import { SubscriptionSet } from './subscriptions.ts';
import { readLimits, type Limits, type UaSession } from './ua.ts';
import { writeThrough } from './write.ts';

/** Longest a graceful close (delete subscriptions, close session, channel) may take at stop. */
export const OPCUA_STOP_TIMEOUT_MS = 5_000;
/** Without any Publish response for this many keep-alive periods, the connection is taken as dead. */
const SILENT_KEEP_ALIVES = 3;
const WATCHDOG_MIN_CHECK_MS = 1_000;

/** What the source did, for status, tests and the benchmark. */
export interface OpcuaStats {
  nodes: number;
  monitored: number;
  polled: number;
  failedNodes: number;
  filterFallbacks: number;
  subscriptions: number;
  notifications: number;
  sessions: number;
  transferred: number;
  recreated: number;
  republishedMessages: number;
  lostMessages: number;
}

interface Live {
  client: OPCUAClient;
  session: UaSession;
  limits: Limits;
  types: DataTypeResolver;
}

/**
 * One OPC UA server: connects (with security and a user identity), resolves the configured
 * nodes, declares their tags, subscribes (or polls) and turns every value into a reading.
 * Reconnects by itself with exponential backoff; after a reconnect the subscriptions are
 * transferred to the new session, or created again when the server lost them.
 */
export class OpcuaSource implements Source, Pausable {
  readonly #name: string;
  readonly #config: OpcuaConfig;
  readonly #subs: SubscriptionSet;
  #ctx: SourceContext | undefined;
  #log: Logger | undefined;
  #pki: Pki | undefined;
  #identity: UserIdentityInfo | undefined;
  #table: NodeTable | undefined;
  #live: Live | undefined;
  #state: ConnectionState = 'stopped';
  #lastError: string | undefined;
  #lastErrorAt: string | undefined;
  #loggedError: string | undefined;
  #running: Promise<void> | undefined;
  #stopping = false;
  #wake = new AbortController();
  #endSession: ((reason: string) => void) | undefined;
  /** Configured nodes the last resolution did not find. */
  #notFound = 0;
  /** The first nodes not read, "<node> (<status>)", for status details. */
  #notReadNames: string[] = [];
  #paused = false;
  #poller: Poller | undefined;
  readonly #stats: OpcuaStats = { nodes: 0, monitored: 0, polled: 0, failedNodes: 0, filterFallbacks: 0, subscriptions: 0, notifications: 0, sessions: 0, transferred: 0, recreated: 0, republishedMessages: 0, lostMessages: 0 };

  constructor(name: string, config: OpcuaConfig) {
    this.#name = name;
    this.#config = config;
    this.#subs = new SubscriptionSet(config);
  }

  async start(ctx: SourceContext): Promise<void> {
    if (this.#running || this.#stopping) return;
    this.#ctx = ctx;
    this.#log = ctx.log.child({ endpointUrl: this.#config.endpoint_url });
    this.#state = 'connecting';
    // Files and folders are checked now: a missing certificate stops start-up with its path.
    this.#pki = await openPki(this.#config.security, this.#log);
    this.#identity = await loadUserIdentity(this.#config);
    this.#running = this.#run();
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    this.#wake.abort();
    this.#endSession?.('stopping');
    // A connect in progress cannot be cancelled; it closes by itself once it returns.
    await Promise.race([this.#running, sleep(OPCUA_STOP_TIMEOUT_MS)]);
    if (this.#state !== 'stopped') this.#log?.info('Disconnected from OPC UA server.');
    this.#state = 'stopped';
  }

  status(): SourceStatus {
    return {
      state: this.#state,
      ...(this.#lastError !== undefined ? { lastError: this.#lastError, lastErrorAt: this.#lastErrorAt } : {}),
      details: { ...this.#stats, notRead: this.#notReadNames, paused: this.#paused, pollsPaused: this.#poller?.pollsPaused ?? 0 },
    };
  }

  /**
   * Backpressure from the gateway (queue policy block): publishing is turned off on every
   * subscription, so the server holds each node's last queue_size changes and sends only
   * keep-alives; poll groups skip their cycles. Nothing is lost unless a node changes more
   * than queue_size times while paused (the server then drops the oldest and flags the next
   * value with the Overflow bit, which the reading's quality keeps).
   */
  pause(): boolean {
    if (this.#paused) return true;
    this.#paused = true;
    this.#log?.info('Paused reading: publishing is off, the server queues each node\'s changes (queue_size).');
    void this.#applyFlow();
    return true;
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#log?.info('Resumed reading.');
    void this.#applyFlow();
  }

  /** Brings the live session's subscriptions and poll groups in line with the paused flag. */
  async #applyFlow(): Promise<void> {
    if (this.#poller) this.#poller.paused = this.#paused;
    const live = this.#live;
    if (!live) return;
    try {
      await this.#subs.setPublishing(live.session, !this.#paused);
    } catch (err) {
      // A lost session is set up again with the flag in force.
      this.#log?.warn({ err: (err as Error).message, paused: this.#paused }, 'Could not change the publishing mode of the subscriptions.');
    }
  }

  stats(): OpcuaStats {
    return { ...this.#stats };
  }

  async write(tag: string, value: ReadingValue): Promise<void> {
    await writeThrough(this.#table, this.#state === 'connected' ? this.#live : undefined, tag, value);
    this.#log?.info({ tag }, 'Wrote a value through to the OPC UA server.');
  }

  async #run(): Promise<void> {
    let attempt = 0;
    while (!this.#stopping) {
      this.#state = 'connecting';
      let ready = false;
      try {
        ready = await this.#serveOneSession();
      } catch (err) {
        if (!this.#stopping) this.#recordError(err as Error);
      }
      if (this.#stopping) break;
      attempt = ready ? 1 : attempt + 1;
      const delayMs = backoffDelayMs({ initialMs: this.#config.reconnect.initial_delay_ms, maxMs: this.#config.reconnect.max_delay_ms }, attempt);
      this.#state = 'disconnected';
      this.#log?.debug({ attempt, delayMs }, 'Waiting before reconnecting to OPC UA server.');
      await sleep(delayMs, undefined, { signal: this.#wake.signal }).catch(() => undefined);
    }
  }

  /** One session from connect to loss. Resolves true when it got as far as reading data. */
  async #serveOneSession(): Promise<boolean> {
    const log = this.#log as Logger;
    const { client, session } = await connect(this.#config, this.#pki as Pki, this.#identity as UserIdentityInfo, this.#name, log);
    if (this.#stopping) {
      await this.#close(client, session);
      return false;
    }
    this.#stats.sessions++;
    let endSession!: (reason: string) => void;
    const ended = new Promise<string>((resolve) => (endSession = resolve));
    this.#endSession = endSession;
    client.on('close', (err?: Error | null) => endSession(err ? `connection closed: ${err.message}` : 'connection closed'));
    client.on('connection_lost', () => endSession('connection lost'));
    session.on('session_closed', (status) => endSession(`session closed: ${String(status)}`));
    session.on('keepalive_failure', () => endSession('the session keep-alive failed'));
    const loop = new PublishLoop(session, {
      onDataChange: (_id, items) => this.#onItems(items),
      // GoodSubscriptionTransferred is the old session's notice of a transfer: news, not an end.
      onSubscriptionStatus: (id, status) => (status.isBad() ? endSession(`the server ended subscription ${id}: ${status.name}`) : log.info({ subscriptionId: id, status: status.name }, 'The server changed the state of a subscription.')),
      onSessionLost: (reason) => endSession(reason),
      onLost: (id, messages, reason) => {
        this.#stats.lostMessages += messages;
        log.error({ subscriptionId: id, messages, reason }, 'Notification messages were lost; their values are missing.');
      },
      onRepublished: (id, messages) => {
        this.#stats.republishedMessages += messages;
        log.info({ subscriptionId: id, messages }, 'Fetched missed notification messages again (Republish).');
      },
    });
    let poller: Poller | undefined;
    let watchdog: NodeJS.Timeout | undefined;
    try {
      const limits = await readLimits(session, this.#config);
      const live: Live = { client, session, limits, types: new DataTypeResolver(session, limits.browse) };
      this.#live = live;
      await this.#subscribe(live, loop);
      if (this.#stopping) return true;
      poller = this.#startPolling(live, endSession);
      this.#poller = poller;
      // Transferred subscriptions keep the mode they had; a pause may have come meanwhile.
      await this.#applyFlow();
      watchdog = this.#watch(loop, endSession);
      this.#state = 'connected';
      this.#loggedError = undefined;
      log.info({ nodes: this.#stats.nodes, monitored: this.#stats.monitored, polled: this.#stats.polled, subscriptions: this.#subs.slots.length }, 'Connected to OPC UA server; reading.');
      const reason = await ended;
      if (!this.#stopping) {
        this.#setError(reason);
        log.warn({ reason }, 'Lost the OPC UA session; reconnecting.');
      }
      return true;
    } finally {
      clearInterval(watchdog);
      poller?.stop();
      this.#poller = undefined;
      this.#subs.remember(loop);
      loop.stop();
      this.#live = undefined;
      this.#endSession = undefined;
      await this.#close(client, session);
    }
  }

  /** Transfers the subscriptions to the new session; resolves and creates what the server lost. */
  async #subscribe(live: Live, loop: PublishLoop): Promise<void> {
    const log = this.#log as Logger;
    let toCreate = undefined;
    let missingNames: string[] = [];
    if (this.#table && this.#subs.slots.length > 0) {
      const { transferred, lost } = await this.#subs.transfer(live.session, loop);
      this.#stats.transferred += transferred;
      if (transferred > 0) {
        log.info({ transferred, recreating: lost.length }, 'Transferred subscriptions to the new session.');
        toCreate = lost;
      }
    }
    if (toCreate === undefined) {
      const resolution = await resolveNodes(live.session, this.#config, live.limits, live.types);
      const missing = reportResolution(resolution, log);
      missingNames = resolution.problems.map((p) => `${p.what} (${p.reason})`);
      const table = resolution.table;
      if (!table.sameNodesAs(this.#table) || !this.#table) {
        const tags = this.#config.read_metadata ? await readMetadata(live.session, table, live.limits, live.types) : bareTags(table);
        this.#table = table;
        this.#ctx?.describe(tags);
      }
      this.#subs.plan(this.#table);
      toCreate = this.#subs.slots;
      this.#stats.nodes = this.#table.size;
      this.#notFound = resolution.problems.length;
      if (missing) this.#setError(missing);
    } else if (toCreate.length > 0) this.#stats.recreated += toCreate.length;
    const table = this.#table as NodeTable;
    const report = await this.#subs.create(live.session, loop, table, live.limits, toCreate, !this.#paused);
    const totals = this.#subs.totals();
    this.#stats.monitored = totals.monitored;
    this.#stats.failedNodes = this.#notFound + totals.failed;
    this.#stats.filterFallbacks += report.filterFallbacks.length;
    this.#stats.subscriptions = this.#subs.slots.length;
    const notMonitored = reportMonitoring(report, table, log);
    if (notMonitored) this.#setError(notMonitored);
    if (toCreate === this.#subs.slots) this.#notReadNames = [];
    const names = [...missingNames, ...report.failed.map((f) => `${table.nodeIds[f.index] ?? f.index} (${f.status})`)];
    this.#notReadNames = [...this.#notReadNames, ...names].slice(0, MAX_NAMED);
  }

  #startPolling(live: Live, endSession: (reason: string) => void): Poller | undefined {
    const table = this.#table as NodeTable;
    const targets = this.#config.groups.flatMap((g, i) => (g.mode === 'poll' ? [{ name: groupName(this.#config, i), intervalMs: g.poll_interval_ms, indexes: table.indexesOfGroup(i) }] : []));
    this.#stats.polled = targets.reduce((n, t) => n + t.indexes.length, 0);
    if (targets.length === 0) return undefined;
    const log = this.#log as Logger;
    let overruns = 0;
    const poller = new Poller(live.session, table.nodeIds, live.limits.read, {
      onValues: (indexes, values) => this.#onPolled(indexes, values),
      onOverrun: (group) => {
        if (overruns++ === 0) log.warn({ group }, 'A poll cycle took longer than poll_interval_ms; cycles are skipped while it runs.');
      },
      onError: (group, err) => {
        // No answer, or an answer that says the session is gone: reconnect rather than poll into the void.
        const status = serviceResultOf(err);
        if (!status || SESSION_GONE.has(status.value)) endSession(`poll of group ${group} failed: ${status?.name ?? err.message}`);
        else log.warn({ group, err: status.name }, 'A poll cycle failed; the next one tries again.');
      },
    });
    poller.start(targets);
    return poller;
  }

  /** Ends a session whose server has gone quiet: no Publish response, not even a keep-alive. */
  #watch(loop: PublishLoop, endSession: (reason: string) => void): NodeJS.Timeout | undefined {
    const periods = this.#config.groups.filter((g) => g.mode === 'subscription').map((g) => g.publishing_interval_ms * g.keep_alive_count);
    if (periods.length === 0) return undefined;
    const silenceMs = Math.max(...periods) * SILENT_KEEP_ALIVES + this.#config.request_timeout_ms;
    return setInterval(() => {
      if (Date.now() - loop.lastResponseAt > silenceMs) endSession(`no Publish response for ${silenceMs} ms`);
    }, Math.max(WATCHDOG_MIN_CHECK_MS, Math.floor(silenceMs / SILENT_KEEP_ALIVES)));
  }

  #onItems(items: MonitoredItemNotification[]): void {
    const table = this.#table;
    const ctx = this.#ctx;
    if (!table || !ctx) return;
    const receivedUs = nowUs();
    for (const item of items) {
      const index = item.clientHandle - 1;
      if (index < 0 || index >= table.size) continue;
      this.#deliver(ctx, table, index, item.value, receivedUs);
    }
  }

  #onPolled(indexes: number[], values: DataValue[]): void {
    const table = this.#table;
    const ctx = this.#ctx;
    if (!table || !ctx) return;
    const receivedUs = nowUs();
    indexes.forEach((index, k) => {
      const value = values[k];
      if (value) this.#deliver(ctx, table, index, value, receivedUs);
    });
  }

  #deliver(ctx: SourceContext, table: NodeTable, index: number, value: DataValueLike, receivedUs: number): void {
    const result = toReading(this.#name, table, index, value, receivedUs);
    this.#stats.notifications++;
    if (isRejection(result)) ctx.reject(result);
    else ctx.emit(result);
  }

  async #close(client: OPCUAClient, session: UaSession): Promise<void> {
    const close = async () => {
      if (this.#stopping) {
        await this.#subs.delete(session);
        await session.close(true).catch(() => undefined);
      }
      await client.disconnect();
    };
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, OPCUA_STOP_TIMEOUT_MS)));
    try {
      await Promise.race([close().catch(() => undefined), timeout]);
    } finally {
      clearTimeout(timer);
      client.removeAllListeners();
    }
  }

  /** Logs a connection error unless it repeats the one last logged, so a long outage logs once. */
  #recordError(err: Error): void {
    const message = err.message.split('\n')[0] ?? err.message;
    this.#setError(message);
    if (message === this.#loggedError) return;
    this.#loggedError = message;
    if (err instanceof UntrustedServerError) {
      this.#log?.error(
        { rejectedFile: err.rejectedFile, trustedFolder: err.trustedFolder, status: err.status },
        'The OPC UA server certificate is not trusted; refusing to connect. To trust it, move the rejected file into the trusted folder.',
      );
      return;
    }
    this.#log?.warn({ error: message }, 'OPC UA connection failed; retrying with backoff.');
  }

  #setError(message: string): void {
    this.#lastError = message;
    this.#lastErrorAt = new Date().toISOString();
  }
}
