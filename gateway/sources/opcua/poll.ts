import { AttributeIds, resolveNodeId, type ClientSession, type DataValue } from 'node-opcua-client';
import { chunks } from './ua.ts';

/** maxAge 0: the server reads the device, not a cache. */
const MAX_AGE_FRESH = 0;

export interface PollTarget {
  name: string;
  intervalMs: number;
  /** Node indexes read each cycle. */
  indexes: number[];
}

export interface PollHandlers {
  onValues(indexes: number[], values: DataValue[]): void;
  /** A cycle was skipped because the one before was still running. */
  onOverrun(group: string): void;
  onError(group: string, err: Error): void;
}

/**
 * Poll mode: every intervalMs, batched Read calls over the group's nodes (chunk nodes each).
 * A cycle that is still reading when the next is due makes that one skip (and says so) rather
 * than pile requests up on a slow server. Every value read is delivered.
 */
export class Poller {
  readonly #timers: NodeJS.Timeout[] = [];
  #stopped = false;
  /** While paused, cycles are not taken (counted in pollsPaused). */
  paused = false;
  pollsPaused = 0;

  constructor(
    private readonly session: ClientSession,
    private readonly nodeIds: readonly string[],
    private readonly chunk: number,
    private readonly handlers: PollHandlers,
  ) {}

  start(targets: PollTarget[]): void {
    for (const target of targets) {
      let busy = false;
      const cycle = async () => {
        if (this.#stopped) return;
        if (this.paused) {
          this.pollsPaused++;
          return;
        }
        if (busy) return this.handlers.onOverrun(target.name);
        busy = true;
        try {
          for (const part of chunks(target.indexes, this.chunk)) {
            const values = await this.session.read(
              part.map((i) => ({ nodeId: resolveNodeId(this.nodeIds[i] ?? ''), attributeId: AttributeIds.Value })),
              MAX_AGE_FRESH,
            );
            if (this.#stopped) return;
            this.handlers.onValues(part, values);
          }
        } catch (err) {
          if (!this.#stopped) this.handlers.onError(target.name, err as Error);
        } finally {
          busy = false;
        }
      };
      void cycle();
      this.#timers.push(setInterval(() => void cycle(), target.intervalMs));
    }
  }

  stop(): void {
    this.#stopped = true;
    for (const t of this.#timers) clearInterval(t);
    this.#timers.length = 0;
  }
}
