-- erase-auction: move one user's traces in an auction's hashes (under the backing drop's hash tag)
-- to their pseudonym (privacy erasure). The caller finds the user's recorded bid answers with
-- HSCAN (so this script never walks the hash) and computes both masks with the auction's seed.
-- KEYS[1] auction hash   KEYS[2] bidders hash (user -> max|seq|mask)
-- ARGV[1] user id   ARGV[2] pseudonym   ARGV[3] the user's mask   ARGV[4] the pseudonym's mask
-- ARGV[5..] the idempotency keys of the user's `k:<user>|<key>` recorded answers
-- Each `k:<user>|<key>` becomes `k:<pseudonym>|<key>`; `leader` and `winner` naming the user name
-- the pseudonym (price, maxima, reserve and outcome unchanged: finance and the settle replay keep
-- them), `lmask` their mask; the bidders entry moves with its maximum and sequence kept, so a
-- runner-up queue built later ranks the same.
-- Returns: {1, fields} (fields changed, 0 when the user has nothing here)
--        | {0, 'AUCTION_NOT_FOUND'} | {0, 'INVALID_INPUT'}
-- Events: none
local auction_key, bidders_key = KEYS[1], KEYS[2]
local user, pseudo, umask, pmask = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
if not (safe_id(user) and safe_id(pseudo) and user ~= pseudo and string.find(umask, '^%x+$')
  and string.find(pmask, '^%x+$')) then
  return { 0, 'INVALID_INPUT' }
end
local a = redis.call('HMGET', auction_key, 'status', 'leader', 'winner', 'lmask')
if not a[1] then return { 0, 'AUCTION_NOT_FOUND' } end

local fields = 0
for i = 5, #ARGV do
  if not safe_id(ARGV[i]) then return { 0, 'INVALID_INPUT' } end
  local from = 'k:' .. user .. '|' .. ARGV[i]
  local value = redis.call('HGET', auction_key, from)
  if value then
    redis.call('HSET', auction_key, 'k:' .. pseudo .. '|' .. ARGV[i], value)
    redis.call('HDEL', auction_key, from)
    fields = fields + 1
  end
end
if a[2] == user then
  redis.call('HSET', auction_key, 'leader', pseudo)
  fields = fields + 1
end
if a[3] == user then
  redis.call('HSET', auction_key, 'winner', pseudo)
  fields = fields + 1
end
if a[4] == umask then
  redis.call('HSET', auction_key, 'lmask', pmask)
  fields = fields + 1
end
local bid = redis.call('HGET', bidders_key, user)
if bid then
  local b = split(bid)
  if b[3] == umask then b[3] = pmask end
  redis.call('HSET', bidders_key, pseudo, b[1] .. '|' .. b[2] .. '|' .. b[3])
  redis.call('HDEL', bidders_key, user)
  fields = fields + 1
end
return { 1, fields }
