-- erase-bids: one page of rewriting an auction's bid history with a user's id and mask replaced by
-- the pseudonym's (privacy erasure). A stream entry cannot change in place, so the entries are
-- copied, ids kept, into a scratch stream of the same hash tag; the call that copies the last
-- page replaces the history with the copy, atomically, so a bid accepted meanwhile (it is added
-- after the cursor) is copied too and none is lost. One rewrite at a time per auction: the first
-- page takes a lock (a second erase would copy entries the first has not renamed yet and undo
-- it); lock and scratch expire `ttl` after the last page, so a crashed rewrite leaves nothing.
-- KEYS[1] bid history stream   KEYS[2] scratch stream   KEYS[3] lock (all under the drop's tag)
-- ARGV[1] user id   ARGV[2] pseudonym   ARGV[3] the user's mask   ARGV[4] the pseudonym's mask
-- ARGV[5] cursor: the last id copied, or '-' to start (takes the lock, empties the scratch)
-- ARGV[6] entries per page   ARGV[7] run id (the lock's value)   ARGV[8] ttl, ms
-- Entry fields: u bidder, l leader (user ids), k, lk their masks; the others are copied as they are.
-- Returns: {1, done (1|0), cursor, entries changed}
--        | {0, 'BUSY'} (another rewrite holds the lock, or this one lost it: nothing copied)
--        | {0, 'INVALID_INPUT'}
-- Events: none
local bids_key, scratch_key, lock_key = KEYS[1], KEYS[2], KEYS[3]
local user, pseudo, umask, pmask, cursor, page = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[6])
local run, ttl = ARGV[7], tonumber(ARGV[8])
if not (safe_id(user) and safe_id(pseudo) and user ~= pseudo and string.find(umask, '^%x+$')
  and string.find(pmask, '^%x+$') and page and page >= 1 and page == math.floor(page)
  and (cursor == '-' or string.find(cursor, '^%d+%-%d+$')) and safe_id(run) and ttl and ttl >= 1
  and ttl == math.floor(ttl)) then
  return { 0, 'INVALID_INPUT' }
end
local from = '-'
if cursor == '-' then
  if not redis.call('SET', lock_key, run, 'NX', 'PX', ttl) and redis.call('GET', lock_key) ~= run then
    return { 0, 'BUSY' }
  end
  redis.call('DEL', scratch_key)
else
  if redis.call('GET', lock_key) ~= run or redis.call('EXISTS', scratch_key) == 0 then return { 0, 'BUSY' } end
  from = '(' .. cursor
end
local entries = redis.call('XRANGE', bids_key, from, '+', 'COUNT', page)
local changed = 0
local swap = { u = { user, pseudo }, l = { user, pseudo }, k = { umask, pmask }, lk = { umask, pmask } }
for _, e in ipairs(entries) do
  local f, hit = e[2], false
  for i = 1, #f - 1, 2 do
    local s = swap[f[i]]
    if s and f[i + 1] == s[1] then
      f[i + 1] = s[2]
      hit = true
    end
  end
  if hit then changed = changed + 1 end
  redis.call('XADD', scratch_key, e[1], unpack(f))
  cursor = e[1]
end
if #entries < page then
  if redis.call('EXISTS', scratch_key) == 1 then
    redis.call('RENAME', scratch_key, bids_key)
    redis.call('PERSIST', bids_key)
  end
  redis.call('DEL', lock_key)
  return { 1, 1, cursor, changed }
end
redis.call('PEXPIRE', scratch_key, ttl)
redis.call('PEXPIRE', lock_key, ttl)
return { 1, 0, cursor, changed }
