-- create: define a drop. Re-creating with identical parameters is a no-op.
-- KEYS[1] drop state hash   KEYS[2] event channel (shard channel, same hash tag)
-- KEYS[3] event log stream
-- ARGV[1] drop id        ARGV[2] canonical parameter JSON (compared on re-create)
-- ARGV[3] room id        ARGV[4] starts at, ms epoch ('' = now)   ARGV[5] ends at, ms (0 = none)
-- ARGV[6] hold ms        ARGV[7] per-user limit                   ARGV[8] initial stock
-- ARGV[9] event log length (entries, MAXLEN ~)
-- ARGV[10] fair window ms (optional; 0 or absent = first come, first served)
-- ARGV[11] draw seed, 64 hex chars   ARGV[12] its SHA-256, hex   ARGV[13] most entries the draw
--          takes (the last three only with a fair window; the seed is kept in field fseed and
--          revealed by allocate.lua, the hash in fhash, the cap in fmax)
-- ARGV[14] draw mode: 'window' (or absent) or 'raffle' (then ARGV[10] is the raffle's entry
--          window; field fmode = raffle)   ARGV[15] '1': the waitlist is off (field wloff)
--          (ARGV[10..13] may be 0 and '' to pass only these)
-- ARGV[16] format: 'drop' (or absent), 'auction', 'giveaway' or 'buy_now' (field fmt; a
--          buy-it-now drop starts unpinned: field pin '0', see pin.lua)
-- Returns: {1, created (1|0), starts} | {0, 'DROP_CONFLICT'} | {0, 'INVALID_INPUT'}
-- Events: drop.created (with `fairWindow` and `seedHash` for a fair drop, `raffleWindow` and
--         `seedHash` for a raffle, `format` for any format but drop)
-- The engine adds the drop to its active index (another slot) before calling this script.
local state_key = KEYS[1]
local drop_id, params, log_len = ARGV[1], ARGV[2], log_length(ARGV[9])
if not (safe_id(drop_id) and safe_id(ARGV[3]) and log_len) then return { 0, 'INVALID_INPUT' } end

local existing = redis.call('HMGET', state_key, 'params', 'starts')
if existing[1] then
  if existing[1] == params then return { 1, 0, tonumber(existing[2]) } end
  return { 0, 'DROP_CONFLICT' }
end

local now = now_ms()
local starts = now
if ARGV[4] ~= '' then starts = tonumber(ARGV[4]) end
local ends = tonumber(ARGV[5])
if ends > 0 and ends <= starts then return { 0, 'INVALID_INPUT' } end

local fwin = tonumber(ARGV[10] or '0')
local fair_fields, fair_json = {}, ''
if not fwin or fwin < 0 or fwin ~= math.floor(fwin) then return { 0, 'INVALID_INPUT' } end
if fwin > 0 then
  local seed, hash, cap = ARGV[11] or '', ARGV[12] or '', tonumber(ARGV[13] or '')
  if not (#seed == 64 and #hash == 64 and string.find(seed, '^%x+$') and string.find(hash, '^%x+$')
    and cap and cap >= 1 and cap == math.floor(cap)) then
    return { 0, 'INVALID_INPUT' }
  end
  fair_fields = { 'fwin', fwin, 'fseed', seed, 'fhash', hash, 'fmax', cap }
  fair_json = '"fairWindow":' .. fwin .. ',"seedHash":"' .. hash .. '",'
  if ARGV[14] == 'raffle' then
    fair_fields[#fair_fields + 1] = 'fmode'
    fair_fields[#fair_fields + 1] = 'raffle'
    fair_json = '"raffleWindow":' .. fwin .. ',"seedHash":"' .. hash .. '",'
  end
end
if ARGV[14] and ARGV[14] ~= '' and ARGV[14] ~= 'window' and ARGV[14] ~= 'raffle' then return { 0, 'INVALID_INPUT' } end
local fmt = ARGV[16] or ''
if fmt == '' then fmt = 'drop' end
if fmt ~= 'drop' and fmt ~= 'auction' and fmt ~= 'giveaway' and fmt ~= 'buy_now' then return { 0, 'INVALID_INPUT' } end
fair_fields[#fair_fields + 1] = 'fmt'
fair_fields[#fair_fields + 1] = fmt
if fmt ~= 'drop' then fair_json = fair_json .. '"format":"' .. fmt .. '",' end
if fmt == 'buy_now' then
  fair_fields[#fair_fields + 1] = 'pin'
  fair_fields[#fair_fields + 1] = '0'
end
if ARGV[15] == '1' then
  fair_fields[#fair_fields + 1] = 'wloff'
  fair_fields[#fair_fields + 1] = '1'
end

local m = {
  room = ARGV[3], mode = 'active', starts = starts, ends = ends,
  available = tonumber(ARGV[8]), held = 0, sold = 0, ver = 0, seq = 0,
  hold = tonumber(ARGV[6]), limit = tonumber(ARGV[7]),
}
commit_and_emit(state_key, sink(KEYS[2], KEYS[3], log_len), drop_id, m, now, 'drop.created',
  '"starts":' .. starts .. ',"ends":' .. ends .. ',"limit":' .. m.limit .. ',"hold":' .. m.hold .. ',' .. fair_json,
  'params', params, 'room', m.room, 'mode', m.mode, 'starts', starts, 'ends', ends,
  'hold', m.hold, 'limit', m.limit, 'initial', m.available, 'restocked', 0, 'created', now, unpack(fair_fields))
return { 1, 1, starts }
