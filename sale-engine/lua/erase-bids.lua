-- erase-bids: one page of rewriting an auction's bid history with a user's id and mask replaced by
-- the pseudonym's (privacy erasure). A stream entry cannot change in place, so the entries are
-- copied, ids kept, into a scratch stream of the same hash tag; the call that copies the last
-- page replaces the history with the copy, atomically, so a bid accepted meanwhile (it is added
-- after the cursor) is copied too and none is lost.
-- KEYS[1] bid history stream   KEYS[2] scratch stream (same hash tag)
-- ARGV[1] user id   ARGV[2] pseudonym   ARGV[3] the user's mask   ARGV[4] the pseudonym's mask
-- ARGV[5] cursor: the last id copied, or '-' to start (the scratch stream is emptied first)
-- ARGV[6] entries per page
-- Entry fields: u bidder, l leader (user ids), k, lk their masks; the others are copied as they are.
-- Returns: {1, done (1|0), cursor, entries changed} | {0, 'INVALID_INPUT'}
-- Events: none
local bids_key, scratch_key = KEYS[1], KEYS[2]
local user, pseudo, umask, pmask, cursor, page = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[6])
if not (safe_id(user) and safe_id(pseudo) and user ~= pseudo and string.find(umask, '^%x+$')
  and string.find(pmask, '^%x+$') and page and page >= 1 and page == math.floor(page)
  and (cursor == '-' or string.find(cursor, '^%d+%-%d+$'))) then
  return { 0, 'INVALID_INPUT' }
end
local from = '-'
if cursor == '-' then
  redis.call('DEL', scratch_key)
else
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
  if redis.call('EXISTS', scratch_key) == 1 then redis.call('RENAME', scratch_key, bids_key) end
  return { 1, 1, cursor, changed }
end
return { 1, 0, cursor, changed }
