-- Stride scheduling: take up to `batch` jobs in weighted fair order and stage them, in the same
-- atomic step, as in flight and in the `staged` hash, so a dispatcher that dies before adding
-- them to BullMQ loses nothing.
--
-- The turns of one call are computed in Lua over the front of the `active` sorted set (a
-- binary heap on (pass, tenant), the sorted set's own order), then written back once per
-- tenant: O(log N) per call to read the front, O(log M) per turn, and a handful of Redis
-- calls per tenant served instead of per job.
-- ARGV: tag, batch, window, default weight, default cap (0 none), default rate max (0 none),
--       default rate ms, cap recheck ms, refill threshold, n, then n staged ids the caller
--       has added to BullMQ.
-- Returns { ms until the next parked tenant is due (-1 none), 1 if the caller should call
--           again at once (stopped at a limit other than the window and the backlog), entry, ... }.
local batch = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local defWeight, defCap = tonumber(ARGV[4]), tonumber(ARGV[5])
local defRateMax, defRateMs = tonumber(ARGV[6]), tonumber(ARGV[7])
local capRecheckMs = tonumber(ARGV[8])
-- Negative: the caller is topping up a batch a tenant-bounded call left short; the first call
-- of that batch already checked the threshold and set the refill level.
local refillThreshold = tonumber(ARGV[9])
local topUp = refillThreshold < 0
refillThreshold = math.abs(refillThreshold)
local confirmed = tonumber(ARGV[10])

for i = 11, 10 + confirmed, 1000 do
  rcall('HDEL', stagedKey, unpack(ARGV, i, math.min(i + 999, 10 + confirmed)))
end

local now = nowMs()
for _, tenant in ipairs(rcall('ZRANGEBYSCORE', parkedKey, '-inf', now, 'LIMIT', 0, 1000)) do
  rcall('ZREM', parkedKey, tenant)
  activate(tenant)
end

local vt = tonumber(rcall('GET', vtKey) or '0')
local free = window - tonumber(rcall('GET', totalKey) or '0')
local budget = math.min(batch, free)
if batch > 0 and not topUp then
  -- Refill in chunks of at least `refillThreshold`: releases wake a dispatcher only when
  -- in-flight falls to this level, and BullMQ gets a few large addBulk calls, not many tiny ones.
  rcall('SET', refillKey, window - refillThreshold, 'PX', 60000)
  if free < refillThreshold then budget = 0 end
end

local out = { -1, 0 }
local parkBudget = 100
-- Tenants looked at per call. Each costs a handful of Redis calls, and the script blocks Redis
-- for everyone while it runs: with thousands of single-job tenants in front, a call serves at
-- most this many and says "call again" rather than holding the server for milliseconds.
local maxTenants = 128
local heap, pass, state, visited = {}, {}, {}, {}
local more, edgeTenant, edgePass = false, nil, nil
if budget > 0 then
  local limit = math.min(budget + parkBudget, maxTenants)
  local front = rcall('ZRANGE', activeKey, 0, limit - 1, 'WITHSCORES')
  for i = 1, #front, 2 do
    heap[#heap + 1] = front[i]
    pass[front[i]] = tonumber(front[i + 1])
  end
  -- Tenants beyond the front all sort after its last member; never schedule past it.
  if #heap == limit then
    more, edgeTenant, edgePass = true, heap[#heap], pass[heap[#heap]]
  end
end

-- Equal passes are ordered by tenant name in byte order, as the sorted set orders them (Lua's
-- `<` on strings follows the server's locale). Redis ranks the names for us: a scratch sorted
-- set with one score, deleted in the same call.
local rank = {}
if #heap > 1 then
  local scratch = tag .. 'scratch'
  local members = {}
  for i, tenant in ipairs(heap) do
    members[2 * i - 1] = 0
    members[2 * i] = tenant
  end
  inSlices('ZADD', scratch, members)
  for i, tenant in ipairs(rcall('ZRANGE', scratch, 0, -1)) do rank[tenant] = i end
  rcall('DEL', scratch)
else
  for i, tenant in ipairs(heap) do rank[tenant] = i end
end
local function less(a, b)
  local pa, pb = pass[a], pass[b]
  return pa < pb or (pa == pb and rank[a] < rank[b])
end
local function siftDown(i)
  local n = #heap
  while true do
    local l, smallest = 2 * i, i
    if l <= n and less(heap[l], heap[smallest]) then smallest = l end
    if l + 1 <= n and less(heap[l + 1], heap[smallest]) then smallest = l + 1 end
    if smallest == i then return end
    heap[i], heap[smallest] = heap[smallest], heap[i]
    i = smallest
  end
end
local function popTop()
  local n = #heap
  heap[1] = heap[n]
  heap[n] = nil
  if n > 1 then siftDown(1) end
end

local function load(tenant)
  local policy = rcall('HMGET', tag .. 'policy:' .. tenant, 'w', 'c', 'rm', 'rd')
  local st = {
    stride = 1000 / (tonumber(policy[1]) or defWeight),
    rateMax = tonumber(policy[3]) or defRateMax,
    rateMs = tonumber(policy[4]) or defRateMs,
    avail = rcall('LLEN', tag .. 'buf:' .. tenant),
    slots = math.huge,
    taken = 0,
    fate = 'active',
  }
  local cap = tonumber(policy[2]) or defCap
  -- Jobs a hold gave back hold no slot of the window but still count against the cap: they are
  -- the tenant's, in BullMQ, and will run. Else a hold lifted while its cause lasts (an outage's
  -- wait over, the outage not) admits a cap's worth again each time, all running at once later.
  if cap > 0 then st.slots = cap - rcall('SCARD', tag .. 'inflight:' .. tenant) - rcall('SCARD', tag .. 'held-jobs:' .. tenant) end
  if st.rateMax > 0 and st.rateMs > 0 then
    local bucket = rcall('HMGET', tag .. 'tokens:' .. tenant, 't', 'ts')
    local tokens = tonumber(bucket[1])
    if tokens == nil then
      tokens = st.rateMax
    else
      tokens = math.min(st.rateMax, tokens + (now - tonumber(bucket[2])) * st.rateMax / st.rateMs)
    end
    st.tokens = tokens
  end
  state[tenant] = st
  visited[#visited + 1] = tenant
  return st
end

local sequence = {}
while budget > 0 and #heap > 0 do
  local tenant = heap[1]
  if more and (pass[tenant] > edgePass or (pass[tenant] == edgePass and rank[edgeTenant] < rank[tenant])) then
    out[2] = 1
    break
  end
  local st = state[tenant] or load(tenant)
  if st.avail <= 0 then
    st.fate = 'empty'
    popTop()
  elseif st.slots <= 0 or (st.tokens and st.tokens < 1) then
    -- Parked, not dropped: it keeps its pass (bounded below by vt when it returns).
    if st.slots <= 0 then
      st.parkUntil = now + capRecheckMs
    else
      st.parkUntil = now + math.ceil((1 - st.tokens) * st.rateMs / st.rateMax)
    end
    st.fate = 'parked'
    popTop()
    parkBudget = parkBudget - 1
    if parkBudget <= 0 then
      out[2] = 1
      break
    end
  else
    sequence[#sequence + 1] = tenant
    st.taken = st.taken + 1
    st.avail = st.avail - 1
    st.slots = st.slots - 1
    if st.tokens then st.tokens = st.tokens - 1 end
    vt = pass[tenant]
    pass[tenant] = pass[tenant] + st.stride
    budget = budget - 1
    if st.avail <= 0 then
      st.fate = 'drained'
      popTop()
    else
      siftDown(1)
    end
  end
end

-- The batch, not the window or the backlog, ended the call: there is room for another now.
if budget == 0 and batch > 0 and #heap > 0 and free - #sequence >= refillThreshold then out[2] = 1 end

-- Write back once per tenant served or parked.
local entriesOf, staged, admitted = {}, {}, 0
for _, tenant in ipairs(visited) do
  local st = state[tenant]
  if st.taken > 0 then
    local entries = rcall('LPOP', tag .. 'buf:' .. tenant, st.taken)
    local ids = {}
    for i, entry in ipairs(entries) do
      local id = string.sub(entry, 1, string.find(entry, '|', 1, true) - 1)
      ids[i] = id
      staged[#staged + 1] = id
      staged[#staged + 1] = now .. '|' .. entry
    end
    entriesOf[tenant] = { entries = entries, next = 1 }
    inSlices('SADD', tag .. 'inflight:' .. tenant, ids)
    rcall('SADD', busyKey, tenant)
    admitted = admitted + #entries
    if st.tokens then
      local tokensKey = tag .. 'tokens:' .. tenant
      rcall('HSET', tokensKey, 't', st.tokens, 'ts', now)
      -- Once full again the bucket equals a missing key, so let it expire.
      rcall('PEXPIRE', tokensKey, math.ceil((st.rateMax - st.tokens) * st.rateMs / st.rateMax) + 1)
    end
  end
  if st.fate == 'active' then
    if st.taken > 0 then rcall('ZADD', activeKey, pass[tenant], tenant) end
  elseif st.fate == 'parked' then
    rcall('ZREM', activeKey, tenant)
    rcall('ZADD', parkedKey, st.parkUntil, tenant)
    rcall('ZADD', lastPassKey, pass[tenant], tenant)
  elseif st.fate == 'drained' then
    rcall('ZREM', activeKey, tenant)
    rcall('ZADD', lastPassKey, pass[tenant], tenant)
  else
    rcall('ZREM', activeKey, tenant)
  end
end

for _, tenant in ipairs(sequence) do
  local cursor = entriesOf[tenant]
  out[#out + 1] = cursor.entries[cursor.next]
  cursor.next = cursor.next + 1
end

if admitted > 0 then
  inSlices('HSET', stagedKey, staged)
  rcall('INCRBY', totalKey, admitted)
end
-- A remembered pass at or below vt changes nothing (max(last, vt) = vt): forget it.
rcall('ZREMRANGEBYSCORE', lastPassKey, '-inf', vt)
if rcall('ZCARD', activeKey) == 0 and rcall('ZCARD', parkedKey) == 0 then
  -- Nobody is backlogged, so nobody is owed anything: drop the clock and the memory with it.
  rcall('DEL', lastPassKey, vtKey)
else
  rcall('SET', vtKey, vt)
end
local first = rcall('ZRANGE', parkedKey, 0, 0, 'WITHSCORES')
if first[2] then out[1] = math.max(0, tonumber(first[2]) - now) end
return out
