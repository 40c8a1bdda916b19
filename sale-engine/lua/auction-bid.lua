-- auction-bid: one proxy bid. The bidder names the most they will pay; the leader is the highest
-- maximum (the earlier bid on equal maxima), and the price is the second-highest maximum plus
-- one step of the increment table, capped at the leader's maximum (the starting price while one
-- bidder bids). A bid of another bidder must reach price + step(price), the first bid the
-- starting price; the leader may only raise their own maximum. A bid in the last `snipe` ms moves
-- the end to `snipe` ms after it (never when snipe is 0: sudden death).
-- KEYS[1] auction hash   KEYS[2] bidders hash (user -> max|seq|mask)   KEYS[3] bid history stream
-- KEYS[4] drop state hash   KEYS[5] event channel   KEYS[6] event log stream
-- ARGV[1] drop id   ARGV[2] user id   ARGV[3] maximum, minor units   ARGV[4] idempotency key
-- ARGV[5] the user's mask (hex)   ARGV[6] event log length   ARGV[7] bid history length
-- Returns: {1, leading, price, max, ends, extended, bids, minNext, replayed}
--          (an accepted bid is recorded per user and key: a retry with the same key and maximum
--          gets the recorded answer, replayed = 1, whatever happened since)
--        | {0, CODE, min} with CODE one of AUCTION_NOT_STARTED, AUCTION_ENDED (also once the backing
--          drop was ended by hand), BID_TOO_LOW (min:
--          the lowest acceptable bid), ALREADY_LEADING (min: above the bidder's own maximum):
--          not recorded, nothing changed
--        | {0, 'AUCTION_NOT_FOUND'} | {0, 'IDEMPOTENCY_KEY_REUSED'} | {0, 'INVALID_INPUT'}
-- Events: auction.bid (leader masked, price, end, bids, extended)
local auction_key, bidders_key, bids_key, state_key = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local drop_id, user, max, key, mask = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4], ARGV[5]
local log_len, hist_len = log_length(ARGV[6]), log_length(ARGV[7])
if not (safe_id(drop_id) and safe_id(user) and safe_id(key) and max and max >= 0 and max <= 1000000000000
  and max == math.floor(max) and mask and string.find(mask, '^%x+$') and log_len and hist_len) then
  return { 0, 'INVALID_INPUT' }
end

local rfield = 'k:' .. user .. '|' .. key
local a = redis.call('HMGET', auction_key, 'status', 'starts', 'ends', 'sp', 'snipe', 'inc', 'leader', 'lmax',
  'second', 'bids', 'seq', 'price', 'lmask', rfield)
if not a[1] then return { 0, 'AUCTION_NOT_FOUND' } end
if a[14] then
  -- max|leading|price|ends|extended|bids|minNext
  local r = split(a[14])
  if tonumber(r[1]) ~= max then return { 0, 'IDEMPOTENCY_KEY_REUSED' } end
  return { 1, tonumber(r[2]), tonumber(r[3]), max, tonumber(r[4]), tonumber(r[5]), tonumber(r[6]), tonumber(r[7]), 1 }
end

local now = now_ms()
local starts, ends, sp, snipe = tonumber(a[2]), tonumber(a[3]), tonumber(a[4]), tonumber(a[5])
-- a host who ended the backing drop ended the auction with it
local m = read_meta(state_key)
if a[1] ~= 'open' or now >= ends or (m and m.mode == 'ended') then return { 0, 'AUCTION_ENDED', 0 } end
if now < starts then return { 0, 'AUCTION_NOT_STARTED', 0 } end

-- The increment table: rows 'from:step', ascending; the step at price p is the last row from <= p.
local froms, steps = {}, {}
for from, step in string.gmatch(a[6], '(%d+):(%d+)') do
  froms[#froms + 1] = tonumber(from)
  steps[#steps + 1] = tonumber(step)
end
local function step_at(p)
  local s = steps[1]
  for i = 2, #froms do
    if froms[i] <= p then s = steps[i] else break end
  end
  return s
end

local leader, lmax, second = a[7], tonumber(a[8] or ''), tonumber(a[9] or '')
local bids, seq, price, lmask = tonumber(a[10]), tonumber(a[11]), tonumber(a[12]), a[13]
if not leader then
  if max < sp then return { 0, 'BID_TOO_LOW', sp } end
  leader, lmax, lmask, price = user, max, mask, sp
elseif leader == user then
  if max <= lmax then return { 0, 'ALREADY_LEADING', lmax + 1 } end
  lmax = max
  if second then price = math.min(lmax, second + step_at(second)) end
else
  local least = price + step_at(price)
  if max < least then return { 0, 'BID_TOO_LOW', least } end
  if max > lmax then
    second, leader, lmax, lmask = lmax, user, max, mask
  elseif not second or max > second then
    second = max
  end
  price = math.min(lmax, second + step_at(second))
end

local extended = 0
if snipe > 0 and now + snipe > ends then
  ends = now + snipe
  extended = 1
end
bids, seq = bids + 1, seq + 1
local leading = 0
if leader == user then leading = 1 end
local min_next = price + step_at(price)
redis.call('HSET', auction_key, 'leader', leader, 'lmax', lmax, 'lmask', lmask, 'price', price, 'ends', ends,
  'bids', bids, 'seq', seq, rfield,
  max .. '|' .. leading .. '|' .. price .. '|' .. ends .. '|' .. extended .. '|' .. bids .. '|' .. min_next)
if second then redis.call('HSET', auction_key, 'second', second) end
redis.call('HSET', bidders_key, user, max .. '|' .. seq .. '|' .. mask)
redis.call('XADD', bids_key, 'MAXLEN', '~', hist_len, '*', 't', now, 'u', user, 'k', mask, 'x', max, 'p', price,
  'l', leader, 'lk', lmask)

if m then
  local ext = 'false'
  if extended == 1 then ext = 'true' end
  commit_and_emit(state_key, sink(KEYS[5], KEYS[6], log_len), drop_id, m, now, 'auction.bid',
    '"dropId":"' .. drop_id .. '","leader":"' .. lmask .. '","priceMinor":' .. price .. ',"endsAt":' .. ends
      .. ',"bids":' .. bids .. ',"extended":' .. ext .. ',')
end
return { 1, leading, price, max, ends, extended, bids, min_next, 0 }
