-- restock: add units to a drop's stock. With tickets waiting in the hand-off queue (a waitlist,
-- or a raffle's drawn order after its draw) the new units go to them first, as new holds (see
-- hand_off), and only what no ticket takes goes on sale: the line was there before the restock.
-- KEYS[1] drop state hash   KEYS[2] event channel   KEYS[3] event log stream
-- KEYS[4] holds zset        KEYS[5] outbox stream (only written when a ticket got a hold)
-- ARGV[1] drop id     ARGV[2] qty (> 0)   ARGV[3] ceiling for initial + restocked
-- ARGV[4] event log length (entries, MAXLEN ~)
-- Returns: {1, available} | {0, 'DROP_NOT_FOUND'} | {0, 'ENDED'} | {0, 'STOCK_OVERFLOW', room left}
--        | {0, 'INVALID_INPUT'} (bad log length, or an auction's drop: its one unit is the auction's)
-- Events: stock.restocked, then reservation.placed (via waitlist or handoff) per ticket served
local state_key, holds_key = KEYS[1], KEYS[4]
local drop_id, qty, ceiling, log_len = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), log_length(ARGV[4])
if not log_len then return { 0, 'INVALID_INPUT' } end

local m, initial, restocked = read_meta(state_key, 'initial', 'restocked')
if not m then return { 0, 'DROP_NOT_FOUND' } end
if redis.call('HGET', state_key, 'fmt') == 'auction' then return { 0, 'INVALID_INPUT' } end
local now = now_ms()
if effective_state(m.mode, m.starts, m.ends, m.available, now) == 'ended' then return { 0, 'ENDED' } end
restocked = tonumber(restocked)
local total = tonumber(initial) + restocked
if total + qty > ceiling then return { 0, 'STOCK_OVERFLOW', ceiling - total } end

m.available = m.available + qty
m.ver = m.ver + 1
local events = { event_json('stock.restocked', '"qty":' .. qty .. ',', event_head(drop_id, m, now), m.ver,
  effective_state(m.mode, m.starts, m.ends, m.available, now), m.available, m.held, m.sold) }
hand_off(state_key, holds_key, drop_id, m, now, qty, events)
redis.call('HSET', state_key, 'available', m.available, 'held', m.held, 'sold', m.sold, 'ver', m.ver,
  'seq', m.seq, 'restocked', restocked + qty)
emit(sink(KEYS[2], KEYS[3], log_len, nil), events)
-- The holds placed for tickets (every event after the first) go to the order pipeline; the outbox
-- carries reservation events only.
if #events > 1 then
  redis.call('XADD', KEYS[5], '*', 'e', '[' .. table.concat(events, ',', 2) .. ']')
end
return { 1, m.available }
