-- ARGV: tag, tenant, until (ms since the epoch, or '' for none), then ids of the tenant's
-- in-flight jobs to give their slots back.
-- A held tenant is stopped by its own state (suspended, its database unreachable), not by an
-- operator: it leaves the
-- competition as a paused one does, and the given jobs leave the window, so held tenants
-- can never fill it and starve everyone else. The caller keeps those jobs in BullMQ (delayed):
-- they stay deduplicated (the dedupe hash keeps their ids) and run once the tenant is back,
-- outside the window; a second hold of the same job frees nothing (the in-flight SET).
-- Returns how many slots were given back.
local tenant = ARGV[2]
rcall('SADD', heldKey, tenant)
-- The time before which whoever lifts holds must not lift this one (an outage's wait); a hold
-- without one is lifted by the tenant's state alone.
if ARGV[3] == '' then rcall('HDEL', heldUntilKey, tenant) else rcall('HSET', heldUntilKey, tenant, ARGV[3]) end
leaveCompetition(tenant)
local ids = {}
for i = 4, #ARGV do ids[#ids + 1] = ARGV[i] end
local released = 0
if #ids > 0 then
  released = releaseIds(tenant, ids)
  -- In BullMQ already (the caller runs it): recovery must not add it again.
  inSlices('HDEL', stagedKey, ids)
  -- Out of the window but not forgotten: the reconciler still forgets them once BullMQ has
  -- finished or lost them, should their release be lost (see forgetHeldJobs).
  inSlices('SADD', tag .. 'held-jobs:' .. tenant, ids)
  rcall('SADD', heldJobsKey, tenant)
end
afterRelease(released, false)
return released
