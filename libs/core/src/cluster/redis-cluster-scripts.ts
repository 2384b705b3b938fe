/**
 * The Lua scripts of the Redis backplane: every state transition of the cluster is one script, which Redis
 * runs atomically, so every router process sees the same order of events, retained writes and hand-offs.
 * Time comes from Redis (`TIME`), never from a router's clock: leases do not depend on clocks agreeing.
 *
 * Keys beyond the store's (`retained/redis-scripts.ts`), for a realm with base `<prefix>:{realm}:`:
 *   <base>q:<topic>         list: publishes parked by `watch` on the topic, oldest first (msgpack write specs)
 *   <base>qs:<session>      set: topics where that session has parked publishes
 *   <base>sessions          hash: session ID → the session's node and details (msgpack), cluster-wide
 *   <base>ns:<node>         set: session IDs of a node instance
 *   <base>callees           hash: callee field (`<node>|<session>|<match>|<uri>`) → its registration (JSON)
 *   <base>nc:<node>         set: callee fields of a node instance
 *   <base>regs              hash: `<match>|<uri>` → "<invocation policy> <callee count>"
 *   <base>conf              hash: the realm's history retention (max-events, max-age)
 *   <base>mqtt              hash: MQTT client ID → the node holding its session
 *   <base>shares            hash: `<node>|<shared subscription key>` → 1, for each node with members of it
 *   <base>nsh:<node>        set: the shares fields of a node instance
 * Global keys: <prefix>:nodes (sorted set: node instance → lease expiry, ms), <prefix>:realms (set).
 * Channels: <base>ev (events: "<eventId> <event bytes>"), <base>ctl (registry changes), <base>n:<node>
 * (messages for one node instance: applied parked publishes, forwarded calls), <prefix>:cluster (node departures: "DOWN <node>").
 *
 * A write spec (msgpack map, built by `cluster-write.ts`):
 *   t topic · k condition kind ('' | 'absent' | 'publication' | 'contains') · ca publication ID of a
 *   'publication' condition · cp condition pairs {field, fingerprint, ...} · d deletes the entry · e the
 *   entry's bytes · p publication ID · s publisher session ID · wl the will's own write spec (msgpack) ·
 *   o the value is a plain object · vf value field pairs {field, fingerprint, ...} · m the event's bytes ·
 *   h '1' to keep the event in the history · n node instance · q the parked publish's ID (with `watch`).
 *
 * Not for Redis Cluster: scripts reach keys of several realms and the global keys (one Redis, or a
 * Sentinel-managed primary).
 */
