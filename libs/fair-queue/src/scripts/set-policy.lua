-- ARGV: tag, tenant, 'set' | 'default' | 'clear', then field, value pairs for 'set' and 'default'.
-- 'default' writes only fields the tenant does not have yet, so it never undoes an override.
-- A parked tenant is re-examined at once: a raised cap or rate should apply now.
local tenant = ARGV[2]
local policyKey = tag .. 'policy:' .. tenant
if ARGV[3] == 'clear' then
  rcall('DEL', policyKey)
elseif ARGV[3] == 'default' then
  for i = 4, #ARGV, 2 do
    rcall('HSETNX', policyKey, ARGV[i], ARGV[i + 1])
  end
elseif #ARGV > 3 then
  rcall('HSET', policyKey, unpack(ARGV, 4))
end
if rcall('ZSCORE', parkedKey, tenant) then
  rcall('ZREM', parkedKey, tenant)
  activate(tenant)
  wake()
end
return 1
