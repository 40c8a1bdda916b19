-- status: a consistent snapshot of a drop (read only).
-- KEYS[1] drop state hash
-- ARGV[1] drop id
-- Returns: {1, now, state, params, room, mode, starts, ends, hold, limit, initial, restocked,
--           available, held, sold, ver, created, fwin, fhash, falloc, fseedpub, fmode, wloff, wlen,
--           wserved, fmt, pin}
--        | {0, 'DROP_NOT_FOUND'}   (the fair-window fields are false for other drops; fseedpub,
--          the revealed seed, is set only once the window is allocated; fmode is 'raffle' for a
--          raffle; wloff '1' when the waitlist is off; wlen and wserved count the hand-off queue; fmt the
--          format, false before formats; pin '1' while a buy-it-now drop is pinned)
-- Events: none
local v = redis.call('HMGET', KEYS[1], 'params', 'room', 'mode', 'starts', 'ends', 'hold', 'limit',
  'initial', 'restocked', 'available', 'held', 'sold', 'ver', 'created', 'fwin', 'fhash', 'falloc', 'fseedpub',
  'fmode', 'wloff', 'wlen', 'wserved', 'fmt', 'pin')
if not v[1] then return { 0, 'DROP_NOT_FOUND' } end
local now = now_ms()
local out = { 1, now, effective_state(v[3], tonumber(v[4]), tonumber(v[5]), tonumber(v[10]), now) }
for i = 1, #v do out[#out + 1] = v[i] end
return out
