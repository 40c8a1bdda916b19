-- status: a consistent snapshot of a drop (read only).
-- KEYS[1] meta hash
-- ARGV[1] drop id
-- Returns: {1, now, state, field, value, ...} (the meta hash) | {0, 'DROP_NOT_FOUND'}
-- Events: none
local meta_key = KEYS[1]
local fields = redis.call('HGETALL', meta_key)
if #fields == 0 then return { 0, 'DROP_NOT_FOUND' } end
local m = read_meta(meta_key)
local now = now_ms()
local out = { 1, now, effective_state(m.mode, m.starts, m.ends, m.available, now) }
for i = 1, #fields do out[#out + 1] = fields[i] end
return out
