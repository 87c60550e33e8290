-- Append jobs to tenant buffers (FIFO) and activate tenants whose buffer was empty.
-- ARGV: tag, defaultMaxBacklog, then per job: tenant, id, entry, hasCallerId ('1' | '0').
-- Returns one status per job: 1 added, 0 duplicate id, -1 backlog full.
local defaultMax = tonumber(ARGV[2])
local maxBacklog = {}
local results = {}
local activated = false
for i = 3, #ARGV, 4 do
  local tenant, id, entry, hasCallerId = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  local status
  if hasCallerId == '1' and rcall('HEXISTS', dedupeKey, id) == 1 then
    status = 0
  else
    local max = maxBacklog[tenant]
    if max == nil then
      max = tonumber(rcall('HGET', tag .. 'policy:' .. tenant, 'b') or defaultMax)
      maxBacklog[tenant] = max
    end
    local buf = tag .. 'buf:' .. tenant
    local len = rcall('LLEN', buf)
    if len >= max then
      status = -1
    else
      rcall('RPUSH', buf, entry)
      if hasCallerId == '1' then rcall('HSET', dedupeKey, id, tenant) end
      if len == 0 and rcall('SISMEMBER', pausedKey, tenant) == 0 and not isWaiting(tenant) then
        activate(tenant)
        activated = true
      end
      status = 1
    end
  end
  results[#results + 1] = status
end
if activated then wake() end
return results
