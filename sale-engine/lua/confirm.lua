-- confirm: a paid hold becomes sold (held -> sold). Idempotent; refused after release.
-- KEYS[1] meta hash   KEYS[2] holds zset   KEYS[3] reservations hash   KEYS[4] per-user units hash
-- KEYS[5] outbox stream   KEYS[6] event channel
-- ARGV[1] drop id   ARGV[2] reservation id
-- Returns: {1, replayed} | {0, 'RESERVATION_NOT_FOUND'} | {0, 'ALREADY_RELEASED', status}
--        | {0, 'HOLD_EXPIRED'} (deadline passed: the hold is expired right here, stock returns)
-- Events: reservation.confirmed, or reservation.released (reason expired)
local meta_key, holds_key, res_key, users_key, outbox_key, channel =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local drop_id, rid = ARGV[1], ARGV[2]

local raw = redis.call('HGET', res_key, rid)
if not raw then return { 0, 'RESERVATION_NOT_FOUND' } end
local rec = split(raw)
if rec[4] == 'C' then return { 1, 1 } end
if rec[4] ~= 'H' then return { 0, 'ALREADY_RELEASED', rec[4] } end

local m = read_meta(meta_key)
local now = now_ms()
if now >= tonumber(rec[3]) then
  return_hold(meta_key, holds_key, res_key, users_key, channel, outbox_key, drop_id, m, now, rid, rec, 'X')
  return { 0, 'HOLD_EXPIRED' }
end

local qty = tonumber(rec[2])
m.held = m.held - qty
m.sold = m.sold + qty
redis.call('ZREM', holds_key, rid)
redis.call('HSET', res_key, rid, rec[1] .. '|' .. rec[2] .. '|' .. rec[3] .. '|C|' .. rec[5])
commit_and_emit(meta_key, channel, outbox_key, drop_id, m, now, {
  type = 'reservation.confirmed', reservation = rid, user = rec[1], qty = qty,
})
return { 1, 0 }
