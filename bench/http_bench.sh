#!/bin/sh
# copas.http.request throughput with 100 concurrent threads against one
# local Go HTTP server: copas-lua, then (when present) LuaJIT with upstream
# Copas and LuaSocket, in the same run.
# usage: bench/http_bench.sh [THREADS] [TOTAL]
set -e
cd "$(dirname "$0")/.."
THREADS=${1:-100}
TOTAL=${2:-20000}
tmp=$(mktemp -d)
go build -o "$tmp/copas-lua" ./cmd/copas-lua
go build -o "$tmp/httpserver" ./bench/httpserver
"$tmp/httpserver" > "$tmp/port" &
server=$!
trap 'kill $server; rm -rf "$tmp"' EXIT
while [ ! -s "$tmp/port" ]; do sleep 0.05; done
url="http://127.0.0.1:$(cat "$tmp/port")/"
"$tmp/copas-lua" bench/http_client.lua "$url" "$THREADS" "$TOTAL"
if command -v luajit >/dev/null && [ -d /work/ref/lunarmodules+copas ]; then
  LUA_PATH="/work/ref/lunarmodules+copas/src/?.lua;/work/ref/Tieske+timerwheel.lua/src/?/init.lua;;" \
    luajit bench/http_client.lua "$url" "$THREADS" "$TOTAL"
fi
