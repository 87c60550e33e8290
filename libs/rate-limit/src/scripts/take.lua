-- GCRA (generic cell rate algorithm) for one tenant and route class, plus that tenant's request
-- count for the current minute, in one atomic call.
-- KEYS[1]  the theoretical arrival time (TAT, µs since the epoch) of the tenant's class
-- KEYS[2]  the tenant's request counts of this minute (a hash: class -> admitted, class:refused -> refused)
--          Both keys carry the tenant's {hash tag}, so Redis Cluster keeps them in one slot.
-- ARGV[1]  emission interval in µs: the window divided by the quota
-- ARGV[2]  capacity in µs: quota x interval, how far the TAT may run ahead of now (the burst)
-- ARGV[3]  the route class, the count's field
-- ARGV[4]  seconds to keep the counts
-- Returns { allowed 1|0, remaining requests, ms until the allowance is whole again, ms until the next request fits }.
-- Time is the server's, so API instances with skewed clocks still share one schedule.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local interval = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]))
if tat == nil or tat < now then tat = now end
local after = tat + interval
local field = ARGV[3]
local allowed = 1
local retry = 0
if after - now > capacity then
  allowed = 0
  retry = after - now - capacity
  field = field .. ':refused'
else
  tat = after
  -- string.format keeps every digit: a Lua number handed to redis.call is cut to 14 significant digits.
  redis.call('SET', KEYS[1], string.format('%d', tat), 'PX', string.format('%d', math.ceil((tat - now) / 1000)))
end
if redis.call('HINCRBY', KEYS[2], field, 1) == 1 then redis.call('EXPIRE', KEYS[2], ARGV[4]) end
local ahead = tat - now
return { allowed, math.floor((capacity - ahead) / interval), math.ceil(ahead / 1000), math.ceil(retry / 1000) }
