-- Recovery after a dispatcher crash: return staged entries older than `olderThanMs` that
-- BullMQ does not hold, restamped so a second recoverer leaves them alone for a while.
-- Entries BullMQ already holds only lost their confirmation: confirm them here.
-- ARGV: tag, BullMQ job key prefix, olderThanMs, limit. The hash is bounded by the window.
local jobPrefix = ARGV[2]
local olderThan = tonumber(ARGV[3])
local limit = tonumber(ARGV[4])
local now = nowMs()
local staged = rcall('HGETALL', stagedKey)
local out = {}
for i = 1, #staged, 2 do
  local id, value = staged[i], staged[i + 1]
  local bar = string.find(value, '|', 1, true)
  if now - tonumber(string.sub(value, 1, bar - 1)) >= olderThan then
    local entry = string.sub(value, bar + 1)
    if rcall('EXISTS', jobPrefix .. id) == 1 then
      rcall('HDEL', stagedKey, id)
    else
      rcall('HSET', stagedKey, id, now .. '|' .. entry)
      out[#out + 1] = entry
      if #out >= limit then break end
    end
  end
end
return out
