-- copas.http.request throughput: THREADS Copas threads share TOTAL
-- requests to URL. Runs unchanged on copas-lua and on LuaJIT + Copas.
-- usage: http_client.lua URL [THREADS] [TOTAL]
local copas = require "copas"
local http = require "copas.http"
local socket = require "socket"

local url = assert(arg[1], "usage: http_client.lua URL [THREADS] [TOTAL]")
local threads = tonumber(arg[2]) or 100
local total = tonumber(arg[3]) or 20000

local started, ok, failed = 0, 0, 0
local t0 = socket.gettime()
for _ = 1, threads do
  copas.addthread(function()
    while started < total do
      started = started + 1
      local body, code = http.request(url)
      if body and code == 200 then ok = ok + 1 else failed = failed + 1 end
    end
  end)
end
copas.loop()
local dt = socket.gettime() - t0
print(string.format("%-10s %d threads: %d requests (%d failed) in %.2f s = %.0f req/s",
  jit and "luajit" or "copas-lua", threads, ok, failed, dt, ok / dt))
