-- coupon-unpin: the host takes a coupon off; claims already made stay redeemable.
-- KEYS[1] the coupon's hash (layout in coupon-pin.lua)
-- KEYS[2] set of the codes pinned in the room now (same hash tag)
-- ARGV[1] the code
-- Returns: {1, changed (1|0)} | {0, 'COUPON_NOT_FOUND'}
-- Events: none
local key = KEYS[1]
local pinned = redis.call('HGET', key, 'pinned')
if not pinned then return { 0, 'COUPON_NOT_FOUND' } end
redis.call('SREM', KEYS[2], ARGV[1])
if pinned == '0' then return { 1, 0 } end
redis.call('HSET', key, 'pinned', 0)
return { 1, 1 }
