-- viewer-report: one gateway node's viewer count of one room, and the room's total, in one call.
-- KEYS[1] the room's viewers hash (field = node id, value = "count|time ms")
-- ARGV[1] node id   ARGV[2] this node's count   ARGV[3] now (ms)   ARGV[4] a report older than
-- this many ms is a dead node's and is removed   ARGV[5] the hash's life without any report (ms)
-- Returns: the sum of the fresh reports, this one included
-- Events: none
local key, node, count, now, stale_ms, ttl_ms = KEYS[1], ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]
redis.call('HSET', key, node, count .. '|' .. now)
-- The hash lives only while some node reports into it: an abandoned room leaves no key.
redis.call('PEXPIRE', key, ttl_ms)
local reports = redis.call('HGETALL', key)
local total = 0
for i = 1, #reports, 2 do
  local n, at = string.match(reports[i + 1], '^(%d+)|(%d+)$')
  if not at or now - tonumber(at) > stale_ms then
    redis.call('HDEL', key, reports[i])
  else
    total = total + tonumber(n)
  end
end
return total
