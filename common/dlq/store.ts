import { createHash, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { BATCH_JOB_VERSION, type BatchJob } from '../batch.ts';
import {
  deadLetterSchema,
  summarize,
  type BatchDeadLetter,
  type DeadLetter,
  type DeadLetterSummary,
  type NewDeadLetter,
} from './entry.ts';
import { DeadLetterCorruptError, DeadLetterNotFoundError, DeadLetterStoreFullError, NotReplayableError } from './errors.ts';
import { deadLetterKeys, idFromMember, indexMember, type DeadLetterKeys } from './keys.ts';
import { ADD_SCRIPT, REMOVE_SCRIPT } from './scripts.ts';

const ENTRY_KEYS = 5;
const ID_HASH_CHARS = 24;
export const MAX_LIST_LIMIT = 1_000;
/** Job ids of replayed entries: fixed per entry, so a replay that is repeated after a crash adds no second job. */
export const REPLAY_JOB_ID_PREFIX = 'dlq-replay';

export interface DeadLetterLimits {
  maxEntries: number;
  maxBytes: number;
}

export interface DeadLetterStats {
  entries: number;
  bytes: number;
  addedTotal: number;
  refusedTotal: number;
  replayedTotal: number;
  deletedTotal: number;
  maxEntries: number;
  maxBytes: number;
}

export interface DeadLetterPage {
  entries: DeadLetterSummary[];
  /** Pass back as cursor for the next page; undefined on the last page. */
  nextCursor: string | undefined;
}

/** Puts a replayed batch back on its table's queue; resolves once it is stored. */
export type ReplayEnqueue = (job: BatchJob, jobId: string) => Promise<void>;

/**
 * An entry id fixed by where the records came from (job ids are unique per table queue only),
 * so storing the same records twice is a no-op.
 */
export function batchEntryId(table: string, jobId: string, recordIndexes: number[]): string {
  return createHash('sha256').update(`${table}|${jobId}|${recordIndexes.join(',')}`).digest('base64url').slice(0, ID_HASH_CHARS);
}

/** The job a replay puts on the queue: the entry's records, as the gateway first queued them. */
export function replayJob(entry: BatchDeadLetter, nowMs: number): { job: BatchJob; jobId: string } {
  return {
    jobId: `${REPLAY_JOB_ID_PREFIX}.${entry.id}`,
    job: {
      v: BATCH_JOB_VERSION,
      table: entry.table,
      messageType: entry.messageType,
      recordType: entry.recordType,
      records: entry.records,
      gatewayId: entry.gatewayId ?? REPLAY_JOB_ID_PREFIX,
      createdAtMs: nowMs,
    },
  };
}

/**
 * Dead letters in Redis, for the relay (batches it could not land) and the gateway (payloads
 * its sources could not parse). Bounded: past max entries or max bytes, add() refuses with
 * DeadLetterStoreFullError and counts the refusal; it never evicts an older entry.
 */
export class DeadLetterStore {
  readonly #redis: Redis;
  readonly #keys: DeadLetterKeys;
  readonly #limits: DeadLetterLimits;
  readonly #now: () => number;

  constructor(options: { redis: Redis; prefix: string; limits: DeadLetterLimits; now?: () => number }) {
    this.#redis = options.redis;
    this.#keys = deadLetterKeys(options.prefix);
    this.#limits = options.limits;
    this.#now = options.now ?? Date.now;
  }

  get limits(): DeadLetterLimits {
    return { ...this.#limits };
  }

  /**
   * Stores an entry. Resolves with stored false when an entry with the same id exists (the
   * same records dead-lettered again, e.g. after a crash). Throws DeadLetterStoreFullError
   * at the bound, and a zod error naming the field for an invalid entry.
   */
  async add(input: NewDeadLetter): Promise<{ id: string; stored: boolean }> {
    const entry = deadLetterSchema.parse({ ...input, id: input.id ?? randomUUID(), createdAtMs: this.#now() });
    const json = JSON.stringify(entry);
    const member = indexMember(entry.createdAtMs, entry.id);
    const result = await this.#redis.eval(
      ADD_SCRIPT,
      ENTRY_KEYS,
      ...this.#entryKeys(entry.id, entry.table),
      entry.id,
      json,
      JSON.stringify(summarize(entry)),
      member,
      this.#limits.maxEntries,
      this.#limits.maxBytes,
    );
    if (result === -1) {
      const stats = await this.stats();
      throw new DeadLetterStoreFullError(
        `dead-letter store is full (${stats.entries} of ${this.#limits.maxEntries} entries, ${stats.bytes} of ${this.#limits.maxBytes} bytes); entry for ${entry.table} refused`,
        stats,
      );
    }
    return { id: entry.id, stored: result === 1 };
  }

  async get(id: string): Promise<DeadLetter | undefined> {
    const json = await this.#redis.get(this.#keys.entry(id));
    if (json === null) return undefined;
    return parseEntry(id, json);
  }

  /** Entries oldest first, all tables or one, limit per page (1-1000). */
  async list(options: { table?: string; limit: number; cursor?: string }): Promise<DeadLetterPage> {
    const limit = Math.max(1, Math.min(MAX_LIST_LIMIT, options.limit));
    const key = options.table ? this.#keys.table(options.table) : this.#keys.index;
    const from = options.cursor ? `(${options.cursor}` : '-';
    const members = await this.#redis.zrangebylex(key, from, '+', 'LIMIT', 0, limit + 1);
    const page = members.slice(0, limit);
    const ids = page.map(idFromMember);
    const summaries = ids.length > 0 ? await this.#redis.hmget(this.#keys.summaries, ...ids) : [];
    const entries = summaries.flatMap((json) => (json === null ? [] : [JSON.parse(json) as DeadLetterSummary]));
    return { entries, nextCursor: members.length > limit ? page[page.length - 1] : undefined };
  }

  /** Removes an entry; false when there was none. */
  delete(id: string): Promise<boolean> {
    return this.#remove(id, 'deleted_total');
  }

  /**
   * Puts a batch entry's records back on its table's queue, then removes the entry. A crash
   * in between leaves the entry and the job both; replaying again adds no second job while
   * BullMQ still holds the first (the job id is fixed per entry).
   */
  async replay(id: string, enqueue: ReplayEnqueue): Promise<{ id: string; jobId: string; table: string; records: number }> {
    const entry = await this.get(id);
    if (!entry) throw new DeadLetterNotFoundError(id);
    if (entry.kind !== 'batch') {
      throw new NotReplayableError(id, `dead letter ${id} is a raw ${entry.source} payload that never became records; there is nothing to replay. Read it, fix the source or device, then delete it.`);
    }
    const { job, jobId } = replayJob(entry, this.#now());
    await enqueue(job, jobId);
    await this.#remove(id, 'replayed_total');
    return { id, jobId, table: entry.table, records: entry.records.length };
  }

  /** Entries stored, in one table or in all. */
  async count(table?: string): Promise<number> {
    if (table) return this.#redis.zcard(this.#keys.table(table));
    return Number((await this.#redis.hget(this.#keys.stats, 'entries')) ?? 0);
  }

  async stats(): Promise<DeadLetterStats> {
    const raw = await this.#redis.hgetall(this.#keys.stats);
    const n = (field: string) => Number(raw[field] ?? 0);
    return {
      entries: n('entries'),
      bytes: n('bytes'),
      addedTotal: n('added_total'),
      refusedTotal: n('refused_total'),
      replayedTotal: n('replayed_total'),
      deletedTotal: n('deleted_total'),
      maxEntries: this.#limits.maxEntries,
      maxBytes: this.#limits.maxBytes,
    };
  }

  async #remove(id: string, counter: 'deleted_total' | 'replayed_total'): Promise<boolean> {
    const json = await this.#redis.hget(this.#keys.summaries, id);
    if (json === null) return false;
    const summary = JSON.parse(json) as DeadLetterSummary;
    const removed = await this.#redis.eval(
      REMOVE_SCRIPT,
      ENTRY_KEYS,
      ...this.#entryKeys(id, summary.table),
      id,
      indexMember(summary.createdAtMs, id),
      counter,
    );
    return removed === 1;
  }

  #entryKeys(id: string, table: string): string[] {
    return [this.#keys.entry(id), this.#keys.summaries, this.#keys.index, this.#keys.table(table), this.#keys.stats];
  }
}

function parseEntry(id: string, json: string): DeadLetter {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (err) {
    throw new DeadLetterCorruptError(id, (err as Error).message);
  }
  const parsed = deadLetterSchema.safeParse(value);
  if (!parsed.success) throw new DeadLetterCorruptError(id, parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  return parsed.data;
}
