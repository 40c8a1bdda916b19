-- coupon-settle: what became of the order a claim was applied to. `paid` redeems the claim
-- (exactly once); `back` (payment declined, hold expired or released) returns it to its buyer,
-- claimable order-free again. Idempotent: a second call changes nothing.
-- KEYS[1] the coupon's hash (layout in coupon-pin.lua)
-- ARGV[1] reservation id  ARGV[2] outcome (paid|back)
-- Returns: {1, status} where status is the claim's now: 'R' redeemed, 'C' claimed (given back),
--          'none' (no claim is applied to this order) | {0, 'INVALID_INPUT'}
-- Events: none
local key = KEYS[1]
local rid, outcome = ARGV[1], ARGV[2]
if not (safe_id(rid) and (outcome == 'paid' or outcome == 'back')) then return { 0, 'INVALID_INPUT' } end
local n = redis.call('HGET', key, 'h:' .. rid)
if not n then return { 1, 'none' } end
local rec = split(redis.call('HGET', key, 'k:' .. n) or '')
if rec[2] == 'R' then return { 1, 'R' } end
if outcome == 'paid' then
  redis.call('HSET', key, 'k:' .. n, rec[1] .. '|R|' .. rid .. '|' .. rec[4])
  redis.call('HINCRBY', key, 'redeemed', 1)
  return { 1, 'R' }
end
redis.call('HSET', key, 'k:' .. n, rec[1] .. '|C||')
redis.call('HDEL', key, 'h:' .. rid)
return { 1, 'C' }
