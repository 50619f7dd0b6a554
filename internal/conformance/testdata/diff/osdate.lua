-- os.date / os.time with fixed inputs (the test runs both with TZ=UTC).
print(os.date("!%Y-%m-%d %H:%M:%S", 0))
print(os.date("!%Y-%m-%d %H:%M:%S", 1700000000))
print(os.date("!%a %A %b %B %d %j %p %y %%", 86400 * 45))
print(os.date("!%c", 0))
print(os.date("!%x %X", 0))
local t = os.date("!*t", 1234567890)
local keys = {}
for k in pairs(t) do keys[#keys + 1] = k end
table.sort(keys)
for _, k in ipairs(keys) do io.write(k, "=", tostring(t[k]), " ") end
print()
print(os.time({ year = 2000, month = 1, day = 1, hour = 0 }))
print(os.time({ year = 2000, month = 1, day = 1 }))
print(os.time({ year = 2020, month = 13, day = 40, hour = 25, min = 61, sec = 61 }))
print(pcall(os.time, { year = 2000 }))
print(os.date("%Y", os.time({ year = 2001, month = 6, day = 15 })))
print(os.difftime(10, 5), type(os.time()), type(os.clock()))
print(os.date("!%H", 3600 * 5 + 59))
