-- pin: pin or unpin a buy-it-now drop (format buy_now), which sells only while pinned (field
-- pin '1'; reserve.lua refuses NOT_PINNED otherwise). Pinning again, or unpinning an unpinned
-- drop, changes nothing and emits nothing.
-- KEYS[1] drop state hash   KEYS[2] event channel   KEYS[3] event log stream
-- ARGV[1] drop id   ARGV[2] '1' pin, '0' unpin   ARGV[3] event log length (entries, MAXLEN ~)
-- Returns: {1, changed (1|0), pinned (1|0)}
--        | {0, 'DROP_NOT_FOUND'} | {0, 'ENDED'} (a pin of an ended drop)
--        | {0, 'INVALID_INPUT'} (not a buy-it-now drop, bad arguments)
-- Events: drop.pinned | drop.unpinned (channel and event log; not the outbox)
local state_key = KEYS[1]
local drop_id, want, log_len = ARGV[1], ARGV[2], log_length(ARGV[3])
if not (safe_id(drop_id) and log_len and (want == '1' or want == '0')) then return { 0, 'INVALID_INPUT' } end
local m, fmt, pin = read_meta(state_key, 'fmt', 'pin')
if not m then return { 0, 'DROP_NOT_FOUND' } end
if fmt ~= 'buy_now' then return { 0, 'INVALID_INPUT' } end
if pin == want then return { 1, 0, tonumber(want) } end
local now = now_ms()
if want == '1' and effective_state(m.mode, m.starts, m.ends, m.available, now) == 'ended' then
  return { 0, 'ENDED' }
end
local type = 'drop.unpinned'
if want == '1' then type = 'drop.pinned' end
commit_and_emit(state_key, sink(KEYS[2], KEYS[3], log_len), drop_id, m, now, type, '', 'pin', want)
return { 1, 1, tonumber(want) }
