-- GCRA (generic cell rate algorithm) for one tenant and route class, plus that tenant's request
-- count for the current minute, in one atomic call. It may also grant a lease: requests the
-- calling instance admits itself afterwards (counted by it later), and take back a lease's unused
-- requests.
-- KEYS[1]  the theoretical arrival time (TAT, µs since the epoch) of the tenant's class
-- KEYS[2]  the tenant's request counts of this minute (a hash: class -> admitted, class:refused -> refused)
--          Both keys carry the tenant's {hash tag}, so Redis Cluster keeps them in one slot.
-- ARGV[1]  emission interval in µs: the window divided by the quota
-- ARGV[2]  capacity in µs: quota x interval, how far the TAT may run ahead of now (the burst)
-- ARGV[3]  the route class, the count's field
-- ARGV[4]  seconds to keep the counts
-- ARGV[5]  requests wanted: 1 decides this request alone; more asks for a lease; 0 only returns unused ones
-- ARGV[6]  µs to give back first (a lease's unused requests x the interval they were taken at)
-- ARGV[7]  the TAT that lease's grant left (µs): only what of it still lies beyond now goes back,
--          since slots already in the past were refilled, and giving them back would admit twice
-- Returns { allowed 1|0, remaining requests, ms until the allowance is whole again, ms until the
-- next request fits, requests granted (this one included), the TAT after this call (µs) }.
-- Time is the server's, so API instances with skewed clocks still share one schedule.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local interval = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local wanted = tonumber(ARGV[5])
local refund = math.min(tonumber(ARGV[6]), math.max(0, tonumber(ARGV[7]) - now))
local stored = tonumber(redis.call('GET', KEYS[1]))
local tat = stored
if tat == nil or tat < now then tat = now end
-- A returned lease moves the schedule back, never before now: the past cannot be spent again.
if refund > 0 then tat = math.max(now, tat - refund) end
local function store()
  if tat == stored then return end
  if tat > now then
    -- string.format keeps every digit: a Lua number handed to redis.call is cut to 14 significant digits.
    redis.call('SET', KEYS[1], string.format('%d', tat), 'PX', string.format('%d', math.ceil((tat - now) / 1000)))
  elseif stored ~= nil then
    redis.call('DEL', KEYS[1])
  end
end
if wanted == 0 then
  store()
  return { 0, math.floor((capacity - (tat - now)) / interval), math.ceil((tat - now) / 1000), 0, 0, tat }
end
-- Requests that fit now; a lease takes at most a sixteenth of them, so leases shrink as the
-- allowance runs out and the last requests before the limit are decided one by one, here.
local fit = math.floor((capacity - (tat - now)) / interval)
local field = ARGV[3]
local allowed = 1
local retry = 0
local granted = 0
if fit < 1 then
  allowed = 0
  retry = tat + interval - now - capacity
  field = field .. ':refused'
else
  granted = math.max(1, math.min(wanted, math.floor(fit / 16)))
  tat = tat + granted * interval
end
store()
if redis.call('HINCRBY', KEYS[2], field, 1) == 1 then redis.call('EXPIRE', KEYS[2], ARGV[4]) end
local ahead = tat - now
return { allowed, math.floor((capacity - ahead) / interval), math.ceil(ahead / 1000), math.ceil(retry / 1000), granted, tat }
