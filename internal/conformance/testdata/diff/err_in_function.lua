local function f() error("in f") end
f()
