-- erase-coupon: move one user's claims of one coupon to their pseudonym (privacy erasure). The
-- caller finds the user's `i:<user>|<key>` fields with HSCAN (so this script never walks the hash).
-- KEYS[1] the coupon's hash (layout in coupon-pin.lua)
-- ARGV[1] user id   ARGV[2] pseudonym
-- ARGV[3..] the idempotency keys of the user's `i:<user>|<key>` fields; none: only the user's
--           count `u:<user>` moves, whole
-- Each `i:<user>|<key>` becomes `i:<pseudonym>|<key>`; the claim record `k:<n>` it names gets the
-- pseudonym as its user (status, order and discount kept); `u:<user>` is added to `u:<pseudonym>`.
-- The coupon's counts (claimed, redeemed, seq) stay as they are: the quotas count every claim.
-- Returns: {1, fields, claims} (fields renamed, claim records rewritten) | {0, 'INVALID_INPUT'}
-- Events: none
local key = KEYS[1]
local user, pseudo = ARGV[1], ARGV[2]
if not (safe_id(user) and safe_id(pseudo) and user ~= pseudo) then return { 0, 'INVALID_INPUT' } end
local fields, claims = 0, 0
for i = 3, #ARGV do
  if not safe_id(ARGV[i]) then return { 0, 'INVALID_INPUT' } end
  local from = 'i:' .. user .. '|' .. ARGV[i]
  local n = redis.call('HGET', key, from)
  if n then
    redis.call('HSET', key, 'i:' .. pseudo .. '|' .. ARGV[i], n)
    redis.call('HDEL', key, from)
    fields = fields + 1
    local raw = redis.call('HGET', key, 'k:' .. n)
    if raw and string.sub(raw, 1, #user + 1) == user .. '|' then
      redis.call('HSET', key, 'k:' .. n, pseudo .. string.sub(raw, #user + 1))
      claims = claims + 1
    end
  end
end
local count = tonumber(redis.call('HGET', key, 'u:' .. user) or '0')
if count > 0 then
  redis.call('HINCRBY', key, 'u:' .. pseudo, count)
  fields = fields + 1
end
redis.call('HDEL', key, 'u:' .. user)
return { 1, fields, claims }
