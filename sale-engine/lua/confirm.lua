-- confirm: a paid hold becomes sold (held -> sold). Idempotent; refused after release.
-- KEYS[1] drop state hash   KEYS[2] holds zset   KEYS[3] outbox stream   KEYS[4] event channel
-- KEYS[5] event log stream
-- ARGV[1] drop id   ARGV[2] reservation id   ARGV[3] event log length (entries, MAXLEN ~)
-- A replay rewrites the record unchanged, so a WAIT after it, on whatever connection, covers the
-- confirm (the write moves that connection's replication offset).
-- Returns: {1, replayed} | {0, 'RESERVATION_NOT_FOUND'} | {0, 'ALREADY_RELEASED', status}
--        | {0, 'HOLD_EXPIRED'} (deadline passed: the hold is expired right here, stock returns)
--        | {0, 'INVALID_INPUT'} (bad log length)
-- Events: reservation.confirmed, or reservation.released (reason expired)
local state_key, holds_key = KEYS[1], KEYS[2]
local drop_id, rid, log_len = ARGV[1], ARGV[2], log_length(ARGV[3])
if not log_len then return { 0, 'INVALID_INPUT' } end
local out = sink(KEYS[4], KEYS[5], log_len, KEYS[3])

local m, raw = read_meta(state_key, 'r:' .. rid)
if not (m and raw) then return { 0, 'RESERVATION_NOT_FOUND' } end
local rec = split(raw)
if rec[4] == 'C' then
  redis.call('HSET', state_key, 'r:' .. rid, raw)
  return { 1, 1 }
end
if rec[4] ~= 'H' then return { 0, 'ALREADY_RELEASED', rec[4] } end

local now = now_ms()
if now >= tonumber(rec[3]) then
  return_hold(state_key, holds_key, out, drop_id, m, now, rid, rec, 'X')
  return { 0, 'HOLD_EXPIRED' }
end

local qty = tonumber(rec[2])
m.held = m.held - qty
m.sold = m.sold + qty
redis.call('ZREM', holds_key, rid)
commit_and_emit(state_key, out, drop_id, m, now, 'reservation.confirmed',
  '"reservation":"' .. rid .. '","user":"' .. rec[1] .. '","qty":' .. qty .. ',',
  'r:' .. rid, record(rec, 'C'))
return { 1, 0 }
