-- auction-settle: close an auction at or after its end; idempotent. Reserve met (none, or the
-- leader's maximum reaches it): the winner gets a hold of the backing drop's unit at the winning
-- price (the price, raised to the reserve if below it), in the holds zset and outbox exactly like
-- a buyer's hold; the other bidders whose maximum reaches the reserve are queued in the drop's
-- hand-off queue, highest maximum first (earlier bid first on equal maxima), each at their own
-- maximum, so a released or expired hold goes to the next of them (lua/_prelude.lua hand_off), and
-- with none left the drop ends. Reserve not met (or no bid), or the drop's unit gone (ended or
-- sold by hand): no hold, reserveMet 0, the drop ends.
-- KEYS[1] auction hash   KEYS[2] bidders hash   KEYS[3] drop state hash   KEYS[4] holds zset
-- KEYS[5] outbox stream   KEYS[6] event channel   KEYS[7] event log stream
-- ARGV[1] drop id   ARGV[2] event log length (entries, MAXLEN ~)
-- Returns: {1, replayed, met, winner|'', price|-1, rid|'', runner-ups, ends}
--        | {2, ends} (the end has not come: not settled) | {0, 'AUCTION_NOT_FOUND'}
--        | {0, 'DROP_NOT_FOUND'} | {0, 'INVALID_INPUT'}
-- Events: met: reservation.placed (via auction, priceMinor), drop.state (resume), auction.ended;
--         else drop.state (end), auction.ended (reserveMet false). Only the placed event goes to
--         the outbox.
local auction_key, bidders_key, state_key, holds_key = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local drop_id, log_len = ARGV[1], log_length(ARGV[2])
if not (safe_id(drop_id) and log_len) then return { 0, 'INVALID_INPUT' } end

local a = redis.call('HMGET', auction_key, 'status', 'ends', 'leader', 'lmax', 'price', 'rsv', 'lmask', 'met',
  'winner', 'wprice', 'rid', 'runners')
if not a[1] then return { 0, 'AUCTION_NOT_FOUND' } end
local ends = tonumber(a[2])
if a[1] == 'settled' then
  return { 1, 1, tonumber(a[8]), a[9] or '', tonumber(a[10] or '-1'), a[11] or '', tonumber(a[12] or '0'), ends }
end
local now = now_ms()
if now < ends then return { 2, ends } end
local m = read_meta(state_key)
if not m then return { 0, 'DROP_NOT_FOUND' } end

local leader, lmax, price, rsv, lmask = a[3], tonumber(a[4] or ''), tonumber(a[5]), tonumber(a[6]), a[7]
local met = leader ~= false and leader ~= nil and (rsv < 0 or lmax >= rsv)
local events, placed = {}, nil
local winner, wprice, rid, runners = '', -1, '', 0
local key = 'auction-' .. drop_id
local ended_json
-- The unit must still be there (a host who resumed or ended the drop by hand may have let it go):
-- never a hold past the stock.
if met and m.mode ~= 'ended' and m.available >= 1 then
  winner, wprice = leader, math.max(price, rsv)
  m.mode = 'active'
  if now < m.starts then m.starts = now end
  m.seq = m.seq + 1
  m.ver = m.ver + 1
  m.available = m.available - 1
  m.held = m.held + 1
  rid = drop_id .. '.' .. m.seq
  local deadline = now + m.hold
  redis.call('HSET', state_key, 'u:' .. winner, 1, 'r:' .. rid, winner .. '|1|' .. deadline .. '|H|' .. key .. '|' .. wprice,
    'i:' .. winner .. '|' .. key, '1|1|' .. rid .. '|' .. deadline .. '|' .. m.available)
  redis.call('ZADD', holds_key, deadline, rid)
  local head = event_head(drop_id, m, now)
  placed = event_json('reservation.placed',
    '"reservation":"' .. rid .. '","user":"' .. winner .. '","qty":1,"deadline":' .. deadline
      .. ',"via":"auction","priceMinor":' .. wprice .. ',',
    head, m.ver, effective_state(m.mode, m.starts, m.ends, m.available, now), m.available, m.held, m.sold)
  events[1] = placed
  m.ver = m.ver + 1
  events[2] = event_json('drop.state', '"action":"resume",', head, m.ver,
    effective_state(m.mode, m.starts, m.ends, m.available, now), m.available, m.held, m.sold)
  -- The runner-ups: every other bidder whose maximum reaches the reserve, best first.
  local all, queue = redis.call('HGETALL', bidders_key), {}
  for i = 1, #all, 2 do
    local b = split(all[i + 1])
    local bmax = tonumber(b[1])
    if all[i] ~= winner and (rsv < 0 or bmax >= rsv) and safe_id(all[i]) then
      queue[#queue + 1] = { user = all[i], max = bmax, seq = tonumber(b[2]) }
    end
  end
  table.sort(queue, function(x, y)
    if x.max ~= y.max then return x.max > y.max end
    return x.seq < y.seq
  end)
  local writes = {}
  for n, b in ipairs(queue) do
    writes[#writes + 1] = 't:' .. n
    writes[#writes + 1] = b.user .. '|1|' .. key .. '|W||' .. b.max
    writes[#writes + 1] = 'w:' .. b.user
    writes[#writes + 1] = n
  end
  runners = #queue
  redis.call('HSET', state_key, 'wlen', runners, 'wserved', 0, unpack(writes))
  ended_json = '"winner":"' .. lmask .. '","priceMinor":' .. wprice .. ',"reserveMet":true,'
else
  met = false
  if m.mode ~= 'ended' then
    m.mode = 'ended'
    m.ver = m.ver + 1
    events[#events + 1] = event_json('drop.state', '"action":"end",', event_head(drop_id, m, now), m.ver,
      'ended', m.available, m.held, m.sold)
  end
  ended_json = '"reserveMet":false,'
end
m.ver = m.ver + 1
events[#events + 1] = event_json('auction.ended', '"dropId":"' .. drop_id .. '",' .. ended_json,
  event_head(drop_id, m, now), m.ver, effective_state(m.mode, m.starts, m.ends, m.available, now), m.available,
  m.held, m.sold)

local met_n = 0
if met then met_n = 1 end
redis.call('HSET', auction_key, 'status', 'settled', 'met', met_n, 'winner', winner, 'wprice', wprice, 'rid', rid,
  'runners', runners, 'settled', now)
redis.call('HSET', state_key, 'available', m.available, 'held', m.held, 'sold', m.sold, 'ver', m.ver, 'seq', m.seq,
  'mode', m.mode, 'starts', m.starts)
emit(sink(KEYS[6], KEYS[7], log_len, nil), events)
if placed then redis.call('XADD', KEYS[5], '*', 'e', '[' .. placed .. ']') end
return { 1, 0, met_n, winner, wprice, rid, runners, ends }
