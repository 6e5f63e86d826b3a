/** Exponential backoff with full jitter. Pure: the random draw is passed in. */
export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  /** Growth per attempt; 2 doubles the ceiling each time. */
  factor?: number;
}

/**
 * Delay before retry number `attempt` (1 for the first retry): a uniform draw between half
 * the exponential ceiling and the ceiling, so a fleet of clients spreads out but none
 * retries immediately.
 */
export function backoffDelayMs(policy: BackoffPolicy, attempt: number, random: number = Math.random()): number {
  const factor = policy.factor ?? 2;
  const exponent = Math.max(0, attempt - 1);
  const ceiling = Math.min(policy.maxMs, policy.initialMs * factor ** exponent);
  return Math.round(ceiling / 2 + (ceiling / 2) * random);
}
