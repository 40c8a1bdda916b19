-- waitlist: join a sold-out first-come drop's waitlist. A ticket takes no stock: released and
-- expired holds go to the waiting tickets in order (hand_off in _prelude.lua), each a new hold.
-- KEYS[1] drop state hash (the queue's tickets are its t:<n> and w:<user> fields)
-- ARGV[1] drop id   ARGV[2] user id   ARGV[3] qty   ARGV[4] idempotency key (the key of the hold
--         the ticket gets, so a buy retry with it replays that hold)   ARGV[5] most waiting tickets
-- Returns: {1, ticket, position, replayed} (one ticket per user: a join again, with any key or
--          qty, answers the user's ticket, replayed 1; position 0 once it was served or skipped)
--        | {0, 'WAITLIST_CLOSED'} (not sold out, not live, a raffle, a fair window still open, or
--          the drop's waitlist is off) | {0, 'LIMIT_EXCEEDED'} (the user's units + qty pass the
--          limit) | {0, 'WAITLIST_FULL'} | {0, 'QTY_ABOVE_LIMIT', limit} | {0, 'DROP_NOT_FOUND'}
--        | {0, 'INVALID_INPUT'}   (a refusal writes nothing)
-- Events: none (the counters are in status: wlen, wserved)
local state_key = KEYS[1]
local user, qty, key, max = ARGV[2], tonumber(ARGV[3]), ARGV[4], tonumber(ARGV[5])
if not (safe_id(user) and safe_id(key) and qty and qty >= 1 and qty == math.floor(qty)
  and max and max >= 1) then
  return { 0, 'INVALID_INPUT' }
end
local m, fwin, falloc = read_meta(state_key, 'fwin', 'falloc')
if not m then return { 0, 'DROP_NOT_FOUND' } end
local w = redis.call('HMGET', state_key, 'wlen', 'wserved', 'fmode', 'wloff', 'u:' .. user)
local len, served = tonumber(w[1] or '0'), tonumber(w[2] or '0')

-- A raffle's queue is its drawn order (its tickets are not joined); a fair window is a draw.
if w[3] == 'raffle' or w[4] == '1' or (tonumber(fwin or '0') > 0 and not falloc) then
  return { 0, 'WAITLIST_CLOSED' }
end
local mine = tonumber(redis.call('HGET', state_key, 'w:' .. user) or '')
if mine then return { 1, mine, math.max(0, mine - served), 1 } end
if qty > m.limit then return { 0, 'QTY_ABOVE_LIMIT', m.limit } end
if effective_state(m.mode, m.starts, m.ends, m.available, now_ms()) ~= 'sold_out' then
  return { 0, 'WAITLIST_CLOSED' }
end
if tonumber(w[5] or '0') + qty > m.limit then return { 0, 'LIMIT_EXCEEDED' } end
if len - served >= max then return { 0, 'WAITLIST_FULL' } end

len = len + 1
redis.call('HSET', state_key, 't:' .. len, user .. '|' .. qty .. '|' .. key .. '|W|', 'w:' .. user, len, 'wlen', len)
return { 1, len, len - served, 0 }
