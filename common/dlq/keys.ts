/**
 * Where the dead-letter store keeps its data in Redis, under the installation's prefix P.
 * Every key carries the hash tag {dlq}, so they share one Redis Cluster slot and the store's
 * scripts may touch several of them at once.
 *
 * | key | type | holds |
 * | --- | --- | --- |
 * | P:{dlq}:entry:<id> | string | the entry as JSON, records or payload included |
 * | P:{dlq}:summaries | hash | id -> the entry's summary as JSON (no records, no payload) |
 * | P:{dlq}:index | sorted set | every id, as "<createdAtMs, 15 digits>:<id>", all scores 0 (ordered by text) |
 * | P:{dlq}:table:<table> | sorted set | the same members, for one table |
 * | P:{dlq}:stats | hash | entries, bytes, added_total, refused_total, replayed_total, deleted_total |
 */
export interface DeadLetterKeys {
  entry(id: string): string;
  summaries: string;
  index: string;
  table(table: string): string;
  stats: string;
}

export function deadLetterKeys(prefix: string): DeadLetterKeys {
  const base = `${prefix}:{dlq}`;
  return {
    entry: (id) => `${base}:entry:${id}`,
    summaries: `${base}:summaries`,
    index: `${base}:index`,
    table: (table) => `${base}:table:${table}`,
    stats: `${base}:stats`,
  };
}

const TIME_DIGITS = 15;
export const CURSOR_PATTERN = /^\d{15}:[A-Za-z0-9_-]{1,64}$/;

/** The sorted-set member of an entry: time first, so members sort oldest first; the id breaks ties. */
export function indexMember(createdAtMs: number, id: string): string {
  return `${String(createdAtMs).padStart(TIME_DIGITS, '0')}:${id}`;
}

export function idFromMember(member: string): string {
  return member.slice(TIME_DIGITS + 1);
}
