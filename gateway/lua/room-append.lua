-- room-append: append one entry to a room's log and publish it, once. Drop events carry the
-- drop's version: a version at or below the last one appended for that drop is a duplicate (an
-- appender that lost its lease, or a catch-up, offered it again) and is skipped.
-- KEYS[1] room log stream   KEYS[2] room meta hash (epoch, last, v:<dropId>)   KEYS[3] room channel
-- ARGV[1] drop id ('' for entries that are not a drop's, e.g. chat)   ARGV[2] drop version (0 if none)
-- ARGV[3] entry JSON   ARGV[4] approximate log length to keep
-- ARGV[5] seconds an idle room's log and meta live (refreshed by every append)
-- Returns: {1, epoch, offset} appended | {0, epoch} duplicate, skipped
-- Events: publishes {"e":epoch,"o":offset,"p":previous offset,"ev":entry} on the room channel;
-- `p` is the offset appended just before in this epoch ("" for its first), so a reader that
-- missed a message sees the break in the chain and reads the log.
local log_key, meta_key, channel = KEYS[1], KEYS[2], KEYS[3]
local drop_id, version, entry, maxlen, ttl = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4], ARGV[5]

local field = drop_id ~= '' and ('v:' .. drop_id) or 'last'
local meta = redis.call('HMGET', meta_key, 'epoch', 'last', field)
local epoch, previous = meta[1], meta[2] or ''

-- The epoch names this log's lifetime: a log lost with its meta starts a new epoch, which tells
-- resuming clients that offsets from before mean nothing now.
if not epoch then
  local t = redis.call('TIME')
  epoch = t[1] .. string.format('%06d', tonumber(t[2]))
  previous = ''
end

if drop_id ~= '' and version <= tonumber(meta[3] or '0') then return { 0, epoch } end

local offset = redis.call('XADD', log_key, 'MAXLEN', '~', maxlen, '*', 'ev', entry)
if drop_id ~= '' then
  redis.call('HSET', meta_key, 'epoch', epoch, 'last', offset, field, version)
else
  redis.call('HSET', meta_key, 'epoch', epoch, 'last', offset)
end
-- A room nobody appends to any more (a made-up or finished room) leaves nothing behind.
redis.call('EXPIRE', log_key, ttl)
redis.call('EXPIRE', meta_key, ttl)
redis.call('SPUBLISH', channel, '{"e":"' .. epoch .. '","o":"' .. offset .. '","p":"' .. previous .. '","ev":' .. entry .. '}')
return { 1, epoch, offset }
