import type { Logger } from '../common/logger.ts';
import type { Protocol } from '../common/reading.ts';
import { protocolOf, type GatewayConfig, type SourceConfig } from './config.ts';
import type { GatewayEvents } from './events.ts';
import type { Pipeline } from './pipeline/pipeline.ts';
import type { SourcePlan } from './reload/diff.ts';
import { tableOf } from './reload/diff.ts';
import type { ConnectionState, Pausable, Source, SourceSpec, SourceStatus } from './sources/types.ts';

export type { Pausable } from './sources/types.ts';

/**
 * Where a source stands with the block policy: running (not asked to pause), paused, or
 * cannot_pause (asked, but it has no pause() or refused, so it keeps sending).
 */
export type SourceFlow = 'running' | 'paused' | 'cannot_pause';

export interface RunningSource {
  name: string;
  protocol: Protocol;
  table: string;
  enabled: boolean;
  config: SourceConfig;
  source?: Source;
  /** Set when a reload could not start the source. */
  failed?: { error: string; at: string };
  flow: SourceFlow;
}

export interface SourceSetOptions {
  pipeline: Pipeline;
  events: GatewayEvents;
  log: Logger;
  specs: ReadonlyArray<SourceSpec<any>>;
}

/**
 * The sources a gateway runs, by name: starts them, stops them, and applies a reload plan so
 * that a source whose settings did not change keeps its driver object and its connection.
 */
export class SourceSet {
  readonly #o: SourceSetOptions;
  readonly #running = new Map<string, RunningSource>();
  #paused = false;

  constructor(options: SourceSetOptions) {
    this.#o = options;
  }

  /** Starts every enabled source; the first that fails to start fails the whole start. */
  async startAll(config: GatewayConfig): Promise<void> {
    for (const s of config.sources) await this.#start(config, s);
  }

  /** Carries out the source part of a reload plan against the config now in effect. */
  async apply(config: GatewayConfig, plan: SourcePlan): Promise<Array<{ name: string; error: string }>> {
    const failed: Array<{ name: string; error: string }> = [];
    for (const name of [...plan.removed, ...plan.restarted]) await this.#stop(name);
    for (const name of plan.updated) {
      const entry = this.#running.get(name);
      const next = config.sources.find((s) => s.name === name);
      if (!entry || !next) continue;
      entry.config = next;
      if (entry.source) this.#o.pipeline.configureSource(name, entry.table, next.report);
    }
    // Keep the order of the file, so status lists sources as the config does.
    for (const s of config.sources) {
      if (!plan.added.includes(s.name) && !plan.restarted.includes(s.name)) continue;
      try {
        await this.#start(config, s);
      } catch (err) {
        const error = (err as Error).message;
        failed.push({ name: s.name, error });
        const entry = this.#running.get(s.name);
        if (entry) {
          entry.failed = { error, at: new Date().toISOString() };
          await entry.source?.stop().catch(() => {});
          delete entry.source;
          this.#o.pipeline.removeSource(s.name);
        }
        this.#o.log.error({ source: s.name, err }, 'A source from the reloaded configuration failed to start.');
      }
    }
    const order = config.sources.map((s) => s.name);
    const sorted = [...this.#running.entries()].sort(([a], [b]) => order.indexOf(a) - order.indexOf(b));
    this.#running.clear();
    for (const [name, entry] of sorted) this.#running.set(name, entry);
    return failed;
  }

  entries(): RunningSource[] {
    return [...this.#running.values()];
  }

  statusOf(entry: RunningSource): Omit<SourceStatus, 'state'> & { state: ConnectionState | 'disabled' | 'failed' } {
    if (entry.failed) return { state: 'failed', lastError: entry.failed.error, lastErrorAt: entry.failed.at };
    return entry.source?.status() ?? { state: 'disabled' };
  }

  /** The block policy engaged (true) or let go (false): tells every driver that can pause. */
  setPaused(paused: boolean): void {
    this.#paused = paused;
    for (const entry of this.#running.values()) this.#flow(entry, paused);
  }

  /** Stops every source. Safe twice. */
  async stopAll(): Promise<void> {
    await Promise.allSettled([...this.#running.keys()].map((name) => this.#stop(name)));
  }

  async #start(config: GatewayConfig, s: SourceConfig): Promise<void> {
    const protocol = protocolOf(s);
    const table = tableOf(config, s);
    const spec = this.#o.specs.find((p) => p.protocol === protocol);
    if (!spec) throw new Error(`no source plugin for protocol ${protocol}`);
    const entry: RunningSource = { name: s.name, protocol, table, enabled: s.enabled, config: s, flow: 'running' };
    this.#running.set(s.name, entry);
    if (!s.enabled) return;
    const source = spec.create(s.name, (s as Record<string, unknown>)[protocol]);
    entry.source = source;
    this.#o.pipeline.configureSource(s.name, table, s.report);
    await source.start(this.#o.pipeline.contextFor(s.name, this.#o.log.child({ source: s.name, protocol })));
    if (this.#paused) this.#flow(entry, true);
    this.#o.events.emit('sourceAdded', {
      name: s.name,
      protocol,
      table,
      status: () => source.status(),
      ...(source.write ? { write: (tag, value) => source.write!(tag, value) } : {}),
    });
  }

  async #stop(name: string): Promise<void> {
    const entry = this.#running.get(name);
    this.#running.delete(name);
    if (!entry?.source) return;
    try {
      await entry.source.stop();
    } finally {
      this.#o.pipeline.removeSource(name);
      this.#o.events.emit('sourceRemoved', name);
    }
  }

  #flow(entry: RunningSource, paused: boolean): void {
    const source = entry.source as (Source & Partial<Pausable>) | undefined;
    if (!source) return;
    if (!paused) {
      const was = entry.flow;
      entry.flow = 'running';
      if (was !== 'paused' || !source.resume) return;
      try {
        source.resume();
      } catch (err) {
        this.#o.log.warn({ err, source: entry.name }, 'A source failed to resume.');
      }
      return;
    }
    if (entry.flow !== 'running') return;
    let result: boolean | void = false;
    if (source.pause && source.resume) {
      try {
        result = source.pause();
      } catch (err) {
        this.#o.log.warn({ err, source: entry.name }, 'A source failed to pause.');
        result = false;
      }
    }
    entry.flow = result === false ? 'cannot_pause' : 'paused';
    // A driver that refuses logs why itself; one without pause() is named here.
    if (!source.pause) {
      this.#o.log.warn(
        { source: entry.name, protocol: entry.protocol },
        'A source cannot pause; it keeps sending, and what the full queue cannot take is dropped (reason blocked).',
      );
    }
  }
}
