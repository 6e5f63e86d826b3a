/**
 * A circuit breaker for one table in one relay. Pure: every call takes the time, so tests
 * drive it with plain numbers.
 *
 * closed ──N consecutive failures──▶ open ──cool-down over, next batch is the probe──▶ half_open
 *   ▲                                  ▲                                                 │
 *   └──────────── probe succeeds ──────┼──────────────── probe fails ────────────────────┘
 *
 * Only temporary errors count as failures. A permanent refusal means the service answered,
 * which counts as a success for the circuit (the records go to the dead-letter queue).
 */
export type CircuitState = 'closed' | 'open' | 'half_open';

/** Prometheus value of each state (circuit_breaker_state). */
export const CIRCUIT_STATE_VALUE: Record<CircuitState, number> = { closed: 0, open: 1, half_open: 2 };

export interface CircuitPolicy {
  failureThreshold: number;
  cooldownMs: number;
  probeWaitMs: number;
}

/** pass: go ahead. probe: go ahead, as the one trial batch. wait: delay the batch until untilMs. */
export type Admission = { decision: 'pass' } | { decision: 'probe' } | { decision: 'wait'; untilMs: number };

export interface CircuitSnapshot {
  state: CircuitState;
  consecutiveFailures: number;
  openedAtMs: number | undefined;
  /** When the next probe may go (open), or undefined. */
  nextProbeAtMs: number | undefined;
  opens: number;
}

export class CircuitBreaker {
  readonly #policy: CircuitPolicy;
  #state: CircuitState = 'closed';
  #failures = 0;
  #openedAtMs: number | undefined;
  #probeAtMs = 0;
  #probeInFlight = false;
  #opens = 0;
  readonly #onChange: ((state: CircuitState) => void) | undefined;

  constructor(policy: CircuitPolicy, onChange?: (state: CircuitState) => void) {
    this.#policy = policy;
    this.#onChange = onChange;
  }

  get state(): CircuitState {
    return this.#state;
  }

  admit(nowMs: number): Admission {
    if (this.#state === 'closed') return { decision: 'pass' };
    if (this.#state === 'open') {
      if (nowMs < this.#probeAtMs) return { decision: 'wait', untilMs: this.#probeAtMs };
      this.#set('half_open');
    }
    if (this.#probeInFlight) return { decision: 'wait', untilMs: nowMs + this.#policy.probeWaitMs };
    this.#probeInFlight = true;
    return { decision: 'probe' };
  }

  /** A batch landed, or the service answered with a permanent refusal. */
  success(): void {
    this.#failures = 0;
    this.#probeInFlight = false;
    this.#openedAtMs = undefined;
    if (this.#state !== 'closed') this.#set('closed');
  }

  /** A batch failed with a temporary error. */
  failure(nowMs: number): void {
    this.#failures++;
    if (this.#state === 'half_open' || (this.#state === 'closed' && this.#failures >= this.#policy.failureThreshold)) {
      this.#probeInFlight = false;
      this.#openedAtMs = nowMs;
      this.#probeAtMs = nowMs + this.#policy.cooldownMs;
      this.#opens++;
      this.#set('open');
    }
  }

  /** A probe that ended without telling anything (the relay is stopping): the next batch probes. */
  release(wasProbe: boolean): void {
    if (wasProbe) this.#probeInFlight = false;
  }

  snapshot(): CircuitSnapshot {
    return {
      state: this.#state,
      consecutiveFailures: this.#failures,
      openedAtMs: this.#openedAtMs,
      nextProbeAtMs: this.#state === 'open' ? this.#probeAtMs : undefined,
      opens: this.#opens,
    };
  }

  #set(state: CircuitState): void {
    this.#state = state;
    this.#onChange?.(state);
  }
}

/**
 * When a waiting batch is tried again: the circuit's time plus up to spreadMs of jitter, so
 * a queue of waiting batches does not wake all at once. Pure: the draw is passed in.
 */
export function circuitRetryAtMs(untilMs: number, spreadMs: number, random: number): number {
  return Math.round(untilMs + spreadMs * random);
}
