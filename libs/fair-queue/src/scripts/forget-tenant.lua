-- ARGV: tag, 'count' | 'erase', tenant. Every trace of one tenant in the scheduler: its own keys
-- (buffer, in-flight set, dedupe set, policy, token bucket, jobs its holds gave back) and its
-- members and fields in the shared keys.
-- 'erase' gives its in-flight slots back to the window in the same step: deleting the in-flight
-- set alone would shrink the window for good. Answers how many records there were.
-- Its jobs already in BullMQ may still finish; their release then frees nothing (the set is gone).
-- The script blocks Redis while it runs, so it does work in proportion to this tenant's records
-- only: no walk through a key every tenant shares. Its staged fields are found through its
-- in-flight set (admission stages only jobs it puts in flight, and every path that takes one
-- out of flight drops its staged copy); an earlier version's shared dedupe hash is drained by
-- the caller, in bounded steps, outside any script.
local erase, tenant = ARGV[2] == 'erase', ARGV[3]
local bufKey = tag .. 'buf:' .. tenant
local inflightKey = tag .. 'inflight:' .. tenant
local heldJobs = tag .. 'held-jobs:' .. tenant
local dedupe = dedupeKeyOf(tenant)
local own = { bufKey, inflightKey, tag .. 'policy:' .. tenant, tag .. 'tokens:' .. tenant, heldJobs, dedupe }

local inflightIds = rcall('SMEMBERS', inflightKey)
local staged = {}
for _, id in ipairs(inflightIds) do
  if rcall('HEXISTS', stagedKey, id) == 1 then staged[#staged + 1] = id end
end

local inflight = #inflightIds
local count = rcall('LLEN', bufKey) + inflight + rcall('EXISTS', own[3]) + rcall('EXISTS', own[4]) + rcall('SCARD', heldJobs)
count = count + rcall('SCARD', dedupe) + #staged
for _, key in ipairs({ activeKey, parkedKey, lastPassKey }) do
  if rcall('ZSCORE', key, tenant) then count = count + 1 end
end
for _, key in ipairs({ pausedKey, heldKey, busyKey, heldJobsKey }) do count = count + rcall('SISMEMBER', key, tenant) end
count = count + rcall('HEXISTS', heldUntilKey, tenant)
if not erase then return count end

rcall('DEL', unpack(own))
if #staged > 0 then inSlices('HDEL', stagedKey, staged) end
for _, key in ipairs({ activeKey, parkedKey, lastPassKey }) do rcall('ZREM', key, tenant) end
for _, key in ipairs({ pausedKey, heldKey, busyKey, heldJobsKey }) do rcall('SREM', key, tenant) end
rcall('HDEL', heldUntilKey, tenant)
afterRelease(inflight, false)
return count
