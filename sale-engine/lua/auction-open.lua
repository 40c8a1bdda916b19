-- auction-open: turn a fresh drop of stock 1 into an auction's backing drop. Re-opening with
-- identical parameters is a no-op. The drop is paused for the whole auction (no buyer can take
-- its unit); auction-settle.lua resumes it with the winner's hold.
-- KEYS[1] auction hash   KEYS[2] drop state hash   KEYS[3] event channel   KEYS[4] event log
-- ARGV[1] drop id   ARGV[2] canonical parameter JSON (compared on re-open)
-- ARGV[3] bidding starts, ms   ARGV[4] bidding ends, ms   ARGV[5] starting price, minor units
-- ARGV[6] reserve, minor units (-1: none)   ARGV[7] anti-snipe window, ms (0: none)
-- ARGV[8] increment table 'from:step,from:step,...' (first from 0, ascending)
-- ARGV[9] mask seed (64 hex: users are masked with it in events, by the caller)
-- ARGV[10] event log length (entries, MAXLEN ~)
-- Auction hash fields: params room starts ends sp rsv snipe inc seed hold status (open|settled)
--   leader lmax lseq second price bids seq, k:<user>|<key> recorded answers (auction-bid.lua),
--   and once settled: met winner wprice rid runners
-- Returns: {1, opened (1|0)} | {0, 'DROP_CONFLICT'} (another auction, or a drop that is not a
--          fresh one-unit drop) | {0, 'DROP_NOT_FOUND'} | {0, 'INVALID_INPUT'}
-- Events: drop.state (action pause)
local auction_key, state_key = KEYS[1], KEYS[2]
local drop_id, params, log_len = ARGV[1], ARGV[2], log_length(ARGV[10])
local starts, ends, sp, rsv, snipe = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]),
  tonumber(ARGV[7])
if not (safe_id(drop_id) and log_len and starts and ends and ends > starts and sp and sp >= 0 and rsv and snipe
  and snipe >= 0 and string.find(ARGV[8], '^0:%d+[%d:,]*$') and string.find(ARGV[9], '^%x+$')) then
  return { 0, 'INVALID_INPUT' }
end

local existing = redis.call('HGET', auction_key, 'params')
if existing then
  if existing == params then return { 1, 0 } end
  return { 0, 'DROP_CONFLICT' }
end

local m, initial, fmt = read_meta(state_key, 'initial', 'fmt')
if not m then return { 0, 'DROP_NOT_FOUND' } end
if tonumber(initial) ~= 1 or m.available ~= 1 or m.held ~= 0 or m.sold ~= 0 or m.limit ~= 1 or m.mode == 'ended'
  or (fmt and fmt ~= 'auction') then
  return { 0, 'DROP_CONFLICT' }
end

redis.call('HSET', auction_key, 'params', params, 'room', m.room, 'starts', starts, 'ends', ends, 'sp', sp,
  'rsv', rsv, 'snipe', snipe, 'inc', ARGV[8], 'seed', ARGV[9], 'hold', m.hold, 'status', 'open', 'bids', 0,
  'seq', 0, 'price', sp)
local now = now_ms()
m.mode = 'paused'
commit_and_emit(state_key, sink(KEYS[3], KEYS[4], log_len), drop_id, m, now, 'drop.state', '"action":"pause",',
  'mode', 'paused', 'fmt', 'auction', 'wloff', '1')
return { 1, 1 }
