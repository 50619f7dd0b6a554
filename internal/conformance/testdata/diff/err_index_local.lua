local a
print("before")
local x = a.field
