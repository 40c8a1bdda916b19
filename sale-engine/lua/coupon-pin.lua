-- coupon-pin: the host pins a coupon in a room (or pins it again: new terms, counts kept).
-- KEYS[1] the coupon's hash (keys.ts couponKey: every coupon key of a room shares one slot)
--   fields: code kind amt cur pct min quota per until pinned claimed redeemed seq
--           i:<user>|<key> claim n   u:<user> claims the user holds or redeemed
--           k:<n> claim record user|status|rid|discount (status C claimed, A applied, R redeemed)
--           h:<rid> the claim n applied to that reservation
-- KEYS[2] set of the codes pinned in the room now (keys.ts couponCodes, same hash tag)
-- ARGV[1] code  ARGV[2] kind (amount|percent)  ARGV[3] amount off  ARGV[4] currency
--      ARGV[5] percent off  ARGV[6] minimum order  ARGV[7] quota  ARGV[8] per buyer
--      ARGV[9] valid until (ms, 0: until unpinned)  ARGV[10] most coupons pinned in one room
-- Returns: {1, claimed, redeemed} | {0, 'INVALID_INPUT'}
--        | {0, 'INVALID_INPUT', 'TOO_MANY_PINNED'} (the room has ARGV[10] others pinned; writes nothing)
-- Events: none
local key = KEYS[1]
local kind = ARGV[2]
local quota, per, most = tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[10])
if not ((kind == 'amount' or kind == 'percent') and quota and quota >= 1 and per and per >= 1 and most) then
  return { 0, 'INVALID_INPUT' }
end
if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 0 and redis.call('SCARD', KEYS[2]) >= most then
  return { 0, 'INVALID_INPUT', 'TOO_MANY_PINNED' }
end
redis.call('HSET', key, 'code', ARGV[1], 'kind', kind, 'amt', ARGV[3], 'cur', ARGV[4], 'pct', ARGV[5],
  'min', ARGV[6], 'quota', quota, 'per', per, 'until', ARGV[9], 'pinned', 1)
redis.call('SADD', KEYS[2], ARGV[1])
local c = redis.call('HMGET', key, 'claimed', 'redeemed')
return { 1, tonumber(c[1] or '0'), tonumber(c[2] or '0') }
