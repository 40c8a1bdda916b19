-- index-retire: take a drop out of the engine's active index (KEYS: the index keys only, which
-- share their own hash tag; a drop's keys live in another slot, so its scripts cannot do this).
-- KEYS[1] active drops zset (drop id -> ms added)   KEYS[2] retired drops set
-- ARGV[1] drop id   ARGV[2] '' when the drop is settled for good (ended, nothing pending: it is
--                  removed and remembered as retired), else a cutoff ms: the drop does not exist
--                  and its entry is removed only if added at or before the cutoff (a createDrop
--                  in flight adds the entry just before its script creates the drop)
-- Returns: 1 removed | 0 kept
-- Events: none
local active_key, retired_key = KEYS[1], KEYS[2]
local drop_id, cutoff = ARGV[1], ARGV[2]
if cutoff == '' then
  redis.call('SADD', retired_key, drop_id)
  return redis.call('ZREM', active_key, drop_id)
end
local added = redis.call('ZSCORE', active_key, drop_id)
if not added or tonumber(added) > tonumber(cutoff) then return 0 end
return redis.call('ZREM', active_key, drop_id)
