-- ARGV: tag, tenant, 'set' | 'clear', then field, value pairs for 'set'.
-- A parked tenant is re-examined at once: a raised cap or rate should apply now.
local tenant = ARGV[2]
local policyKey = tag .. 'policy:' .. tenant
if ARGV[3] == 'clear' then
  rcall('DEL', policyKey)
elseif #ARGV > 3 then
  rcall('HSET', policyKey, unpack(ARGV, 4))
end
if rcall('ZSCORE', parkedKey, tenant) then
  rcall('ZREM', parkedKey, tenant)
  activate(tenant)
  wake()
end
return 1
