-- transition: host control of a drop: launch, pause, resume, end. Idempotent; `end` is final.
-- `launch` opens a scheduled drop now (its start moves to the server's now) and resumes a paused
-- one; on a live drop it changes nothing.
-- KEYS[1] drop state hash   KEYS[2] event channel   KEYS[3] event log stream
-- ARGV[1] drop id     ARGV[2] action: launch | pause | resume | end
-- ARGV[3] event log length (entries, MAXLEN ~)
-- Returns: {1, changed (1|0), state} | {0, 'DROP_NOT_FOUND'} | {0, 'ENDED'}
--        | {0, 'INVALID_INPUT'} (bad log length)
-- Events: drop.state (only when something changed; carries `starts` after a launch)
local state_key = KEYS[1]
local drop_id, action, log_len = ARGV[1], ARGV[2], log_length(ARGV[3])
if not log_len then return { 0, 'INVALID_INPUT' } end
local out = sink(KEYS[2], KEYS[3], log_len)

local m = read_meta(state_key)
if not m then return { 0, 'DROP_NOT_FOUND' } end
local now = now_ms()
local state = effective_state(m.mode, m.starts, m.ends, m.available, now)

local target
if action == 'end' then
  target = 'ended'
elseif state == 'ended' then
  return { 0, 'ENDED' }
elseif action == 'pause' then
  target = 'paused'
else
  target = 'active'
end
local launching = action == 'launch' and m.starts > now
if m.mode == target and not launching then return { 1, 0, state } end

m.mode = target
if launching then
  m.starts = now
  commit_and_emit(state_key, out, drop_id, m, now, 'drop.state',
    '"action":"launch","starts":' .. now .. ',', 'mode', target, 'starts', now)
else
  commit_and_emit(state_key, out, drop_id, m, now, 'drop.state', '"action":"' .. action .. '",', 'mode', target)
end
return { 1, 1, effective_state(m.mode, m.starts, m.ends, m.available, now) }