const PRELUDE = `
local P = ARGV[1]
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)

local function leaseLost(node)
  local lease = redis.call('ZSCORE', P .. ':nodes', node)
  return (not lease) or tonumber(lease) < now
end

local function trimHistory(stream, maxEvents, oldestAllowed)
  redis.call('XTRIM', stream, 'MAXLEN', '=', maxEvents)
  for _ = 1, 1000 do
    local head = redis.call('XRANGE', stream, '-', '+', 'COUNT', 1)
    if #head == 0 then return end
    if tonumber(head[1][2][2]) >= oldestAllowed then return end
    redis.call('XDEL', stream, head[1][1])
  end
end

-- One event of the realm: the next event ID, the history (unless h is empty), the fan-out to every node.
local function emit(B, message, keep)
  local id = redis.call('INCR', B .. 'event-ids')
  if keep == '1' then
    local conf = redis.call('HMGET', B .. 'conf', 'max-events', 'max-age')
    local maxEvents = tonumber(conf[1]) or 1000
    if maxEvents > 0 then
      redis.call('XADD', B .. 'history', id .. '-0', 'at', now, 'event', message)
      trimHistory(B .. 'history', maxEvents, now - (tonumber(conf[2]) or 3600000))
    end
  end
  redis.call('PUBLISH', B .. 'ev', id .. ' ' .. message)
  return id
end

local function holds(B, w)
  local entryKey = B .. 'r:' .. w.t
  local kind = w.k
  if kind == 'absent' then return redis.call('EXISTS', entryKey) == 0 end
  if kind == 'publication' then return redis.call('HGET', entryKey, 'publication') == w.ca end
  if kind == 'contains' then
    if redis.call('HGET', entryKey, 'object') ~= '1' then return false end
    local expected = w.cp or {}
    for i = 1, #expected, 2 do
      if redis.call('HGET', entryKey, 'v:' .. expected[i]) ~= expected[i + 1] then return false end
    end
  end
  return true
end

-- Applies a write whose condition holds: the entry, its will, the event. Returns the event ID.
local function apply(B, w)
  local topic = w.t
  local entryKey = B .. 'r:' .. topic
  local previousWillOf = redis.call('HGET', entryKey, 'will-of')
  if previousWillOf then
    redis.call('SREM', B .. 'w:' .. previousWillOf, topic)
    redis.call('SREM', B .. 'willed', topic)
  end
  redis.call('DEL', entryKey)
  local id = emit(B, w.m, w.h)
  if w.d then
    redis.call('ZREM', B .. 'topics', topic)
    return id
  end
  redis.call('HSET', entryKey, 'entry', w.e, 'publication', w.p, 'event-id', id)
  if w.o then redis.call('HSET', entryKey, 'object', '1') end
  local fields = w.vf or {}
  local i = 1
  while i <= #fields do
    local slice = {}
    local last = math.min(#fields, i + 199)
    while i <= last do
      slice[#slice + 1] = 'v:' .. fields[i]
      slice[#slice + 1] = fields[i + 1]
      i = i + 2
    end
    redis.call('HSET', entryKey, unpack(slice))
  end
  if w.wl then
    redis.call('HSET', entryKey, 'will-of', w.s, 'will-write', w.wl)
    redis.call('SADD', B .. 'w:' .. w.s, topic)
    redis.call('SADD', B .. 'willed', topic)
  end
  redis.call('ZADD', B .. 'topics', 0, topic)
  return id
end

-- After a change of the topic: the first parked publish (in arrival order) whose condition now holds wins,
-- is applied, and its node is told; repeated until none holds. Exactly one winner per change.
local function handOff(B, topic)
  local queue = B .. 'q:' .. topic
  while true do
    local chosen, chosenItem
    for _, item in ipairs(redis.call('LRANGE', queue, 0, -1)) do
      local waiter = cmsgpack.unpack(item)
      if holds(B, waiter) then
        chosen = waiter
        chosenItem = item
        break
      end
    end
    if not chosen then return end
    redis.call('LREM', queue, 1, chosenItem)
    local id = apply(B, chosen)
    redis.call('PUBLISH', B .. 'n:' .. chosen.n, 'W ' .. chosen.q .. ' ' .. id)
  end
end

-- A session is over: its parked publishes go, its wills fire (each only while the entry is still its write).
local function eraseSession(B, node, session)
  for _, topic in ipairs(redis.call('SMEMBERS', B .. 'qs:' .. session)) do
    local queue = B .. 'q:' .. topic
    for _, item in ipairs(redis.call('LRANGE', queue, 0, -1)) do
      if cmsgpack.unpack(item).s == session then redis.call('LREM', queue, 1, item) end
    end
  end
  redis.call('DEL', B .. 'qs:' .. session)
  local fired = 0
  for _, topic in ipairs(redis.call('SMEMBERS', B .. 'w:' .. session)) do
    local entryKey = B .. 'r:' .. topic
    if redis.call('HGET', entryKey, 'will-of') == session then
      apply(B, cmsgpack.unpack(redis.call('HGET', entryKey, 'will-write')))
      handOff(B, topic)
      fired = fired + 1
    end
  end
  redis.call('DEL', B .. 'w:' .. session)
  redis.call('HDEL', B .. 'sessions', session)
  redis.call('SREM', B .. 'ns:' .. node, session)
  return fired
end

local function dropCallee(B, field)
  if redis.call('HDEL', B .. 'callees', field) == 0 then return end
  local key = string.match(field, '^[^|]*|[^|]*|(.*)$')
  local current = redis.call('HGET', B .. 'regs', key)
  if current then
    local policy, count = string.match(current, '^(%S+) (%d+)$')
    if tonumber(count) <= 1 then redis.call('HDEL', B .. 'regs', key)
    else redis.call('HSET', B .. 'regs', key, policy .. ' ' .. (tonumber(count) - 1)) end
  end
  redis.call('PUBLISH', B .. 'ctl', 'R- ' .. field)
end

-- Everything a node instance held in every realm: sessions (wills fire), parked publishes, callees.
local function retire(node)
  for _, realm in ipairs(redis.call('SMEMBERS', P .. ':realms')) do
    local B = P .. ':{' .. realm .. '}:'
    for _, session in ipairs(redis.call('SMEMBERS', B .. 'ns:' .. node)) do eraseSession(B, node, session) end
    redis.call('DEL', B .. 'ns:' .. node)
    for _, field in ipairs(redis.call('SMEMBERS', B .. 'nc:' .. node)) do dropCallee(B, field) end
    redis.call('DEL', B .. 'nc:' .. node)
    for _, field in ipairs(redis.call('SMEMBERS', B .. 'nsh:' .. node)) do
      redis.call('HDEL', B .. 'shares', field)
      redis.call('PUBLISH', B .. 'ctl', 'S- ' .. field)
    end
    redis.call('DEL', B .. 'nsh:' .. node)
  end
  redis.call('ZREM', P .. ':nodes', node)
  redis.call('PUBLISH', P .. ':cluster', 'DOWN ' .. node)
end
`;

