-- ARGV: tag, tenant.
local tenant = ARGV[2]
if rcall('SREM', pausedKey, tenant) == 1 and rcall('LLEN', tag .. 'buf:' .. tenant) > 0 and not isWaiting(tenant) then
  activate(tenant)
  wake()
end
return 1
