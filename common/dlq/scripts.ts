/**
 * The store's writes, as Lua so each one is atomic: a reader never sees an entry without its
 * index members, and the size counters always match what is stored.
 */

/**
 * KEYS: entry, summaries, index, table index, stats.
 * ARGV: id, entry JSON, summary JSON, index member, max entries, max bytes.
 * Returns 1 when stored, 0 when the id already exists (nothing changes), -1 when the store is
 * full (refused_total counts it; nothing is evicted).
 */
export const ADD_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local size = string.len(ARGV[2]) + string.len(ARGV[3])
local entries = tonumber(redis.call('HGET', KEYS[5], 'entries') or '0')
local bytes = tonumber(redis.call('HGET', KEYS[5], 'bytes') or '0')
if entries + 1 > tonumber(ARGV[5]) or bytes + size > tonumber(ARGV[6]) then
  redis.call('HINCRBY', KEYS[5], 'refused_total', 1)
  return -1
end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
redis.call('ZADD', KEYS[3], 0, ARGV[4])
redis.call('ZADD', KEYS[4], 0, ARGV[4])
redis.call('HINCRBY', KEYS[5], 'entries', 1)
redis.call('HINCRBY', KEYS[5], 'bytes', size)
redis.call('HINCRBY', KEYS[5], 'added_total', 1)
return 1
`;

/**
 * KEYS: entry, summaries, index, table index, stats.
 * ARGV: id, index member, the stats counter to count the removal in (deleted_total or replayed_total).
 * Returns 1 when removed, 0 when there was no such entry.
 */
export const REMOVE_SCRIPT = `
local json = redis.call('GET', KEYS[1])
if not json then return 0 end
local summary = redis.call('HGET', KEYS[2], ARGV[1]) or ''
local size = string.len(json) + string.len(summary)
redis.call('DEL', KEYS[1])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[2])
redis.call('ZREM', KEYS[4], ARGV[2])
redis.call('HINCRBY', KEYS[5], 'entries', -1)
redis.call('HINCRBY', KEYS[5], 'bytes', -size)
redis.call('HINCRBY', KEYS[5], ARGV[3], 1)
return 1
`;