const FENCE = `
if leaseLost(ARGV[3]) then return redis.error_reply('FENCED this router node lost its cluster lease') end
`;

/** A plain publication. ARGV: 1 prefix, 2 realm base, 3 node, 4 event bytes, 5 '1' to keep it in the history. Returns its event ID. */
export const CLUSTER_PUBLISH = `${PRELUDE}${FENCE}
return emit(ARGV[2], ARGV[4], ARGV[5])
`;

/**
 * A retained or conditional publication. ARGV: 1 prefix, 2 realm base, 3 node, 4 the write spec.
 * Returns {1, event ID} when applied; {0, entry bytes or nil} when the condition does not hold; {2, entry
 * bytes or nil} when it does not hold and the publish was parked (`watch`).
 */
export const CLUSTER_WRITE = `${PRELUDE}${FENCE}
local B = ARGV[2]
local w = cmsgpack.unpack(ARGV[4])
if not holds(B, w) then
  local current = redis.call('HGET', B .. 'r:' .. w.t, 'entry')
  if w.q then
    redis.call('RPUSH', B .. 'q:' .. w.t, ARGV[4])
    redis.call('SADD', B .. 'qs:' .. w.s, w.t)
    return {2, current}
  end
  return {0, current}
end
local id = apply(B, w)
handOff(B, w.t)
return {1, id}
`;

/** A session joined. ARGV: 1 prefix, 2 realm base, 3 node, 4 session ID, 5 its details (msgpack). */
export const CLUSTER_SESSION_JOIN = `${PRELUDE}${FENCE}
redis.call('HSET', ARGV[2] .. 'sessions', ARGV[4], ARGV[5])
redis.call('SADD', ARGV[2] .. 'ns:' .. ARGV[3], ARGV[4])
return 1
`;

/**
 * A session left: its wills fire, its parked publishes go. Not fenced: a node that lost its lease still
 * ends its sessions, and each will fires at most once whoever runs this (the entry must still be its write).
 * ARGV: 1 prefix, 2 realm base, 3 node, 4 session ID. Returns the number of wills fired.
 */
export const CLUSTER_SESSION_LEAVE = `${PRELUDE}
return eraseSession(ARGV[2], ARGV[3], ARGV[4])
`;

/**
 * A callee registered. ARGV: 1 prefix, 2 realm base, 3 node, 4 `<match>|<uri>`, 5 invocation policy, 6 callee
 * field, 7 the registration (JSON). Returns {1} or {0, the policy already registered} (`single` conflicts
 * with anything, other policies only with a different one).
 */
export const CLUSTER_REGISTER = `${PRELUDE}${FENCE}
local B = ARGV[2]
local policy = ARGV[5]
-- The same callee confirmed twice (a retry): nothing changes.
if redis.call('HEXISTS', B .. 'callees', ARGV[6]) == 1 then return {1} end
local current = redis.call('HGET', B .. 'regs', ARGV[4])
if current then
  local registered, count = string.match(current, '^(%S+) (%d+)$')
  if registered == 'single' or policy == 'single' or registered ~= policy then return {0, registered} end
  redis.call('HSET', B .. 'regs', ARGV[4], policy .. ' ' .. (tonumber(count) + 1))
else
  redis.call('HSET', B .. 'regs', ARGV[4], policy .. ' 1')
end
redis.call('HSET', B .. 'callees', ARGV[6], ARGV[7])
redis.call('SADD', B .. 'nc:' .. ARGV[3], ARGV[6])
redis.call('PUBLISH', B .. 'ctl', 'R+ ' .. ARGV[7])
return {1}
`;

