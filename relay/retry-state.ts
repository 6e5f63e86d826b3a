/**
 * The try history of a job, kept in its BullMQ progress field. The relay counts its own
 * tries: delays while a circuit is open are not tries, and BullMQ's attemptsStarted would
 * count them.
 */
export interface RetryState {
  attempts: number;
  firstFailureMs: number;
  lastFailureMs: number;
  lastError: { code: string; message: string };
}

export function readRetryState(progress: unknown): RetryState | undefined {
  if (progress === null || typeof progress !== 'object') return undefined;
  const p = progress as Partial<RetryState>;
  if (typeof p.attempts !== 'number' || typeof p.firstFailureMs !== 'number' || typeof p.lastFailureMs !== 'number') return undefined;
  return {
    attempts: p.attempts,
    firstFailureMs: p.firstFailureMs,
    lastFailureMs: p.lastFailureMs,
    lastError: { code: String(p.lastError?.code ?? 'UNKNOWN'), message: String(p.lastError?.message ?? '') },
  };
}

/** The state after one more failed try. */
export function nextRetryState(previous: RetryState | undefined, error: { code: string; message: string }, nowMs: number): RetryState {
  return {
    attempts: (previous?.attempts ?? 0) + 1,
    firstFailureMs: previous?.firstFailureMs ?? nowMs,
    lastFailureMs: nowMs,
    lastError: error,
  };
}
