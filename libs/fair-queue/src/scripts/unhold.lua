-- ARGV: tag, tenant. Lifts a hold (hold.lua); an operator's pause, if any, still applies.
local tenant = ARGV[2]
rcall('HDEL', heldUntilKey, tenant)
if rcall('SREM', heldKey, tenant) == 1 then rejoin(tenant) end
return 1
