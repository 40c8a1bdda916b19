-- index-repair: put back into the active index every given drop that is neither in it nor
-- retired (a drop created before the index existed, or by an engine that does not keep it).
-- Idempotent; the caller passes the ids of the drop registry, in chunks.
-- KEYS[1] active drops zset (drop id -> ms added)   KEYS[2] retired drops set
-- ARGV[1] now, ms   ARGV[2..] drop ids
-- Returns: the number of drops added
-- Events: none
local active_key, retired_key = KEYS[1], KEYS[2]
local added = 0
for i = 2, #ARGV do
  local id = ARGV[i]
  if not redis.call('ZSCORE', active_key, id) and redis.call('SISMEMBER', retired_key, id) == 0 then
    redis.call('ZADD', active_key, ARGV[1], id)
    added = added + 1
  end
end
return added
