-- ARGV: tag, tenant. A paused tenant leaves the competition but keeps its buffer and its pass.
local tenant = ARGV[2]
rcall('SADD', pausedKey, tenant)
local pass = rcall('ZSCORE', activeKey, tenant)
if pass then
  rcall('ZREM', activeKey, tenant)
  rcall('ZADD', lastPassKey, pass, tenant)
end
rcall('ZREM', parkedKey, tenant)
return 1
