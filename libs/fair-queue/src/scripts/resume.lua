-- ARGV: tag, tenant. A tenant also held (see hold.lua) stays out until its hold is lifted too.
local tenant = ARGV[2]
if rcall('SREM', pausedKey, tenant) == 1 then rejoin(tenant) end
return 1
