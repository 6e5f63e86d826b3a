import { ZerobusError } from './zerobus/errors.ts';

/**
 * Finds the bad records of a batch that Zerobus refused, so the good ones still land. The
 * batch is sent again on the isolated lane (one batch in flight, so a refusal concerns only
 * it); a refused range is split in halves until each refusal is pinned to one record. Every
 * split shrinks the range and sends are capped, so it always ends. Pure apart from send().
 *
 * Zerobus lands none of a refused request, so resending the halves adds no duplicates.
 */
export interface IsolationOptions {
  /** Most sends to spend; what is left unresolved is returned as one group. */
  maxSends: number;
  /** Most record bytes one send may carry (a larger range is split before it is sent). */
  maxPayloadBytes: number;
  /** Bytes a record takes in a send, framing included. */
  sizeOf(index: number): number;
}

export interface RefusalInfo {
  code: string;
  message: string;
}

export interface RejectedGroup {
  /** Positions in the batch. */
  indexes: number[];
  error: RefusalInfo;
  /** rejected: refused for good. isolation_budget_exhausted: not pinned down before the budget ran out. */
  disposition: 'rejected' | 'isolation_budget_exhausted';
}

export interface IsolationResult {
  landed: number;
  rejected: RejectedGroup[];
  sends: number;
}

/** Sends the records at these positions; throws a ZerobusError when they do not land. */
export type RangeSender = (indexes: number[]) => Promise<void>;

/**
 * Throws the send's error when it is temporary (the whole job is retried later) or not a
 * ZerobusError. Resolves with what landed and the groups to dead-letter.
 */
export async function isolateBadRecords(count: number, send: RangeSender, o: IsolationOptions): Promise<IsolationResult> {
  const result: IsolationResult = { landed: 0, rejected: [], sends: 0 };
  // Ranges [from, to) still to settle, the next one last.
  const stack: Array<[number, number]> = count > 0 ? [[0, count]] : [];
  let lastRefusal: RefusalInfo | undefined;
  const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
  const pushHalves = (from: number, to: number) => {
    const mid = from + Math.ceil((to - from) / 2);
    stack.push([mid, to], [from, mid]);
  };

  while (stack.length > 0) {
    const [from, to] = stack.pop() as [number, number];
    const indexes = range(from, to);
    const bytes = indexes.reduce((n, i) => n + o.sizeOf(i), 0);
    if (bytes > o.maxPayloadBytes) {
      if (indexes.length === 1) {
        result.rejected.push({
          indexes,
          error: { code: 'BATCH_TOO_LARGE', message: `record ${from} takes ${bytes} bytes, more than the ${o.maxPayloadBytes}-byte call limit` },
          disposition: 'rejected',
        });
      } else {
        pushHalves(from, to);
      }
      continue;
    }
    if (result.sends >= o.maxSends) {
      const left = [indexes, ...stack.reverse().map(([f, t]) => range(f, t))].flat();
      stack.length = 0;
      result.rejected.push({
        indexes: left,
        error: {
          code: lastRefusal?.code ?? 'INVALID_ARGUMENT',
          message: `the search for bad records used its ${o.maxSends} sends; these records were not pinned down (last refusal: ${lastRefusal?.message ?? 'none'})`,
        },
        disposition: 'isolation_budget_exhausted',
      });
      break;
    }
    result.sends++;
    try {
      await send(indexes);
      result.landed += indexes.length;
    } catch (err) {
      if (!(err instanceof ZerobusError) || err.retryable) throw err;
      lastRefusal = { code: err.code, message: err.message };
      if (err.scope === 'stream') {
        // The stream itself is refused (grant, schema): every record left meets the same refusal.
        const left = [indexes, ...stack.reverse().map(([f, t]) => range(f, t))].flat();
        stack.length = 0;
        result.rejected.push({ indexes: left, error: lastRefusal, disposition: 'rejected' });
        break;
      }
      if (indexes.length === 1) result.rejected.push({ indexes, error: lastRefusal, disposition: 'rejected' });
      else pushHalves(from, to);
    }
  }
  return result;
}
