const POLL_INTERVAL_MS = 20;
const DEFAULT_DEADLINE_MS = 10_000;

/**
 * Polls until check() returns a value other than undefined/false, or throws after the deadline
 * with the description and the last value seen. For events a test cannot subscribe to.
 */
export async function until<T>(description: string, check: () => T | undefined | false | Promise<T | undefined | false>, deadlineMs = DEFAULT_DEADLINE_MS): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
      last = value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${deadlineMs} ms waiting for ${description} (last: ${String(last)})`);
    await new Promise((r) => setTimeout(r, POLL_INTERVAL_MS));
  }
}
