-- reserve: a batch of buy requests for one drop, evaluated one after another in arrival order,
-- each moving `qty` units from available to a hold with a payment deadline. Batching is how a
-- hot drop stays fast: the Redis calls below are paid once per batch, not once per buyer.
-- KEYS[1] drop state hash   KEYS[2] holds zset (rid -> deadline ms)   KEYS[3] outbox stream
-- KEYS[4] event channel   KEYS[5] event log stream   KEYS[6] fair-window entries hash
-- ARGV[1] drop id   ARGV[2] n   then n times: user id, qty, idempotency key
-- ARGV[3 + 3n] event log length (entries, MAXLEN ~)
-- ARGV[4 + 3n .. 3 + 4n] optional (tracing on): each request's W3C traceparent, '' for none
-- Returns: one answer per request, in order:
--          {1, rid, deadline, available, replayed}
--          (a hold is recorded per user and idempotency key: a retry with the same key, in this
--          batch or later, gets the same hold back with replayed = 1, whatever happened since;
--          a batch that only replays rewrites one replayed record unchanged, so a WAIT after it,
--          on whatever connection, covers the hold: the write moves that connection's offset)
--        | {0, CODE, 0} with CODE one of NOT_STARTED, ENDED, PAUSED, NOT_PINNED (a buy-it-now drop
--          not pinned, see pin.lua), SOLD_OUT, LIMIT_EXCEEDED, ENDED also for a drawn giveaway,
--          PAUSED always for an auction's unit,
--          INSUFFICIENT_STOCK: a refusal changes nothing and is not recorded, so a retry with the
--          same key is evaluated afresh (after T0, a resume or a release it may be held)
--        | {0, 'DROP_NOT_FOUND'} | {0, 'IDEMPOTENCY_KEY_REUSED'} (the key holds a hold of another qty)
--        | {0, 'QTY_ABOVE_LIMIT', limit} | {0, 'INVALID_INPUT'} (not recorded, nothing changed;
--          for every request when the log length is bad)
-- Raffle (field fmode = raffle; fwin is its entry window): entries as in a fair window, one per
-- user: a buy of a user who entered, with another key, answers that entry {2, eid, 1}.
-- Every entry's id is also appended to ee:<user> (comma-separated, at most `limit` of them: the
-- entries of a user, for fairEntriesOf).
-- Fair window (drop field fwin > 0, not allocated yet): a buy in [starts, starts + fwin] takes
-- no stock; it is recorded as an entry (KEYS[6] eid -> user|qty|key, eid = sha1hex(user|key);
-- i:<user>|<key> = qty|E|eid; eu:<user> = units the user entered, what the limit counts then)
-- and answered {2, eid, replayed}. After the window and before allocate.lua ran, or once the draw
-- holds fmax entries: {0, 'NOT_STARTED', 0} (retry: after the allocation, first come first served). After allocation a winner's key replays its hold; a loser's
-- record (qty|L|eid) is not a hold, so the same key is evaluated afresh, first come first served.
-- Events: reservation.placed, one per hold, published as one array and appended to the event log
--         and the outbox; with traceparents, the outbox entry also gets field `t`, a JSON object
--         reservation id -> traceparent of each traced hold (the log and channel never carry it)
local state_key, holds_key = KEYS[1], KEYS[2]
local drop_id, n = ARGV[1], tonumber(ARGV[2])
local log_len = n and log_length(ARGV[3 + 3 * n])
if not log_len then
  local bad = { { 0, 'INVALID_INPUT' } }
  for i = 2, n or 1 do bad[i] = bad[1] end
  return bad
end

-- One HMGET: the meta fields, then each request's recorded answer and the user's units.
local fields = { 'room', 'mode', 'starts', 'ends', 'available', 'held', 'sold', 'ver', 'hold', 'limit', 'seq',
  'fwin', 'falloc', 'fmt', 'pin' }
