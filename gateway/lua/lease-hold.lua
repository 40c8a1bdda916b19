-- lease-hold: take a free lease, or renew it while it is still the caller's.
-- KEYS[1] lease key   ARGV[1] holder id   ARGV[2] life of the lease, ms
-- Returns: 1 held by the caller (taken or renewed) | 0 another holder has it
local key, holder, life = KEYS[1], ARGV[1], ARGV[2]
if redis.call('SET', key, holder, 'PX', life, 'NX') then return 1 end
if redis.call('GET', key) == holder then
  redis.call('PEXPIRE', key, life)
  return 1
end
return 0
