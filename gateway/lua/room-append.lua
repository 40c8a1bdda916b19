-- room-append: append one event to a room's log and publish it, once, whichever gateway node
-- asks first. Events of a drop carry the drop's version: a version at or below the last one
-- appended for that drop is a duplicate (another node was first) and is skipped.
-- KEYS[1] room log stream   KEYS[2] room meta hash (epoch, v:<dropId>)   KEYS[3] room channel
-- ARGV[1] drop id ('' for events that are not a drop's, e.g. chat)   ARGV[2] drop version (0 if none)
-- ARGV[3] event JSON   ARGV[4] approximate log length to keep
-- ARGV[5] seconds an idle room's log and meta live (refreshed by every append)
-- Returns: {1, epoch, offset} appended | {0, epoch} duplicate, skipped
-- Events: publishes {"e":epoch,"o":offset,"ev":event} on the room channel
local log_key, meta_key, channel = KEYS[1], KEYS[2], KEYS[3]
local drop_id, version, event, maxlen, ttl = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4], ARGV[5]

-- The epoch names this log's lifetime: a log lost with its meta starts a new epoch, which tells
-- resuming clients that offsets from before mean nothing now.
local epoch = redis.call('HGET', meta_key, 'epoch')
if not epoch then
  local t = redis.call('TIME')
  epoch = t[1] .. string.format('%06d', tonumber(t[2]))
  redis.call('HSET', meta_key, 'epoch', epoch)
end

if drop_id ~= '' then
  local field = 'v:' .. drop_id
  local last = tonumber(redis.call('HGET', meta_key, field) or '0')
  if version <= last then return { 0, epoch } end
  redis.call('HSET', meta_key, field, version)
end

local offset = redis.call('XADD', log_key, 'MAXLEN', '~', maxlen, '*', 'ev', event)
-- A room nobody appends to any more (a made-up or finished room) leaves nothing behind.
redis.call('EXPIRE', log_key, ttl)
redis.call('EXPIRE', meta_key, ttl)
redis.call('SPUBLISH', channel, '{"e":"' .. epoch .. '","o":"' .. offset .. '","ev":' .. event .. '}')
return { 1, epoch, offset }
