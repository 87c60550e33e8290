-- ARGV: tag, tenant, hold-for ms ('' for none), then ids of the tenant's in-flight jobs to
-- give their slots back.
-- A held tenant is stopped by its own state (suspended, its database unreachable), not by an
-- operator: it leaves the
-- competition as a paused one does, and the given jobs leave the window, so held tenants
-- can never fill it and starve everyone else. The caller keeps those jobs in BullMQ (delayed):
-- they stay deduplicated (the dedupe set keeps their ids) and run once the tenant is back,
-- outside the window; a second hold of the same job frees nothing (the in-flight SET).
-- Returns how many slots were given back.
local tenant = ARGV[2]
rcall('SADD', heldKey, tenant)
-- The time (Redis' clock) before which `unhold ... due` does not lift this hold (an outage's
-- wait); the latest of those asked for. A hold without one is lifted by the tenant's state alone.
if ARGV[3] == '' then
  rcall('HDEL', heldUntilKey, tenant)
else
  local untilMs = nowMs() + tonumber(ARGV[3])
  local before = tonumber(rcall('HGET', heldUntilKey, tenant) or '0')
  if untilMs > before then rcall('HSET', heldUntilKey, tenant, untilMs) end
end
leaveCompetition(tenant)
local ids = {}
for i = 4, #ARGV do ids[#ids + 1] = ARGV[i] end
local released = giveBackIds(tenant, ids)
afterRelease(released, false)
return released
