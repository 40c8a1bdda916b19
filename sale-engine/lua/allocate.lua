-- allocate: close a drop's fair window. The entries recorded by reserve.lua in [starts, starts +
-- fwin] share the stock in the draw order the engine computed from the seed (HMAC-SHA256, see
-- sale-engine/draw.ts; Lua has no SHA-256): this script checks that the order is a permutation
-- of exactly the recorded entries and that the seed is the one stored at create, then walks it.
-- Each entry gets min(qty, stock left, limit - units its user holds or bought); a winner's units
-- become a normal hold (record, deadline now + hold, holds zset, reservation.placed in the
-- outbox, `via` draw), so orders and expiry work unchanged. The seed is revealed (field fseedpub,
-- event). A raffle (field fmode) also queues the entries that won nothing, in draw order, as the
-- drop's hand-off queue (tickets 1.., see hand_off in _prelude.lua): an unpaid winner's
-- units go to them before they go back on sale.
-- KEYS[1] drop state hash   KEYS[2] holds zset   KEYS[3] outbox stream   KEYS[4] event channel
-- KEYS[5] event log stream   KEYS[6] fair-window entries hash
-- ARGV[1] drop id   ARGV[2] event log length   ARGV[3] seed (hex)   ARGV[4] n
-- ARGV[5 .. 4 + 2n] the entries in draw order: entry id, the user's mask (32 hex chars)
-- ARGV[5 + 2n] optional, a giveaway's presence: n characters, the i-th '0' when the i-th entry's
--          user was not in the room at the draw (skipped: wins nothing, takes no stock, is not
--          queued; entries-hash outcome S, `skipped` in the event), '1' when present
-- A giveaway (field fmt) takes no buy after its draw (reserve.lua) and its winners' holds are at
-- price 0: `priceMinor` 0 on their reservation.placed and records.
-- Returns: {1, allocated now (1|0: done before), winners, losers, units, stock at close}
--        | {0, 'NOT_STARTED', due at}   (the window is still open: nothing changed)
--        | {0, 'DROP_NOT_FOUND'} | {0, 'INVALID_INPUT'} (not a fair drop, bad arguments)
--        | {0, 'DRAW_MISMATCH'} (the order is not exactly the recorded entries, or another seed)
-- Events: reservation.placed per winner (event log and outbox), then fair.allocated (counts,
--         seed, the entries in draw order with masked users; event log and channel only)
local state_key, holds_key, entries_key = KEYS[1], KEYS[2], KEYS[6]
local drop_id, log_len, seed, n = ARGV[1], log_length(ARGV[2]), ARGV[3], tonumber(ARGV[4])
if not (log_len and n and n >= 0 and (#ARGV == 4 + 2 * n or #ARGV == 5 + 2 * n)) then return { 0, 'INVALID_INPUT' } end
local present = ARGV[5 + 2 * n]
if present and not (#present == n and not string.find(present, '[^01]')) then return { 0, 'INVALID_INPUT' } end

local m, fwin, falloc = read_meta(state_key, 'fwin', 'falloc')
if not m then return { 0, 'DROP_NOT_FOUND' } end
local giveaway = redis.call('HGET', state_key, 'fmt') == 'giveaway'
-- a giveaway's holds name their price (0); other draws' holds are at the product's price
local price_json, price_rec = '', ''
if giveaway then price_json, price_rec = '"priceMinor":0,', '|0' end
local mode = 'window'
if redis.call('HGET', state_key, 'fmode') == 'raffle' then mode = 'raffle' end
fwin = tonumber(fwin or '0')
if fwin <= 0 then return { 0, 'INVALID_INPUT' } end
if falloc then
  local r = split(redis.call('HGET', state_key, 'fres') or '0|0|0|0')
  return { 1, 0, tonumber(r[1]), tonumber(r[2]), tonumber(r[3]), tonumber(r[4]) }
end
local now = now_ms()
if now <= m.starts + fwin then return { 0, 'NOT_STARTED', m.starts + fwin } end
if redis.call('HGET', state_key, 'fseed') ~= seed then return { 0, 'DRAW_MISMATCH' } end
if redis.call('HLEN', entries_key) ~= n then return { 0, 'DRAW_MISMATCH' } end

-- Check the whole order before writing anything: every id recorded, none twice.
local recs, seen = {}, {}
for i = 1, n do
  local eid, mask = ARGV[3 + 2 * i], ARGV[4 + 2 * i]
  local raw = redis.call('HGET', entries_key, eid)
  if not raw or seen[eid] or #mask ~= 32 or not string.find(mask, '^%x+$') then return { 0, 'DRAW_MISMATCH' } end
  seen[eid] = true
  recs[i] = split(raw)
end

-- An ended drop sells nothing more: every entry loses.
local stock = m.available
if effective_state(m.mode, m.starts, m.ends, m.available, now) == 'ended' then stock = 0 end
local left, deadline = stock, now + m.hold
local units, winners, units_total = {}, 0, 0
local placed, listed, tickets = {}, {}, 0
for i = 1, n do
  local eid, rec = ARGV[3 + 2 * i], recs[i]
  local user, qty, key = rec[1], tonumber(rec[2]), rec[3]
  local ufield = 'u:' .. user
  local owned = units[ufield] or tonumber(redis.call('HGET', state_key, ufield) or '0')
  local skipped = present and string.sub(present, i, i) == '0'
  local granted = math.max(0, math.min(qty, left, m.limit - owned))
  if skipped then granted = 0 end
  local ifield = 'i:' .. user .. '|' .. key
  local base = user .. '|' .. qty .. '|' .. key
  if granted > 0 then
    left = left - granted
    units[ufield] = owned + granted
    winners = winners + 1
    units_total = units_total + granted
    m.seq = m.seq + 1
    m.ver = m.ver + 1
    m.available = m.available - granted
    m.held = m.held + granted
    local rid = drop_id .. '.' .. m.seq
    redis.call('HSET', state_key, ufield, owned + granted, 'r:' .. rid,
      user .. '|' .. granted .. '|' .. deadline .. '|H|' .. key .. price_rec,
      ifield, qty .. '|1|' .. rid .. '|' .. deadline .. '|' .. m.available)
    redis.call('ZADD', holds_key, deadline, rid)
    redis.call('HSET', entries_key, eid, base .. '|W|' .. rid .. '|' .. granted .. '|' .. i)
    placed[#placed + 1] = event_json('reservation.placed',
      '"reservation":"' .. rid .. '","user":"' .. user .. '","qty":' .. granted .. ',"deadline":' .. deadline
        .. ',"via":"draw",' .. price_json,
      event_head(drop_id, m, now), m.ver, effective_state(m.mode, m.starts, m.ends, m.available, now),
      m.available, m.held, m.sold)
  elseif skipped then
    redis.call('HSET', state_key, ifield, qty .. '|L|' .. eid)
    redis.call('HSET', entries_key, eid, base .. '|S||0|' .. i)
  else
    redis.call('HSET', state_key, ifield, qty .. '|L|' .. eid)
    redis.call('HSET', entries_key, eid, base .. '|L||0|' .. i)
    if mode == 'raffle' then
      tickets = tickets + 1
      redis.call('HSET', state_key, 't:' .. tickets, base .. '|W|', 'w:' .. user, tickets)
    end
  end
  local flag = ''
  if skipped then flag = ',"skipped":true' end
  listed[i] = '{"entry":"' .. eid .. '","user":"' .. ARGV[4 + 2 * i] .. '","qty":' .. qty .. ',"granted":' .. granted .. flag .. '}'
end

local result = winners .. '|' .. (n - winners) .. '|' .. units_total .. '|' .. stock
redis.call('HSET', state_key, 'available', m.available, 'held', m.held, 'ver', m.ver, 'seq', m.seq,
  'falloc', now, 'fres', result, 'fseedpub', seed)
if tickets > 0 then redis.call('HSET', state_key, 'wlen', tickets, 'wserved', 0) end
if #placed > 0 then emit(sink(KEYS[4], KEYS[5], log_len, KEYS[3]), placed) end
m.ver = m.ver + 1
redis.call('HSET', state_key, 'ver', m.ver)
emit(sink(KEYS[4], KEYS[5], log_len, nil), { event_json('fair.allocated',
  '"mode":"' .. mode .. '","seed":"' .. seed .. '","stock":' .. stock .. ',"units":' .. units_total .. ',"winners":' .. winners
    .. ',"losers":' .. (n - winners) .. ',"entries":[' .. table.concat(listed, ',') .. '],',
  event_head(drop_id, m, now), m.ver, effective_state(m.mode, m.starts, m.ends, m.available, now),
  m.available, m.held, m.sold) })
return { 1, 1, winners, n - winners, units_total, stock }
