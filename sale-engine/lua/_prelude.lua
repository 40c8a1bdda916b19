-- Shared helpers, prepended to every script by sale-engine/scripts.ts (EVAL has no includes).
-- One hash per drop (KEYS[1], "state") holds, by field:
--   meta: params room mode starts ends hold limit initial restocked available held sold seq ver created
--   r:<rid>           reservation record  user|qty|deadline|status|idemKey[|priceMinor]
--                     (priceMinor: a hold at another price than the product's, an auction's)
--                     (status: H held, C confirmed = sold, R released, X expired)
--   i:<user>|<key>    recorded hold  qty|1|rid|deadline|available (refusals are not recorded)
--   u:<user>          units the user holds + bought (what the per-user limit counts)
--   wlen wserved      the hand-off queue's tickets handed out and served or skipped (see hand_off)
--   t:<n>  w:<user>   the hand-off queue's tickets (see hand_off)
-- One HMGET and one HSET on this hash serve a whole batch of reserves (see reserve.lua).

-- Server clock in milliseconds (Redis TIME: the only clock the sale trusts).
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- What a buyer sees: host mode (active|paused|ended) combined with the window and stock.
local function effective_state(mode, starts, ends, available, now)
  if mode == 'ended' or (ends > 0 and now >= ends) then return 'ended' end
  if mode == 'paused' then return 'paused' end
  if now < starts then return 'scheduled' end
  if available <= 0 then return 'sold_out' end
  return 'live'
end

