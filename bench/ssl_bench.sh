#!/bin/sh
# Runs bench/ssl_echo.lua on copas-lua and, when present, on LuaJIT with
# upstream Copas and LuaSec, with a throw-away certificate.
set -e
cd "$(dirname "$0")/.."
N=${1:-1000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tmp/key.pem" -out "$tmp/cert.pem" \
  -days 1 -subj /CN=localhost 2>/dev/null
go build -o "$tmp/copas-lua" ./cmd/copas-lua
"$tmp/copas-lua" bench/ssl_echo.lua "$tmp/cert.pem" "$tmp/key.pem" "$N"
if command -v luajit >/dev/null && [ -d /work/ref/lunarmodules+copas ]; then
  LUA_PATH="/work/ref/lunarmodules+copas/src/?.lua;/work/ref/Tieske+timerwheel.lua/src/?/init.lua;;" \
    luajit bench/ssl_echo.lua "$tmp/cert.pem" "$tmp/key.pem" "$N"
fi
