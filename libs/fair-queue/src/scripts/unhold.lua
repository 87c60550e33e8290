-- ARGV: tag, tenant, 'due' or ''. Lifts a hold (hold.lua); an operator's pause, if any, still
-- applies. With 'due', only once its wait is over (Redis' clock): answers 0 and lifts nothing
-- before, so a hold taken for a longer wait since the caller looked is kept.
local tenant = ARGV[2]
if ARGV[3] == 'due' then
  local untilMs = rcall('HGET', heldUntilKey, tenant)
  if untilMs and tonumber(untilMs) > nowMs() then return 0 end
end
rcall('HDEL', heldUntilKey, tenant)
if rcall('SREM', heldKey, tenant) == 1 then rejoin(tenant) end
return 1
