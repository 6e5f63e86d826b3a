import { CircuitBreaker, type CircuitPolicy } from './breaker.ts';
import { LatencyWindow, RateWindow } from './windows.ts';

/** What this relay's worker on one table has done, for /status. */
export interface WorkerCounters {
  active: number;
  jobsCompleted: number;
  jobsRetried: number;
  jobsDelayedByCircuit: number;
  jobsReturned: number;
  recordsWritten: number;
  recordsDeadLettered: number;
  lastJobAtMs: number | undefined;
}

export interface LastError {
  code: string;
  message: string;
  atMs: number;
}

/** Everything this relay keeps in memory about one table: its circuit, windows and counters. */
export class TableState {
  readonly table: string;
  readonly breaker: CircuitBreaker;
  readonly written = new RateWindow();
  readonly ackLatency = new LatencyWindow();
  readonly counters: WorkerCounters = {
    active: 0,
    jobsCompleted: 0,
    jobsRetried: 0,
    jobsDelayedByCircuit: 0,
    jobsReturned: 0,
    recordsWritten: 0,
    recordsDeadLettered: 0,
    lastJobAtMs: undefined,
  };
  lastError: LastError | undefined;

  constructor(table: string, circuit: CircuitPolicy, onCircuitChange?: (table: string, state: CircuitBreaker['state']) => void) {
    this.table = table;
    this.breaker = new CircuitBreaker(circuit, (state) => onCircuitChange?.(table, state));
  }
}
