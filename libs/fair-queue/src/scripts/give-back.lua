-- ARGV: tag, tenant, then ids of the tenant's in-flight jobs. They give their window slots back
-- while they wait in BullMQ for a reason of their own (a job waiting for the write that enqueued
-- it to commit), without holding the tenant: its other jobs go on. They still count against its
-- cap, and a second give-back of the same job frees nothing. Returns how many slots were given back.
local tenant = ARGV[2]
local ids = {}
for i = 3, #ARGV do ids[#ids + 1] = ARGV[i] end
local released = giveBackIds(tenant, ids)
afterRelease(released, false)
return released