for i = 0, n - 1 do
  local user, key = ARGV[3 + i * 3], ARGV[5 + i * 3]
  fields[#fields + 1] = 'i:' .. user .. '|' .. key
  fields[#fields + 1] = 'u:' .. user
end
local v = redis.call('HMGET', state_key, unpack(fields))
local answers = {}
if not v[2] then
  for i = 1, n do answers[i] = { 0, 'DROP_NOT_FOUND' } end
  return answers
end
local m = {
  room = v[1], mode = v[2], starts = tonumber(v[3]), ends = tonumber(v[4]),
  available = tonumber(v[5]), held = tonumber(v[6]), sold = tonumber(v[7]),
  ver = tonumber(v[8]), hold = tonumber(v[9]), limit = tonumber(v[10]), seq = tonumber(v[11]),
}
local now = now_ms()
-- A buy-it-now drop (field fmt) sells only while pinned (field pin, see pin.lua).
local unpinned = v[14] == 'buy_now' and v[15] ~= '1'
-- A giveaway (field fmt) gives only to its draw: once drawn it takes no buy (ENDED).
local drawn_giveaway = v[14] == 'giveaway' and v[13]
-- An auction's unit is sold by its settle only (auction-settle.lua): never to a plain buy, even
-- when the host resumed its backing drop by hand.
local auction_unit = v[14] == 'auction'
-- In the fair window (until allocate.lua marks it allocated), buys are entries.
local fwin = tonumber(v[12] or '0')
local fair = fwin > 0 and not v[13] and now >= m.starts
-- A raffle (field fmode) takes one entry per user: the first in ee:<user>.
local raffle = fair and redis.call('HGET', state_key, 'fmode') == 'raffle'
-- ee:<user> lists as this batch has written them
local lists = {}
-- The draw's size cap (field fmax) and its entries so far, read once per batch when needed.
local entries_max, entries_n
-- Shared by every hold of this batch, converted to strings once (see event_json).
local deadline = now + m.hold
local deadline_s, sold_s, head = tostring(deadline), tostring(m.sold), event_head(drop_id, m, now)
-- What this batch has recorded so far, so later requests in it see earlier ones.
local recorded, units = {}, {}
local writes, holds, events = {}, {}, {}
-- Trace carriers: only when the caller sent one per request.
local traced, traces = #ARGV == 3 + 4 * n, {}
-- A replayed record (field, value), rewritten when the batch writes nothing else.
local replayed

for i = 0, n - 1 do
  local user, qty_s, key = ARGV[3 + i * 3], ARGV[4 + i * 3], ARGV[5 + i * 3]
  local qty = tonumber(qty_s)
  local ifield, ufield = fields[16 + i * 2], fields[17 + i * 2]
  local prior = recorded[ifield] or v[16 + i * 2]
  -- qty|1|rid|deadline|available. A `qty|0|CODE` refusal written by an earlier version of this
  -- script is ignored: refusals are evaluated afresh (and overwritten by a hold).
  local p = prior and split(prior)
  local entry = p and p[2] == 'E' and p
  if p and p[2] ~= '1' then p = nil end
  local answer
  if not (safe_id(user) and safe_id(key) and qty and qty >= 1 and qty == math.floor(qty)) then
    answer = { 0, 'INVALID_INPUT' }
  elseif entry then
    if tonumber(entry[1]) ~= qty then answer = { 0, 'IDEMPOTENCY_KEY_REUSED' }
    else
      answer = { 2, entry[3], 1 }
      -- rewritten like a replayed hold, so a WAIT after this batch covers the entry
      replayed = { ifield, prior }
    end
  elseif p then
    if tonumber(p[1]) ~= qty then
      answer = { 0, 'IDEMPOTENCY_KEY_REUSED' }
    else
      answer = { 1, p[3], tonumber(p[4]), tonumber(p[5]), 1 }
      replayed = { ifield, prior }
    end
  elseif qty > m.limit then
    answer = { 0, 'QTY_ABOVE_LIMIT', m.limit }
  else
    local owned = units[ufield] or tonumber(v[17 + i * 2] or '0')
    local state = effective_state(m.mode, m.starts, m.ends, m.available, now)
    local code
    if fair and state == 'live' and not entries_max then
      entries_max = tonumber(redis.call('HGET', state_key, 'fmax') or '0')
      entries_n = redis.call('HLEN', KEYS[6])
    end
    local efl = fair and state == 'live' and 'ee:' .. user
    local list = efl and (lists[efl] or redis.call('HGET', state_key, efl))
    if raffle and list then
      -- a raffle's second buy of a user (another key): their first entry, rewritten for a WAIT
      answer = { 2, string.match(list, '^[^,]+'), 1 }
      replayed = { efl, list }
    elseif fair and state == 'live' and (now > m.starts + fwin or entries_n >= entries_max) then
      answer = { 0, 'NOT_STARTED', 0 }
    elseif fair and state == 'live' then
      local efield = 'e' .. ufield
      local entered = units[efield] or tonumber(redis.call('HGET', state_key, efield) or '0')
      if entered + qty > m.limit then
        answer = { 0, 'LIMIT_EXCEEDED', 0 }
      else
        entries_n = entries_n + 1
        local eid = redis.sha1hex(user .. '|' .. key)
        units[efield] = entered + qty
        recorded[ifield] = qty_s .. '|E|' .. eid
        writes[#writes + 1] = efield
        writes[#writes + 1] = entered + qty
        writes[#writes + 1] = ifield
        writes[#writes + 1] = recorded[ifield]
        redis.call('HSET', KEYS[6], eid, user .. '|' .. qty_s .. '|' .. key)
        if list then lists[efl] = list .. ',' .. eid else lists[efl] = eid end
        writes[#writes + 1] = efl
        writes[#writes + 1] = lists[efl]
        answer = { 2, eid, 0 }
      end
    elseif drawn_giveaway then code = 'ENDED'
    elseif auction_unit then code = 'PAUSED'
    elseif state == 'scheduled' then code = 'NOT_STARTED'
    elseif state == 'ended' then code = 'ENDED'
    elseif state == 'paused' then code = 'PAUSED'
    elseif unpinned then code = 'NOT_PINNED'
    elseif state == 'sold_out' then code = 'SOLD_OUT'
    elseif owned + qty > m.limit then code = 'LIMIT_EXCEEDED'
    elseif m.available < qty then code = 'INSUFFICIENT_STOCK'
    end
    if answer then
      -- a fair-window answer (above)
    elseif code then
      answer = { 0, code, 0 }
    else
      m.seq = m.seq + 1
      m.ver = m.ver + 1
      m.available = m.available - qty
      m.held = m.held + qty
      local rid = drop_id .. '.' .. m.seq
      local available_s = tostring(m.available)
      units[ufield] = owned + qty
      recorded[ifield] = qty_s .. '|1|' .. rid .. '|' .. deadline_s .. '|' .. available_s
      writes[#writes + 1] = ufield
      writes[#writes + 1] = owned + qty
      writes[#writes + 1] = 'r:' .. rid
      writes[#writes + 1] = user .. '|' .. qty_s .. '|' .. deadline_s .. '|H|' .. key
      holds[#holds + 1] = deadline_s
      holds[#holds + 1] = rid
      events[#events + 1] = event_json('reservation.placed',
        '"reservation":"' .. rid .. '","user":"' .. user .. '","qty":' .. qty_s .. ',"deadline":' .. deadline_s .. ',',
        head, m.ver, effective_state(m.mode, m.starts, m.ends, m.available, now), available_s, m.held, sold_s)
      answer = { 1, rid, deadline, m.available, 0 }
      local tp = traced and ARGV[4 + 3 * n + i]
      -- version-traceid-spanid-flags in hex: nothing that could break out of the JSON string
      if tp and #tp == 55 and string.find(tp, '^%x%x%-%x+%-%x+%-%x%x$') then
        traces[#traces + 1] = '"' .. rid .. '":"' .. tp .. '"'
      end
      writes[#writes + 1] = ifield
      writes[#writes + 1] = recorded[ifield]
    end
  end
  answers[i + 1] = answer
end

if #events > 0 then
  redis.call('HSET', state_key, 'available', m.available, 'held', m.held, 'ver', m.ver, 'seq', m.seq, unpack(writes))
  redis.call('ZADD', holds_key, unpack(holds))
  if #traces == 0 then
    emit(sink(KEYS[4], KEYS[5], log_len, KEYS[3]), events)
  else
    emit(sink(KEYS[4], KEYS[5], log_len, nil), events)
    redis.call('XADD', KEYS[3], '*', 'e', '[' .. table.concat(events, ',') .. ']', 't', '{' .. table.concat(traces, ',') .. '}')
  end
elseif #writes > 0 then
  redis.call('HSET', state_key, unpack(writes))
elseif replayed then
  redis.call('HSET', state_key, replayed[1], replayed[2])
end
return answers
