-- restock: add units to a drop's available stock.
-- KEYS[1] drop state hash   KEYS[2] event channel
-- ARGV[1] drop id     ARGV[2] qty (> 0)   ARGV[3] ceiling for initial + restocked
-- Returns: {1, available} | {0, 'DROP_NOT_FOUND'} | {0, 'ENDED'} | {0, 'STOCK_OVERFLOW', room left}
-- Events: stock.restocked
local state_key, channel = KEYS[1], KEYS[2]
local drop_id, qty, ceiling = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])

local m, initial, restocked = read_meta(state_key, 'initial', 'restocked')
if not m then return { 0, 'DROP_NOT_FOUND' } end
local now = now_ms()
if effective_state(m.mode, m.starts, m.ends, m.available, now) == 'ended' then return { 0, 'ENDED' } end
restocked = tonumber(restocked)
local total = tonumber(initial) + restocked
if total + qty > ceiling then return { 0, 'STOCK_OVERFLOW', ceiling - total } end

m.available = m.available + qty
commit_and_emit(state_key, channel, nil, drop_id, m, now, 'stock.restocked', '"qty":' .. qty .. ',',
  'restocked', restocked + qty)
return { 1, m.available }