/** A callee unregistered (or its session left). ARGV: 1 prefix, 2 realm base, 3 node, 4 callee field. */
export const CLUSTER_UNREGISTER = `${PRELUDE}
dropCallee(ARGV[2], ARGV[4])
redis.call('SREM', ARGV[2] .. 'nc:' .. ARGV[3], ARGV[4])
return 1
`;

/**
 * Takes or renews a node's lease. ARGV: 1 prefix, 2 unused, 3 node, 4 lease (ms), 5 'join' or 'renew'.
 * A renewal after the lease ran out fails (returns 0): the node was, or is about to be, reaped and must fence
 * itself. Returns 1 otherwise.
 */
export const CLUSTER_LEASE = `${PRELUDE}
if ARGV[5] == 'renew' and leaseLost(ARGV[3]) then return 0 end
redis.call('ZADD', P .. ':nodes', now + tonumber(ARGV[4]), ARGV[3])
return 1
`;

/**
 * Reaps every node whose lease ran out: in one atomic step its sessions end (wills fire exactly once), its
 * parked publishes and callees go, and the others hear "DOWN <node>". ARGV: 1 prefix. Returns the nodes reaped.
 */
export const CLUSTER_REAP = `${PRELUDE}
local dead = redis.call('ZRANGEBYSCORE', P .. ':nodes', '-inf', '(' .. now)
for _, node in ipairs(dead) do retire(node) end
return dead
`;

/** A node leaves on purpose (shutdown): as a reap of itself. ARGV: 1 prefix, 2 unused, 3 node. */
export const CLUSTER_RETIRE = `${PRELUDE}
retire(ARGV[3])
return 1
`;

/** A realm opened on a node: its retention, and its name for the reaper. ARGV: 1 prefix, 2 realm base, 3 node, 4 realm, 5 max events, 6 max age (ms). */
export const CLUSTER_OPEN_REALM = `${PRELUDE}
redis.call('SADD', P .. ':realms', ARGV[4])
redis.call('HSET', ARGV[2] .. 'conf', 'max-events', ARGV[5], 'max-age', ARGV[6])
return 1
`;

/**
 * A node has members of a shared subscription now (`+`), or no more (`-`). ARGV: 1 prefix, 2 realm base, 3 node,
 * 4 `<node>|<subscription key>`, 5 '+' or '-'.
 */
export const CLUSTER_SHARE = `${PRELUDE}
local B = ARGV[2]
if ARGV[5] == '+' then
  redis.call('HSET', B .. 'shares', ARGV[4], '1')
  redis.call('SADD', B .. 'nsh:' .. ARGV[3], ARGV[4])
  redis.call('PUBLISH', B .. 'ctl', 'S+ ' .. ARGV[4])
elseif redis.call('HDEL', B .. 'shares', ARGV[4]) == 1 then
  redis.call('SREM', B .. 'nsh:' .. ARGV[3], ARGV[4])
  redis.call('PUBLISH', B .. 'ctl', 'S- ' .. ARGV[4])
end
return 1
`;

/**
 * The MQTT session directory. ARGV: 1 prefix, 2 realm base, 3 node, 4 client ID, 5 'get' | 'set' | 'drop'.
 * `get` answers the owner only while its lease holds (a dead node's sessions are gone with it).
 */
export const CLUSTER_MQTT_OWNER = `${PRELUDE}
local key = ARGV[2] .. 'mqtt'
local op = ARGV[5]
if op == 'set' then
  redis.call('HSET', key, ARGV[4], ARGV[3])
  return ARGV[3]
end
local owner = redis.call('HGET', key, ARGV[4])
if op == 'drop' then
  if owner == ARGV[3] then redis.call('HDEL', key, ARGV[4]) end
  return false
end
if owner and not leaseLost(owner) then return owner end
return false
`;
