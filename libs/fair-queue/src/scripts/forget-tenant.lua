-- ARGV: tag, 'count' | 'erase', tenant. Every trace of one tenant in the scheduler: its own keys
-- (buffer, in-flight set, policy, token bucket, jobs its holds gave back) and its members and
-- fields in the shared ones.
-- 'erase' gives its in-flight slots back to the window in the same step: deleting the in-flight
-- set alone would shrink the window for good. Answers how many records there were.
-- Its jobs already in BullMQ may still finish; their release then frees nothing (the set is gone).
local erase, tenant = ARGV[2] == 'erase', ARGV[3]
local bufKey = tag .. 'buf:' .. tenant
local inflightKey = tag .. 'inflight:' .. tenant
local heldJobs = tag .. 'held-jobs:' .. tenant
local own = { bufKey, inflightKey, tag .. 'policy:' .. tenant, tag .. 'tokens:' .. tenant, heldJobs }

-- Job ids are `<tenant>.<id>`, and a tenant key holds no glob character, so the pattern is exact.
local function fieldsOf(hash)
  local fields, cursor = {}, '0'
  repeat
    local page = rcall('HSCAN', hash, cursor, 'MATCH', tenant .. '.*', 'COUNT', 1000)
    cursor = page[1]
    for i = 1, #page[2], 2 do fields[#fields + 1] = page[2][i] end
  until cursor == '0'
  return fields
end

local inflight = rcall('SCARD', inflightKey)
local count = rcall('LLEN', bufKey) + inflight + rcall('EXISTS', own[3]) + rcall('EXISTS', own[4]) + rcall('SCARD', heldJobs)
local dedupe, staged = fieldsOf(dedupeKey), fieldsOf(stagedKey)
count = count + #dedupe + #staged
for _, key in ipairs({ activeKey, parkedKey, lastPassKey }) do
  if rcall('ZSCORE', key, tenant) then count = count + 1 end
end
for _, key in ipairs({ pausedKey, heldKey, busyKey, heldJobsKey }) do count = count + rcall('SISMEMBER', key, tenant) end
count = count + rcall('HEXISTS', heldUntilKey, tenant)
if not erase then return count end

rcall('DEL', unpack(own))
if #dedupe > 0 then inSlices('HDEL', dedupeKey, dedupe) end
if #staged > 0 then inSlices('HDEL', stagedKey, staged) end
for _, key in ipairs({ activeKey, parkedKey, lastPassKey }) do rcall('ZREM', key, tenant) end
for _, key in ipairs({ pausedKey, heldKey, busyKey, heldJobsKey }) do rcall('SREM', key, tenant) end
rcall('HDEL', heldUntilKey, tenant)
afterRelease(inflight, false)
return count
