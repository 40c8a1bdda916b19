-- expire: release holds whose payment deadline has passed, oldest first, at most ARGV[2]; and
-- tell whether the drop is settled for good, so the engine can drop it from its active index
-- (that index lives in another Redis Cluster slot, so this script does not write it).
-- KEYS[1] drop state hash   KEYS[2] holds zset   KEYS[3] outbox stream   KEYS[4] event channel
-- KEYS[5] event log stream
-- ARGV[1] drop id   ARGV[2] batch size   ARGV[3] event log length (entries, MAXLEN ~)
-- Returns: {1, now, settled, rid...} (the reservations expired by this call; none when none were
--          due; settled = 1 when the drop has ended, holds no hold and its outbox is empty:
--          nothing can change it any more)
--        | {0, 'DROP_NOT_FOUND'} | {0, 'INVALID_INPUT'}
-- Events: reservation.released (reason expired), one per hold
local state_key, holds_key, outbox_key = KEYS[1], KEYS[2], KEYS[3]
local drop_id, batch, log_len = ARGV[1], tonumber(ARGV[2]), log_length(ARGV[3])
if not log_len then return { 0, 'INVALID_INPUT' } end
local out = sink(KEYS[4], KEYS[5], log_len, outbox_key)

local m = read_meta(state_key)
if not m then return { 0, 'DROP_NOT_FOUND' } end
local now = now_ms()
local due = redis.call('ZRANGEBYSCORE', holds_key, '-inf', now, 'LIMIT', 0, batch)
local result = { 1, now, 0 }
for _, rid in ipairs(due) do
  local raw = redis.call('HGET', state_key, 'r:' .. rid)
  local rec = raw and split(raw)
  if rec and rec[4] == 'H' then
    return_hold(state_key, holds_key, out, drop_id, m, now, rid, rec, 'X')
    result[#result + 1] = rid
  else
    -- A stale entry (record settled elsewhere): drop it so the sweep cannot loop on it.
    redis.call('ZREM', holds_key, rid)
  end
end
-- Ended is final (no reserve, restock or resume afterwards), so with no hold and nothing left
-- for the relay the drop stays exactly as it is.
if effective_state(m.mode, m.starts, m.ends, m.available, now) == 'ended'
  and redis.call('ZCARD', holds_key) == 0 and redis.call('XLEN', outbox_key) == 0 then
  result[3] = 1
end
return result
