-- Free the in-flight slots of finished jobs. ARGV: tag, then pairs tenant, id.
local byTenant, tenants, all = {}, {}, {}
for i = 2, #ARGV, 2 do
  all[#all + 1] = ARGV[i + 1]
  local tenant = ARGV[i]
  local ids = byTenant[tenant]
  if not ids then
    ids = {}
    byTenant[tenant] = ids
    tenants[#tenants + 1] = tenant
  end
  ids[#ids + 1] = ARGV[i + 1]
end
local released, mustWake = 0, false
for _, tenant in ipairs(tenants) do
  local n, unparked = releaseIds(tenant, byTenant[tenant])
  released = released + n
  mustWake = mustWake or unparked
end
forgetIds(all)
afterRelease(released, mustWake)
return released
