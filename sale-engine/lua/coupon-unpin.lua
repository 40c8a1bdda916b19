-- coupon-unpin: the host takes a coupon off; claims already made stay redeemable.
-- KEYS[1] the coupon's hash (layout in coupon-pin.lua)
-- Returns: {1, changed (1|0)} | {0, 'COUPON_NOT_FOUND'}
-- Events: none
local key = KEYS[1]
local pinned = redis.call('HGET', key, 'pinned')
if not pinned then return { 0, 'COUPON_NOT_FOUND' } end
if pinned == '0' then return { 1, 0 } end
redis.call('HSET', key, 'pinned', 0)
return { 1, 1 }
