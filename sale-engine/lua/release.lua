-- release: give a hold's units back (buyer cancelled, payment abandoned). Idempotent;
-- refused after confirm.
-- KEYS[1] drop state hash   KEYS[2] holds zset   KEYS[3] outbox stream   KEYS[4] event channel
-- KEYS[5] event log stream
-- ARGV[1] drop id   ARGV[2] reservation id   ARGV[3] event log length (entries, MAXLEN ~)
-- Returns: {1, replayed, status} (status R, or X when it had already expired)
--        | {0, 'RESERVATION_NOT_FOUND'} | {0, 'ALREADY_CONFIRMED'} | {0, 'INVALID_INPUT'}
-- Events: reservation.released (reason released)
local state_key, holds_key = KEYS[1], KEYS[2]
local drop_id, rid, log_len = ARGV[1], ARGV[2], log_length(ARGV[3])
if not log_len then return { 0, 'INVALID_INPUT' } end

local m, raw = read_meta(state_key, 'r:' .. rid)
if not (m and raw) then return { 0, 'RESERVATION_NOT_FOUND' } end
local rec = split(raw)
if rec[4] == 'C' then return { 0, 'ALREADY_CONFIRMED' } end
if rec[4] ~= 'H' then return { 1, 1, rec[4] } end

return_hold(state_key, holds_key, sink(KEYS[4], KEYS[5], log_len, KEYS[3]), drop_id, m, now_ms(), rid, rec, 'R')
return { 1, 0, 'R' }
