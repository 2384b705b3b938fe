/**
 * The Lua scripts of the Redis store. Each state transition of a realm is one script, which Redis runs
 * atomically: no other command (from this router process or any other) runs between its check and its write.
 * ioredis sends them with EVALSHA and falls back to EVAL after a Redis restart emptied the script cache.
 *
 * Key layout of one realm (see `redis-keys.ts`); every key holds the `{realm}` hash tag, so one realm's keys
 * are in one Redis Cluster slot and a script may touch several of them:
 *   <prefix>:{realm}:r:<topic>   hash: one retained entry (fields below)
 *   <prefix>:{realm}:topics      sorted set (all scores 0): the topics of the retained entries, in byte order
 *   <prefix>:{realm}:willed      set: topics whose entry carries a will
 *   <prefix>:{realm}:w:<session> set: topics whose entry carries a will of that publisher session
 *   <prefix>:{realm}:history     stream: the event history, entry ID = `<eventId>-0`
 *   <prefix>:{realm}:event-ids   integer: the last event ID reserved (INCRBY)
 *
 * Fields of an entry hash:
 *   entry        the entry as node:v8 serialized bytes (payload, publisher, publication, event ID, time, will)
 *   publication  the publication ID in decimal (the router's "still this publication" condition for wills)
 *   will-of      the publisher session ID, present only when the entry carries a will
 *   object       '1' when the entry's value (see `valueOf`) is a plain object
 *   v:<field>    for an object value, the fingerprint of each top-level field (`redis-value-fingerprint.ts`):
 *                `when: {field: x}` holds when `v:<field>` equals the fingerprint of x, so the condition is
 *                checked here, inside the script, with plain string comparisons.
 */

/**
 * Conditional write or delete of one retained entry.
 * KEYS: 1 entry hash, 2 topics, 3 willed, 4 the wills set of the writing session.
 * ARGV: 1 topic, 2 condition kind ('' | 'absent' | 'publication' | 'contains'), 3 the publication ID of a
 * 'publication' condition or the number of field pairs of a 'contains' one, 4 the key prefix of the wills
 * sets ("<prefix>:{realm}:w:"), 5 '1' when the write deletes the key, 6 the serialized entry, 7 publication
 * ID, 8 publisher session ID, 9 '1' when the entry carries a will, 10 '1' when its value is a plain object,
 * 11 n = number of value field pairs, then n pairs (field, fingerprint), then the condition's pairs.
 * Returns {applied (1/0), the entry stored before (serialized) or nil}.
 */
export const WRITE_SCRIPT = `
local entryKey = KEYS[1]
local topic = ARGV[1]
local kind = ARGV[2]
local valuePairs = tonumber(ARGV[11])
local holds = true
if kind == 'absent' then
  holds = redis.call('EXISTS', entryKey) == 0
elseif kind == 'publication' then
  holds = redis.call('HGET', entryKey, 'publication') == ARGV[3]
elseif kind == 'contains' then
  holds = redis.call('HGET', entryKey, 'object') == '1'
  local first = 12 + 2 * valuePairs
  local conditionPairs = tonumber(ARGV[3])
  local i = 0
  while holds and i < conditionPairs do
    holds = redis.call('HGET', entryKey, 'v:' .. ARGV[first + 2 * i]) == ARGV[first + 2 * i + 1]
    i = i + 1
  end
end
local previous = redis.call('HGET', entryKey, 'entry')
if not holds then
  return {0, previous}
end

local previousWillOf = redis.call('HGET', entryKey, 'will-of')
if previousWillOf then
  redis.call('SREM', ARGV[4] .. previousWillOf, topic)
  redis.call('SREM', KEYS[3], topic)
end
redis.call('DEL', entryKey)
if ARGV[5] == '1' then
  redis.call('ZREM', KEYS[2], topic)
  return {1, previous}
end

redis.call('HSET', entryKey, 'entry', ARGV[6], 'publication', ARGV[7])
if ARGV[10] == '1' then
  redis.call('HSET', entryKey, 'object', '1')
end
-- Field fingerprints in slices, so a value with thousands of fields stays under Lua's argument limit.
local i = 0
while i < valuePairs do
  local slice = {}
  local last = math.min(valuePairs, i + 100)
  while i < last do
    slice[#slice + 1] = 'v:' .. ARGV[12 + 2 * i]
    slice[#slice + 1] = ARGV[13 + 2 * i]
    i = i + 1
  end
  redis.call('HSET', entryKey, unpack(slice))
end
if ARGV[9] == '1' then
  redis.call('HSET', entryKey, 'will-of', ARGV[8])
  redis.call('SADD', KEYS[4], topic)
  redis.call('SADD', KEYS[3], topic)
end
redis.call('ZADD', KEYS[2], 0, topic)
return {1, previous}
`;

