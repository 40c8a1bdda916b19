-- expire: release holds whose payment deadline has passed, oldest first, at most ARGV[2].
-- KEYS[1] drop state hash   KEYS[2] holds zset   KEYS[3] outbox stream   KEYS[4] event channel
-- ARGV[1] drop id   ARGV[2] batch size
-- Returns: {1, now, rid...} (the reservations expired by this call; none when none were due)
--        | {0, 'DROP_NOT_FOUND'}
-- Events: reservation.released (reason expired), one per hold
local state_key, holds_key, outbox_key, channel = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local drop_id, batch = ARGV[1], tonumber(ARGV[2])

local m = read_meta(state_key)
if not m then return { 0, 'DROP_NOT_FOUND' } end
local now = now_ms()
local due = redis.call('ZRANGEBYSCORE', holds_key, '-inf', now, 'LIMIT', 0, batch)
local out = { 1, now }
for _, rid in ipairs(due) do
  local raw = redis.call('HGET', state_key, 'r:' .. rid)
  local rec = raw and split(raw)
  if rec and rec[4] == 'H' then
    return_hold(state_key, holds_key, channel, outbox_key, drop_id, m, now, rid, rec, 'X')
    out[#out + 1] = rid
  else
    -- A stale entry (record settled elsewhere): drop it so the sweep cannot loop on it.
    redis.call('ZREM', holds_key, rid)
  end
end
return out
