-- Release in-flight jobs that BullMQ has finished (finishedOn set) or no longer holds, for
-- the given tenants, and forget such jobs among those their holds gave back. Staged jobs are
-- skipped: they may not have been added yet, and recovery owns them. Reading BullMQ's job hash
-- here is what makes the check atomic with the release.
-- ARGV: tag, BullMQ job key prefix, tenants...
local jobPrefix = ARGV[2]
local released, mustWake = 0, false
for i = 3, #ARGV do
  local tenant = ARGV[i]
  local inflightKey = tag .. 'inflight:' .. tenant
  local finished = {}
  for _, id in ipairs(rcall('SMEMBERS', inflightKey)) do
    if rcall('HEXISTS', stagedKey, id) == 0 then
      local jobKey = jobPrefix .. id
      if rcall('EXISTS', jobKey) == 0 or rcall('HEXISTS', jobKey, 'finishedOn') == 1 then
        finished[#finished + 1] = id
      end
    end
  end
  if #finished > 0 then
    local n, unparked = releaseIds(tenant, finished)
    forgetIds(finished)
    released = released + n
    mustWake = mustWake or unparked
  end
  if rcall('SCARD', inflightKey) == 0 then rcall('SREM', busyKey, tenant) end
  -- Jobs a hold gave back hold no slot; only their records are forgotten once they are done.
  local done = {}
  for _, id in ipairs(rcall('SMEMBERS', tag .. 'held-jobs:' .. tenant)) do
    local jobKey = jobPrefix .. id
    if rcall('EXISTS', jobKey) == 0 or rcall('HEXISTS', jobKey, 'finishedOn') == 1 then done[#done + 1] = id end
  end
  if #done > 0 then
    -- They counted against the tenant's cap: one parked at it competes again.
    local _, unparked = releaseIds(tenant, done)
    forgetIds(done)
    mustWake = mustWake or unparked
  end
end
afterRelease(released, mustWake)
return released