local function split(s)
  local out = {}
  for part in string.gmatch(s, '([^|]*)|?') do
    out[#out + 1] = part
  end
  return out
end

-- The drop's meta fields plus up to two more (`a`, `b`), in one HMGET.
-- Returns nil when the drop is unknown, else the meta table and the values of `a` and `b`.
local function read_meta(state_key, a, b)
  local v = redis.call('HMGET', state_key, 'room', 'mode', 'starts', 'ends', 'available', 'held', 'sold',
    'ver', 'hold', 'limit', 'seq', a or 'room', b or 'room')
  if not v[2] then return nil end
  return {
    room = v[1], mode = v[2], starts = tonumber(v[3]), ends = tonumber(v[4]),
    available = tonumber(v[5]), held = tonumber(v[6]), sold = tonumber(v[7]),
    ver = tonumber(v[8]), hold = tonumber(v[9]), limit = tonumber(v[10]), seq = tonumber(v[11]),
  }, v[12], v[13]
end

-- The part every event of one script call shares: drop, room and server time.
local function event_head(drop_id, m, now)
  return '"drop":"' .. drop_id .. '","room":"' .. m.room .. '","at":' .. now
end

-- One event as JSON. `fields_json` holds the event's own fields (`"name":value,` each). JSON is
-- built by concatenation: every string in it (ids, room, user, state, type) is limited by the
-- callers' schemas, and by safe_id below, to characters that need no escaping. Number to string
-- conversion is the costly part of this in Lua, so hot callers pass numbers already as strings.
local function event_json(type, fields_json, head, ver, state, available, held, sold)
  return '{"type":"' .. type .. '",' .. fields_json .. head .. ',"v":' .. ver .. ',"state":"' .. state
    .. '","available":' .. available .. ',"held":' .. held .. ',"sold":' .. sold .. '}'
end

-- The event log's length (entries, trimmed with MAXLEN ~), passed by the engine as an ARGV;
-- nil unless a whole number in 1..10^9.
local function log_length(s)
  local n = tonumber(s)
  if n and n >= 1 and n <= 1000000000 and n == math.floor(n) then return n end
  return nil
end

-- Where one script's events go, every key under the drop's hash tag: the shard channel, the
-- event log stream (about `log_len` entries) and, for reservation events, the outbox stream.
local function sink(channel, log_key, log_len, outbox_key)
  return { channel = channel, log = log_key, log_len = log_len, outbox = outbox_key }
end

-- Publishes events (a list of JSON strings) as one JSON array on the drop's shard channel and
-- appends the same array as one entry (field `e`) to the event log and, if any, the outbox.
local function emit(out, events)
  local payload = '[' .. table.concat(events, ',') .. ']'
  if out.outbox then
    redis.call('XADD', out.outbox, '*', 'e', payload)
  end
  redis.call('XADD', out.log, 'MAXLEN', '~', out.log_len, '*', 'e', payload)
  redis.call('SPUBLISH', out.channel, payload)
end

-- For single-change scripts: one event, then the counters in `m` plus the (name, value, ...)
-- pairs in `...` written in one HSET, then the event emitted to `out` (see sink).
local function commit_and_emit(state_key, out, drop_id, m, now, type, fields_json, ...)
  m.ver = m.ver + 1
  local event = event_json(type, fields_json, event_head(drop_id, m, now), m.ver,
    effective_state(m.mode, m.starts, m.ends, m.available, now), m.available, m.held, m.sold)
  redis.call('HSET', state_key, 'available', m.available, 'held', m.held, 'sold', m.sold, 'ver', m.ver,
    'seq', m.seq, ...)
  emit(out, { event })
end

-- Ids that go into keys, fields and event JSON unescaped (checked again here so a direct
-- EVALSHA caller cannot smuggle in a separator or a quote).
local function safe_id(s)
  return s ~= nil and #s > 0 and #s <= 128 and string.find(s, '^[%w_.:@-]+$') ~= nil
end

local function record(rec, status)
  local s = rec[1] .. '|' .. rec[2] .. '|' .. rec[3] .. '|' .. status .. '|' .. rec[5]
  if rec[6] and rec[6] ~= '' then s = s .. '|' .. rec[6] end
  return s
end

-- The hand-off queue (fields of the drop state hash): a raffle's entrants who did not win, in
-- drawn order, or a first-come drop's waitlist, in joining order. Ticket n (1-based):
--   t:<n>             user|qty|idemKey|S|rid[|priceMinor]   (S: W waiting, O offered a hold rid,
--                     K skipped; priceMinor: an auction runner-up's own price, carried by the hold)
--   w:<user>          n (one ticket per user: a join again, with any key, answers it)
-- Units a released or expired hold frees, or a restock adds, go to tickets wserved + 1, ... in
-- order, each a new hold of min(qty, units left, limit - units the user has) with its own
-- deadline (via `handoff` on a raffle, `waitlist` else); a user with no room under the limit is skipped. Only on a live drop
-- (active, started, not ended). Appends the reservation.placed events to `events`; the caller
-- writes the counters in `m`. Returns the units that found no ticket (they stay on sale).
local function hand_off(state_key, holds_key, drop_id, m, now, units, events)
  if m.mode ~= 'active' or now < m.starts or (m.ends > 0 and now >= m.ends) then
    return units
  end
  local q = redis.call('HMGET', state_key, 'wlen', 'wserved', 'fmode', 'fmt')
  local len, served = tonumber(q[1] or '0'), tonumber(q[2] or '0')
  if served >= len then return units end
  -- the next in a drawn or bid order: a raffle's entrant or an auction's runner-up
  local via = 'waitlist'
  if q[3] == 'raffle' or q[4] == 'auction' then via = 'handoff' end
  local deadline = now + m.hold
  local head = event_head(drop_id, m, now)
  while units > 0 and served < len do
    served = served + 1
    local tfield = 't:' .. served
    local t = split(redis.call('HGET', state_key, tfield) or '||||')
    local user, want, key = t[1], tonumber(t[2]) or 0, t[3]
    local price = t[6] ~= nil and t[6] ~= '' and tonumber(t[6]) and t[6] or nil
    local price_rec, price_json = '', ''
    if price then price_rec, price_json = '|' .. price, ',"priceMinor":' .. price end
    local ufield = 'u:' .. user
    local owned = tonumber(redis.call('HGET', state_key, ufield) or '0')
    local granted = math.min(want, units, m.limit - owned)
    if t[4] ~= 'W' or granted <= 0 or not (safe_id(user) and safe_id(key)) then
      -- withdrawn (erasure) or at the limit: skipped, recorded as such
      if t[4] == 'W' then redis.call('HSET', state_key, tfield, user .. '|' .. t[2] .. '|' .. key .. '|K|') end
    else
      units = units - granted
      m.seq = m.seq + 1
      m.ver = m.ver + 1
      m.available = m.available - granted
      m.held = m.held + granted
      local rid = drop_id .. '.' .. m.seq
      local ifield = 'i:' .. user .. '|' .. key
      local prior = redis.call('HGET', state_key, ifield)
      local p = prior and split(prior)
      -- The ticket's key replays this hold on a buy retry, unless the key already names a hold.
      if not (p and p[2] == '1') then
        redis.call('HSET', state_key, ifield, want .. '|1|' .. rid .. '|' .. deadline .. '|' .. m.available)
      end
      redis.call('HSET', state_key, ufield, owned + granted, 'r:' .. rid,
        user .. '|' .. granted .. '|' .. deadline .. '|H|' .. key .. price_rec)
      redis.call('ZADD', holds_key, deadline, rid)
      redis.call('HSET', state_key, tfield, user .. '|' .. want .. '|' .. key .. '|O|' .. rid .. price_rec)
      events[#events + 1] = event_json('reservation.placed',
        '"reservation":"' .. rid .. '","user":"' .. user .. '","qty":' .. granted .. ',"deadline":' .. deadline
          .. ',"via":"' .. via .. '"' .. price_json .. ',',
        head, m.ver, effective_state(m.mode, m.starts, m.ends, m.available, now), m.available, m.held, m.sold)
    end
  end
  redis.call('HSET', state_key, 'wserved', served)
  return units
end

-- Hand a held reservation's units back (release or expiry). Caller has checked status == H.
-- With tickets waiting in the hand-off queue, the units go to them first (see hand_off): the
-- release event shows them back on sale, the placed events right after it, in the same
-- published array, take them again, so no buyer can take them in between.
local function return_hold(state_key, holds_key, out, drop_id, m, now, rid, rec, status)
  local qty = tonumber(rec[2])
  m.held = m.held - qty
  m.available = m.available + qty
  redis.call('ZREM', holds_key, rid)
  local ufield = 'u:' .. rec[1]
  if redis.call('HINCRBY', state_key, ufield, -qty) <= 0 then
    redis.call('HDEL', state_key, ufield)
  end
  local reason = 'released'
  if status == 'X' then reason = 'expired' end
  m.ver = m.ver + 1
  local events = { event_json('reservation.released',
    '"reservation":"' .. rid .. '","user":"' .. rec[1] .. '","qty":' .. qty .. ',"reason":"' .. reason .. '",',
    event_head(drop_id, m, now), m.ver, effective_state(m.mode, m.starts, m.ends, m.available, now),
    m.available, m.held, m.sold) }
  redis.call('HSET', state_key, 'r:' .. rid, record(rec, status))
  local left = hand_off(state_key, holds_key, drop_id, m, now, qty, events)
  -- An auction's unit never goes on general sale: with no runner-up left, its drop ends (the
  -- end event goes to the channel and log only: the outbox carries reservation events).
  local ended
  if left > 0 and m.mode ~= 'ended' and redis.call('HGET', state_key, 'fmt') == 'auction' then
    m.mode = 'ended'
    m.ver = m.ver + 1
    ended = event_json('drop.state', '"action":"end",', event_head(drop_id, m, now), m.ver,
      'ended', m.available, m.held, m.sold)
    redis.call('HSET', state_key, 'mode', 'ended')
  end
  redis.call('HSET', state_key, 'available', m.available, 'held', m.held, 'sold', m.sold, 'ver', m.ver,
    'seq', m.seq)
  if not ended then
    emit(out, events)
  else
    if out.outbox then redis.call('XADD', out.outbox, '*', 'e', '[' .. table.concat(events, ',') .. ']') end
    events[#events + 1] = ended
    emit(sink(out.channel, out.log, out.log_len, nil), events)
  end
end
