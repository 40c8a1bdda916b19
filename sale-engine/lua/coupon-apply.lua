-- coupon-apply: ties a claim to one unpaid order and computes its discount from the list total.
-- KEYS[1] the coupon's hash (layout in coupon-pin.lua)
-- ARGV[1] claim n  ARGV[2] user id  ARGV[3] reservation id  ARGV[4] list total (minor)
--      ARGV[5] order currency
-- Returns: {1, discount} (again for the same order: the same answer) | {0, 'COUPON_NOT_FOUND'}
--          (no such claim, or another buyer's) | {0, 'COUPON_NOT_APPLICABLE'} (redeemed already,
--          applied to another order, the order has another claim, below the minimum order, or
--          another currency) | {0, 'INVALID_INPUT'}
-- Events: none
local key = KEYS[1]
local n, user, rid, total, cur = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5]
if not (safe_id(user) and safe_id(rid) and total and total >= 0) then return { 0, 'INVALID_INPUT' } end
local v = redis.call('HMGET', key, 'k:' .. n, 'h:' .. rid, 'kind', 'amt', 'cur', 'pct', 'min')
if not v[1] then return { 0, 'COUPON_NOT_FOUND' } end
local rec = split(v[1])
if rec[1] ~= user then return { 0, 'COUPON_NOT_FOUND' } end
if rec[2] == 'R' or (rec[2] == 'A' and rec[3] ~= rid) or (v[2] and v[2] ~= n) then
  return { 0, 'COUPON_NOT_APPLICABLE' }
end
if total < tonumber(v[7] or '0') or (v[3] == 'amount' and v[5] ~= cur) then
  return { 0, 'COUPON_NOT_APPLICABLE' }
end
local discount
if v[3] == 'amount' then
  discount = math.min(tonumber(v[4]), total)
else
  -- Split so no product passes 2^53 (a double's exact range) for the largest totals.
  local pct = tonumber(v[6])
  discount = math.floor(total / 100) * pct + math.floor((total % 100) * pct / 100)
end
redis.call('HSET', key, 'k:' .. n, user .. '|A|' .. rid .. '|' .. discount, 'h:' .. rid, n)
return { 1, discount }