/**
 * The entries whose topics are in a set (the wills of a session, or every entry with a will), read in one
 * atomic step. KEYS: 1 the set. ARGV: 1 the key prefix of entry hashes ("<prefix>:{realm}:r:").
 * Returns {topic, serialized entry, topic, serialized entry, ...}.
 */
export const ENTRIES_IN_SET_SCRIPT = `
local found = {}
for _, topic in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local entry = redis.call('HGET', ARGV[1] .. topic, 'entry')
  if entry then
    found[#found + 1] = topic
    found[#found + 1] = entry
  end
end
return found
`;

/**
 * Drops what the retention no longer allows from the front of the history stream: beyond the newest
 * `maxEvents`, and older than `oldestAllowed` (ms). Event IDs, and so stream IDs, grow with time, so the
 * too-old events are at the front; at most 1000 are removed per call (the rest on the next one).
 */
const TRIM_HISTORY = `
local function trimHistory(stream, maxEvents, oldestAllowed)
  redis.call('XTRIM', stream, 'MAXLEN', '=', maxEvents)
  for _ = 1, 1000 do
    local head = redis.call('XRANGE', stream, '-', '+', 'COUNT', 1)
    if #head == 0 then return end
    -- Fields in the order XADD wrote them: 'at', time, 'event', bytes.
    if tonumber(head[1][2][2]) >= oldestAllowed then return end
    redis.call('XDEL', stream, head[1][1])
  end
end
`;

/**
 * Appends one event to the history. KEYS: 1 the stream. ARGV: 1 event ID, 2 published at (ms), 3 the
 * serialized event, 4 max events, 5 oldest time allowed (ms). Fails (an error reply) if the event ID is not
 * above the last one appended: stream IDs only grow.
 */
export const APPEND_HISTORY_SCRIPT = `${TRIM_HISTORY}
redis.call('XADD', KEYS[1], ARGV[1] .. '-0', 'at', ARGV[2], 'event', ARGV[3])
trimHistory(KEYS[1], tonumber(ARGV[4]), tonumber(ARGV[5]))
return 1
`;

/**
 * The events after an event ID, oldest first, after applying the retention (as the memory store does on
 * reads). KEYS: 1 the stream. ARGV: 1 max events, 2 oldest time allowed (ms), 3 the event ID to start after,
 * 4 how many at most. Returns XRANGE's answer: {{id, {'at', time, 'event', bytes}}, ...}.
 */
export const READ_HISTORY_SCRIPT = `${TRIM_HISTORY}
trimHistory(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]))
return redis.call('XRANGE', KEYS[1], '(' .. ARGV[3] .. '-0', '+', 'COUNT', ARGV[4])
`;

/**
 * The ID of the oldest event the retention still allows, or nil. KEYS: 1 the stream. ARGV: 1 max events,
 * 2 oldest time allowed (ms).
 */
export const OLDEST_EVENT_SCRIPT = `${TRIM_HISTORY}
trimHistory(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]))
local head = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)
if #head == 0 then return false end
return head[1][1]
`;

/** How many events the retention still allows. KEYS: 1 the stream. ARGV: 1 max events, 2 oldest time allowed (ms). */
export const HISTORY_SIZE_SCRIPT = `${TRIM_HISTORY}
trimHistory(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]))
return redis.call('XLEN', KEYS[1])
`;
