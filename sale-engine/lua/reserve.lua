-- reserve: move `qty` units of a drop from available to a hold with a payment deadline.
-- KEYS[1] drop state hash   KEYS[2] holds zset (rid -> deadline ms)   KEYS[3] outbox stream
-- KEYS[4] event channel
-- ARGV[1] drop id   ARGV[2] user id   ARGV[3] qty   ARGV[4] idempotency key
-- Returns: {1, rid, deadline, available, replayed}
--        | {0, CODE, replayed} with CODE one of NOT_STARTED, ENDED, PAUSED, SOLD_OUT,
--          LIMIT_EXCEEDED, INSUFFICIENT_STOCK (answers are recorded: a retry with the same key
--          gets the same answer)
--        | {0, 'DROP_NOT_FOUND'} | {0, 'IDEMPOTENCY_KEY_REUSED'} | {0, 'QTY_ABOVE_LIMIT', limit}
--        | {0, 'INVALID_INPUT'}
--          (not recorded, nothing changed)
-- Events: reservation.placed (published and appended to the outbox)
local state_key, holds_key, outbox_key, channel = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local drop_id, user, qty, key = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
local ifield = 'i:' .. user .. '|' .. key
local ufield = 'u:' .. user

if not (safe_id(user) and safe_id(key) and qty and qty >= 1 and qty == math.floor(qty)) then
  return { 0, 'INVALID_INPUT' }
end

local m, prior, owned = read_meta(state_key, ifield, ufield)
-- A retry returns the recorded answer: qty|1|rid|deadline|available or qty|0|CODE
if prior then
  local p = split(prior)
  if tonumber(p[1]) ~= qty then return { 0, 'IDEMPOTENCY_KEY_REUSED' } end
  if p[2] == '1' then return { 1, p[3], tonumber(p[4]), tonumber(p[5]), 1 } end
  return { 0, p[3], 1 }
end
if not m then return { 0, 'DROP_NOT_FOUND' } end
if qty > m.limit then return { 0, 'QTY_ABOVE_LIMIT', m.limit } end

local now = now_ms()
local function reject(code)
  redis.call('HSET', state_key, ifield, qty .. '|0|' .. code)
  return { 0, code, 0 }
end

local state = effective_state(m.mode, m.starts, m.ends, m.available, now)
if state == 'scheduled' then return reject('NOT_STARTED') end
if state == 'ended' then return reject('ENDED') end
if state == 'paused' then return reject('PAUSED') end
if state == 'sold_out' then return reject('SOLD_OUT') end
owned = tonumber(owned or '0')
if owned + qty > m.limit then return reject('LIMIT_EXCEEDED') end
if m.available < qty then return reject('INSUFFICIENT_STOCK') end

m.seq = m.seq + 1
local rid = drop_id .. '.' .. m.seq
local deadline = now + m.hold
m.available = m.available - qty
m.held = m.held + qty
redis.call('ZADD', holds_key, deadline, rid)
commit_and_emit(state_key, channel, outbox_key, drop_id, m, now, 'reservation.placed',
  '"reservation":"' .. rid .. '","user":"' .. user .. '","qty":' .. qty .. ',"deadline":' .. deadline .. ',',
  ufield, owned + qty,
  'r:' .. rid, user .. '|' .. qty .. '|' .. deadline .. '|H|' .. key,
  ifield, qty .. '|1|' .. rid .. '|' .. deadline .. '|' .. m.available)
return { 1, rid, deadline, m.available, 0 }
