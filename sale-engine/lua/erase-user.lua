-- erase-user: move one user's records in one drop to their pseudonym (privacy erasure). The
-- caller finds the user's idempotency keys with HSCAN (so this script never walks the hash).
-- KEYS[1] drop state hash   KEYS[2] holds zset   KEYS[3] outbox stream   KEYS[4] event channel
-- KEYS[5] event log stream   KEYS[6] fair-window entries hash
-- ARGV[1] drop id   ARGV[2] user id   ARGV[3] pseudonym   ARGV[4] event log length (MAXLEN ~)
-- ARGV[5..] the idempotency keys of the user's `i:<user>|<key>` fields; none: only the user's
--           units field `u:<user>` moves, whole (it outlived the records it counted)
-- Each `i:<user>|<key>` becomes `i:<pseudonym>|<key>`; the `r:<rid>` record it names gets the
-- pseudonym as its buyer; the units of those records (held and sold) move from `u:<user>` to
-- `u:<pseudonym>` (added to any count there). Stock counters stay as they are. Then every hold of
-- theirs still held is released, as release.lua does: nobody can pay it any more (checkout pays
-- only the hold's own buyer), so it would only keep stock from the room until its deadline.
-- Fair windows: an entry not allocated yet (`qty|E|eid`) is withdrawn (entry, attempt field and
-- `eu:<user>` deleted: the draw has not been published); an allocated one keeps its
-- place in the published draw with the pseudonym as its user.
-- Hand-off queue: the user's ticket gets the pseudonym; a waiting one is withdrawn (K: the hand-off
-- skips it, nobody could pay its hold).
-- Returns: {1, fields, records, released} (fields renamed, records rewritten, holds released;
--          all 0 when the user has nothing here) | {0, 'DROP_NOT_FOUND'} | {0, 'INVALID_INPUT'}
-- Events: reservation.released (reason released, user = the pseudonym), one per released hold
local state_key, holds_key = KEYS[1], KEYS[2]
local drop_id, user, pseudo, log_len = ARGV[1], ARGV[2], ARGV[3], log_length(ARGV[4])
if not (log_len and safe_id(user) and safe_id(pseudo) and user ~= pseudo) then
  return { 0, 'INVALID_INPUT' }
end
local m = read_meta(state_key)
if not m then return { 0, 'DROP_NOT_FOUND' } end

local ufrom, uto = 'u:' .. user, 'u:' .. pseudo
local fields, records, units, held = 0, 0, 0, {}
for i = 5, #ARGV do
  local key = ARGV[i]
  if not safe_id(key) then return { 0, 'INVALID_INPUT' } end
  local from = 'i:' .. user .. '|' .. key
  local value = redis.call('HGET', state_key, from)
  if value then
    local p = split(value)
    if p[2] == 'E' then
      redis.call('HDEL', KEYS[6], p[3])
    else
      redis.call('HSET', state_key, 'i:' .. pseudo .. '|' .. key, value)
      local eid = redis.sha1hex(user .. '|' .. key)
      local entry = redis.call('HGET', KEYS[6], eid)
      if entry and string.sub(entry, 1, #user + 1) == user .. '|' then
        redis.call('HSET', KEYS[6], eid, pseudo .. string.sub(entry, #user + 1))
      end
    end
    redis.call('HDEL', state_key, from)
    fields = fields + 1
    -- qty|1|rid|...: a recorded hold (an old `qty|0|CODE` refusal names no record)
    local raw = p[2] == '1' and p[3] and redis.call('HGET', state_key, 'r:' .. p[3])
    local rec = raw and split(raw)
    if rec and rec[1] == user then
      rec[1] = pseudo
      redis.call('HSET', state_key, 'r:' .. p[3], record(rec, rec[4]))
      records = records + 1
      if rec[4] == 'H' or rec[4] == 'C' then units = units + tonumber(rec[2]) end
      if rec[4] == 'H' then held[#held + 1] = { p[3], rec } end
    end
  end
end

-- What the per-user limit counts follows the records it counts.
if #ARGV == 4 then units = tonumber(redis.call('HGET', state_key, ufrom) or '0') end
if units > 0 then
  if redis.call('HINCRBY', state_key, ufrom, -units) <= 0 then redis.call('HDEL', state_key, ufrom) end
  redis.call('HINCRBY', state_key, uto, units)
  if #ARGV == 4 then fields = fields + 1 end
end

local ticket = redis.call('HGET', state_key, 'w:' .. user)
if ticket then
  local t = split(redis.call('HGET', state_key, 't:' .. ticket) or '||||')
  if t[4] == 'W' then t[4] = 'K' end
  -- an auction's runner-up ticket carries its own price (t[6]): kept
  local price = ''
  if t[6] and t[6] ~= '' then price = '|' .. t[6] end
  redis.call('HSET', state_key, 't:' .. ticket,
    pseudo .. '|' .. t[2] .. '|' .. t[3] .. '|' .. t[4] .. '|' .. t[5] .. price, 'w:' .. pseudo, ticket)
  redis.call('HDEL', state_key, 'w:' .. user)
  fields = fields + 1
end

-- Units entered in a fair window count only entries, all withdrawn above or allocated already.
-- The list of their entries ee:<user> goes with them (it names the user).
if #ARGV > 4 then redis.call('HDEL', state_key, 'eu:' .. user, 'ee:' .. user) end

local out = sink(KEYS[4], KEYS[5], log_len, KEYS[3])
local now = now_ms()
for _, h in ipairs(held) do
  return_hold(state_key, holds_key, out, drop_id, m, now, h[1], h[2], 'R')
end
return { 1, fields, records, #held }
