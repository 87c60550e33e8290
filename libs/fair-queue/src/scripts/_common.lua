-- Prepended to every script. ARGV[1] is always the hash-tagged prefix `{fq:<name>}:`; all
-- per-tenant keys are derived from it so one script call can serve many tenants in one slot.
local rcall = redis.call
local tag = ARGV[1]
local activeKey = tag .. 'active'
local parkedKey = tag .. 'parked'
local lastPassKey = tag .. 'lastpass'
local vtKey = tag .. 'vt'
local pausedKey = tag .. 'paused'
local heldKey = tag .. 'held'
local heldJobsKey = tag .. 'held-jobs'
local heldUntilKey = tag .. 'held-until'
local busyKey = tag .. 'busy'
local totalKey = tag .. 'inflight-total'
local stagedKey = tag .. 'staged'
-- An earlier version's one hash of every tenant's caller ids: honoured and drained, never written.
local legacyDedupeKey = tag .. 'dedupe'
local wakeKey = tag .. 'wake'
local refillKey = tag .. 'refill'

-- Redis' clock, so every dispatcher and worker host agrees on token refills and staging ages.
local function nowMs()
  local t = rcall('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- A tenant (re)joins the competition at max(its own pass, global virtual time): it cannot bank
-- credit while idle or parked, and it goes ahead of every busy tenant's next turn.
local function activate(tenant)
  local vt = tonumber(rcall('GET', vtKey) or '0')
  local pass = vt
  local last = rcall('ZSCORE', lastPassKey, tenant)
  if last then
    if tonumber(last) > vt then pass = tonumber(last) end
    rcall('ZREM', lastPassKey, tenant)
  end
  rcall('ZADD', activeKey, pass, tenant)
end

local function isWaiting(tenant)
  return rcall('ZSCORE', activeKey, tenant) or rcall('ZSCORE', parkedKey, tenant)
end

-- At most one token: it only says "look again", and it expires so an idle queue keeps no key.
local function wake()
  if rcall('LLEN', wakeKey) == 0 then
    rcall('RPUSH', wakeKey, '1')
    rcall('PEXPIRE', wakeKey, 1000)
  end
end

-- Neither paused by an operator nor held by its own state: each is lifted only by its own
-- counterpart, so a reactivation never lifts an operator's pause, nor a resume a suspension's hold.
local function isStopped(tenant)
  return rcall('SISMEMBER', pausedKey, tenant) == 1 or rcall('SISMEMBER', heldKey, tenant) == 1
end

-- Out of the competition with its pass remembered, as the parked are: it comes back where it was.
local function leaveCompetition(tenant)
  local pass = rcall('ZSCORE', activeKey, tenant)
  if pass then
    rcall('ZREM', activeKey, tenant)
    rcall('ZADD', lastPassKey, pass, tenant)
  end
  rcall('ZREM', parkedKey, tenant)
end

-- Back into the competition if it has a backlog and nothing stops it.
local function rejoin(tenant)
  if not isStopped(tenant) and rcall('LLEN', tag .. 'buf:' .. tenant) > 0 and not isWaiting(tenant) then
    activate(tenant)
    wake()
  end
end

-- Variadic commands in slices, well inside Lua's stack limit for unpack.
local function inSlices(command, key, list)
  for i = 1, #list, 1000 do
    rcall(command, key, unpack(list, i, math.min(i + 999, #list)))
  end
end

-- Jobs a hold gave back stay tracked (without a slot) until they finish, so the reconciler can
-- still forget a finished one whose release was lost: its caller id would be a duplicate for ever.
-- Answers how many it forgot: each counted against the tenant's cap until then (admit.lua).
local function forgetHeldJobs(tenant, ids)
  local key = tag .. 'held-jobs:' .. tenant
  if rcall('EXISTS', key) == 0 then return 0 end
  local forgotten = 0
  for i = 1, #ids, 1000 do
    forgotten = forgotten + rcall('SREM', key, unpack(ids, i, math.min(i + 999, #ids)))
  end
  if rcall('EXISTS', key) == 0 then rcall('SREM', heldJobsKey, tenant) end
  return forgotten
end

-- Idempotent: the SET makes a second release of the same job a no-op for the counters.
-- A tenant parked at its concurrency cap competes again as soon as one of its slots frees.
-- Returns how many were released and whether a parked tenant was made eligible.
local function releaseIds(tenant, ids)
  local inflightKey = tag .. 'inflight:' .. tenant
  local released = 0
  for i = 1, #ids, 1000 do
    released = released + rcall('SREM', inflightKey, unpack(ids, i, math.min(i + 999, #ids)))
  end
  local heldFinished = forgetHeldJobs(tenant, ids)
  local unparked = false
  if released > 0 and rcall('SCARD', inflightKey) == 0 then rcall('SREM', busyKey, tenant) end
  if (released > 0 or heldFinished > 0) and rcall('ZSCORE', parkedKey, tenant) then
    rcall('ZREM', parkedKey, tenant)
    activate(tenant)
    unparked = true
  end
  return released, unparked
end

-- In-flight jobs that wait in BullMQ (delayed) give their window slots back: tracked apart, still
-- counted against their tenant's cap (admit.lua) until they finish. Answers how many slots.
local function giveBackIds(tenant, ids)
  if #ids == 0 then return 0 end
  local released = releaseIds(tenant, ids)
  -- In BullMQ already (the caller runs it): recovery must not add it again.
  inSlices('HDEL', stagedKey, ids)
  -- Out of the window but not forgotten: the reconciler still forgets them once BullMQ has
  -- finished or lost them, should their release be lost (see forgetHeldJobs).
  inSlices('SADD', tag .. 'held-jobs:' .. tenant, ids)
  rcall('SADD', heldJobsKey, tenant)
  return released
end

-- Caller ids per tenant (`<tenant>.<id>`, a tenant key holds no '.'), so forgetting a tenant
-- is one DEL of its own key, not a walk through every tenant's ids.
local function dedupeKeyOf(tenant)
  return tag .. 'dedupe:' .. tenant
end

-- Released or not, a finished job is neither staged nor a duplicate any more.
local function forgetIds(ids)
  inSlices('HDEL', stagedKey, ids)
  -- Generated ids (with '~') never enter the dedupe sets.
  local byTenant, tenants, callerIds = {}, {}, {}
  for _, id in ipairs(ids) do
    local dot = string.find(id, '.', 1, true)
    if dot and not string.find(id, '~', 1, true) then
      local tenant = string.sub(id, 1, dot - 1)
      if not byTenant[tenant] then
        byTenant[tenant] = {}
        tenants[#tenants + 1] = tenant
      end
      local list = byTenant[tenant]
      list[#list + 1] = id
      callerIds[#callerIds + 1] = id
    end
  end
  for _, tenant in ipairs(tenants) do inSlices('SREM', dedupeKeyOf(tenant), byTenant[tenant]) end
  if #callerIds > 0 and rcall('EXISTS', legacyDedupeKey) == 1 then inSlices('HDEL', legacyDedupeKey, callerIds) end
end

-- Wake dispatchers only when in-flight drops to their refill level (see admit.lua), or when a
-- parked tenant became eligible: one wake per refill, not one per finished job.
local function afterRelease(released, mustWake)
  if released > 0 then
    local left = rcall('DECRBY', totalKey, released)
    if left <= 0 then rcall('DEL', totalKey) end
    local refill = tonumber(rcall('GET', refillKey) or '-1')
    if refill < 0 or (left <= refill and left + released > refill) then mustWake = true end
  end
  if mustWake then wake() end
end
