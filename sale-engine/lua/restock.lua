-- restock: add units to a drop's available stock.
-- KEYS[1] meta hash   KEYS[2] event channel
-- ARGV[1] drop id     ARGV[2] qty (> 0)   ARGV[3] ceiling for initial + restocked
-- Returns: {1, available} | {0, 'DROP_NOT_FOUND'} | {0, 'ENDED'} | {0, 'STOCK_OVERFLOW', room left}
-- Events: stock.restocked
local meta_key, channel = KEYS[1], KEYS[2]
local drop_id, qty, ceiling = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])

local m = read_meta(meta_key)
if not m then return { 0, 'DROP_NOT_FOUND' } end
local now = now_ms()
if effective_state(m.mode, m.starts, m.ends, m.available, now) == 'ended' then return { 0, 'ENDED' } end
local total = tonumber(redis.call('HGET', meta_key, 'initial')) + tonumber(redis.call('HGET', meta_key, 'restocked'))
if total + qty > ceiling then return { 0, 'STOCK_OVERFLOW', ceiling - total } end

redis.call('HINCRBY', meta_key, 'restocked', qty)
m.available = m.available + qty
commit_and_emit(meta_key, channel, nil, drop_id, m, now, { type = 'stock.restocked', qty = qty })
return { 1, m.available }
