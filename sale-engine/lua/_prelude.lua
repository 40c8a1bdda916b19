-- Shared helpers, prepended to every script by sale-engine/scripts.ts (EVAL has no includes).
-- Counters live in the drop's meta hash: available, held, sold, initial, restocked, seq, ver.
-- Reservation record (hash `res`, field = reservation id): user|qty|deadline|status|idemKey
--   status: H held, C confirmed (sold), R released, X expired.

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

-- Fields every event carries, read in one call: the drop's counters and window.
local META_FIELDS = { 'room', 'mode', 'starts', 'ends', 'available', 'held', 'sold', 'ver', 'hold', 'limit' }
local function read_meta(meta_key)
  local v = redis.call('HMGET', meta_key, unpack(META_FIELDS))
  if not v[2] then return nil end
  return {
    room = v[1], mode = v[2], starts = tonumber(v[3]), ends = tonumber(v[4]),
    available = tonumber(v[5]), held = tonumber(v[6]), sold = tonumber(v[7]),
    ver = tonumber(v[8]), hold = tonumber(v[9]), limit = tonumber(v[10]),
  }
end

-- Persist the counters changed in `m`, bump the event version, then publish `ev` on the
-- drop's shard channel and, when `outbox_key` is given, append it to the drop's outbox stream.
local function commit_and_emit(meta_key, channel, outbox_key, drop_id, m, now, ev)
  m.ver = m.ver + 1
  redis.call('HSET', meta_key, 'available', m.available, 'held', m.held, 'sold', m.sold, 'ver', m.ver)
  ev.drop = drop_id
  ev.room = m.room
  ev.v = m.ver
  ev.at = now
  ev.state = effective_state(m.mode, m.starts, m.ends, m.available, now)
  ev.available = m.available
  ev.held = m.held
  ev.sold = m.sold
  local payload = cjson.encode(ev)
  if outbox_key then
    redis.call('XADD', outbox_key, '*', 'e', payload)
  end
  redis.call('SPUBLISH', channel, payload)
end

-- Hand a held reservation's units back (release or expiry). Caller has checked status == H.
local function return_hold(meta_key, holds_key, res_key, users_key, channel, outbox_key, drop_id, m, now, rid, rec, status)
  local qty = tonumber(rec[2])
  m.held = m.held - qty
  m.available = m.available + qty
  redis.call('ZREM', holds_key, rid)
  redis.call('HSET', res_key, rid, rec[1] .. '|' .. rec[2] .. '|' .. rec[3] .. '|' .. status .. '|' .. rec[5])
  if redis.call('HINCRBY', users_key, rec[1], -qty) <= 0 then
    redis.call('HDEL', users_key, rec[1])
  end
  local reason = 'released'
  if status == 'X' then reason = 'expired' end
  commit_and_emit(meta_key, channel, outbox_key, drop_id, m, now, {
    type = 'reservation.released', reservation = rid, user = rec[1], qty = qty, reason = reason,
  })
end
