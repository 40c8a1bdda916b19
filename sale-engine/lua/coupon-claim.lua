-- coupon-claim: a viewer claims a pinned coupon, atomically against its quotas.
-- KEYS[1] the coupon's hash (layout in coupon-pin.lua)
-- ARGV[1] user id  ARGV[2] idempotency key  ARGV[3] room live now (1|0, the caller knows)
-- Returns: {1, n, replayed (1|0)} (a retry with the same user and key answers the same claim,
--          whatever changed since) | {0, 'COUPON_NOT_FOUND'} | {0, 'COUPON_NOT_ACTIVE'} (unpinned,
--          past valid-until, or the room is not live) | {0, 'COUPON_EXHAUSTED'} (quota given out)
--        | {0, 'COUPON_LIMIT_REACHED'} (the buyer's quota) | {0, 'INVALID_INPUT'}
--          (a refusal writes nothing)
-- Events: none
local key = KEYS[1]
local user, idem, live = ARGV[1], ARGV[2], ARGV[3]
if not (safe_id(user) and safe_id(idem)) then return { 0, 'INVALID_INPUT' } end
local v = redis.call('HMGET', key, 'pinned', 'until', 'quota', 'per', 'claimed', 'seq',
  'i:' .. user .. '|' .. idem, 'u:' .. user)
if v[7] then return { 1, tonumber(v[7]), 1 } end
if not v[1] then return { 0, 'COUPON_NOT_FOUND' } end
local ends = tonumber(v[2] or '0')
if v[1] ~= '1' or live ~= '1' or (ends > 0 and now_ms() >= ends) then return { 0, 'COUPON_NOT_ACTIVE' } end
local claimed, mine = tonumber(v[5] or '0'), tonumber(v[8] or '0')
if claimed >= tonumber(v[3]) then return { 0, 'COUPON_EXHAUSTED' } end
if mine >= tonumber(v[4]) then return { 0, 'COUPON_LIMIT_REACHED' } end
local n = tonumber(v[6] or '0') + 1
redis.call('HSET', key, 'seq', n, 'claimed', claimed + 1, 'u:' .. user, mine + 1,
  'i:' .. user .. '|' .. idem, n, 'k:' .. n, user .. '|C||')
return { 1, n, 0 }
