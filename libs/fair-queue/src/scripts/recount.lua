-- ARGV: tag. Sets the window's total to the sum of the tenants' in-flight sets, which it is by
-- definition: a set deleted behind the scheduler's back (a key erased by name) or a job admitted
-- twice would otherwise leave the total too high, and a window that looks full for ever admits
-- nothing. Drops busy tenants whose set is gone. Answers by how much the total was off.
local total = 0
for _, tenant in ipairs(rcall('SMEMBERS', busyKey)) do
  local n = rcall('SCARD', tag .. 'inflight:' .. tenant)
  if n == 0 then rcall('SREM', busyKey, tenant) end
  total = total + n
end
local before = tonumber(rcall('GET', totalKey) or '0')
if total > 0 then rcall('SET', totalKey, total) else rcall('DEL', totalKey) end
if total < before then wake() end
return before - total
