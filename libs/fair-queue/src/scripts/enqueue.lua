-- Append jobs to tenant buffers (FIFO) and activate tenants whose buffer was empty.
-- ARGV: tag, defaultMaxBacklog, then per job: tenant, id, entry, hasCallerId ('1' | '0').
-- Returns one status per job: 1 added, 0 duplicate id, -1 backlog full.
-- Lengths are tracked here and each tenant's entries pushed with one RPUSH at the end: a bulk
-- enqueue costs a few calls per tenant, not per job. Nothing reads the buffers in between.
local defaultMax = tonumber(ARGV[2])
local maxBacklog, length, pushes, tenants = {}, {}, {}, {}
local results = {}
local activated = false
-- Ids an earlier version recorded in its shared hash are duplicates until their jobs finish.
local legacy = rcall('EXISTS', legacyDedupeKey) == 1
for i = 3, #ARGV, 4 do
  local tenant, id, entry, hasCallerId = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  local status
  if hasCallerId == '1' and (rcall('SISMEMBER', dedupeKeyOf(tenant), id) == 1 or (legacy and rcall('HEXISTS', legacyDedupeKey, id) == 1)) then
    status = 0
  else
    local max = maxBacklog[tenant]
    if max == nil then
      max = tonumber(rcall('HGET', tag .. 'policy:' .. tenant, 'b') or defaultMax)
      maxBacklog[tenant] = max
      length[tenant] = rcall('LLEN', tag .. 'buf:' .. tenant)
      pushes[tenant] = {}
      tenants[#tenants + 1] = tenant
    end
    local len = length[tenant]
    if len >= max then
      status = -1
    else
      local list = pushes[tenant]
      list[#list + 1] = entry
      length[tenant] = len + 1
      if hasCallerId == '1' then rcall('SADD', dedupeKeyOf(tenant), id) end
      if len == 0 and not isStopped(tenant) and not isWaiting(tenant) then
        activate(tenant)
        activated = true
      end
      status = 1
    end
  end
  results[#results + 1] = status
end
for _, tenant in ipairs(tenants) do
  if #pushes[tenant] > 0 then inSlices('RPUSH', tag .. 'buf:' .. tenant, pushes[tenant]) end
end
if activated then wake() end
return results
