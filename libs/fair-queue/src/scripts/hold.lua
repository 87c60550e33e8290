-- ARGV: tag, tenant, then ids of the tenant's in-flight jobs to give their slots back.
-- A held tenant is stopped by its own state (suspended), not by an operator: it leaves the
-- competition as a paused one does, and the given jobs leave the window, so held tenants
-- can never fill it and starve everyone else. The caller keeps those jobs in BullMQ (delayed):
-- they stay deduplicated (the dedupe hash keeps their ids) and run once the tenant is back,
-- outside the window; a second hold of the same job frees nothing (the in-flight SET).
-- Returns how many slots were given back.
local tenant = ARGV[2]
rcall('SADD', heldKey, tenant)
leaveCompetition(tenant)
local ids = {}
for i = 3, #ARGV do ids[#ids + 1] = ARGV[i] end
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
