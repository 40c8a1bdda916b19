-- restock: add units to a drop's available stock.
-- KEYS[1] drop state hash   KEYS[2] event channel   KEYS[3] event log stream
-- ARGV[1] drop id     ARGV[2] qty (> 0)   ARGV[3] ceiling for initial + restocked
-- ARGV[4] event log length (entries, MAXLEN ~)
-- Returns: {1, available} | {0, 'DROP_NOT_FOUND'} | {0, 'ENDED'} | {0, 'STOCK_OVERFLOW', room left}
--        | {0, 'INVALID_INPUT'} (bad log length)
-- Events: stock.restocked
local state_key = KEYS[1]
local drop_id, qty, ceiling, log_len = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), log_length(ARGV[4])
if not log_len then return { 0, 'INVALID_INPUT' } end

local m, initial, restocked = read_meta(state_key, 'initial', 'restocked')
if not m then return { 0, 'DROP_NOT_FOUND' } end
local now = now_ms()
if effective_state(m.mode, m.starts, m.ends, m.available, now) == 'ended' then return { 0, 'ENDED' } end
restocked = tonumber(restocked)
local total = tonumber(initial) + restocked
if total + qty > ceiling then return { 0, 'STOCK_OVERFLOW', ceiling - total } end

m.available = m.available + qty
commit_and_emit(state_key, sink(KEYS[2], KEYS[3], log_len), drop_id, m, now, 'stock.restocked', '"qty":' .. qty .. ',',
  'restocked', restocked + qty)
return { 1, m.available }
