-- ARGV: tag, tenant. A paused tenant leaves the competition but keeps its buffer and its pass.
local tenant = ARGV[2]
rcall('SADD', pausedKey, tenant)
leaveCompetition(tenant)
return 1
