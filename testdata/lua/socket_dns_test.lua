-- socket.dns on names the hosts file answers (localhost, 127.0.0.1) or
-- that the resolver refuses without asking a server ("bad name!"): no
-- query leaves the machine. luamod/socket/dns_test.go also runs this file
-- inside a task, where every lookup parks the task.
local socket = require("socket")
local dns = socket.dns
local ip, res = dns.toip("localhost")
assert(ip == "127.0.0.1", tostring(ip))
assert(res.name == "localhost" and res.ip[1] == "127.0.0.1" and type(res.alias) == "table")
ip, res = dns.toip("127.0.0.1")
assert(ip == "127.0.0.1" and res.name == "localhost" and res.ip[1] == "127.0.0.1", tostring(res and res.name))
local name = dns.tohostname("127.0.0.1")
assert(name == "localhost", tostring(name))
name, res = dns.tohostname("localhost")
assert(name == "localhost" and res.ip[1] == "127.0.0.1")
-- gethostbyname is IPv4 only
local none, err = dns.toip("::1")
assert(none == nil and err == "host not found", tostring(err))
none, err = dns.toip("bad name!")
assert(none == nil and err == "host not found", tostring(err))
none, err = dns.tohostname("bad name!")
assert(none == nil and err == "host not found", tostring(err))

local list = assert(dns.getaddrinfo("localhost"))
local found = false
for _, a in ipairs(list) do
  assert(a.family == "inet" or a.family == "inet6")
  if a.family == "inet" then assert(a.addr == "127.0.0.1"); found = true end
end
assert(found, "no inet address for localhost")
list = assert(dns.getaddrinfo("::1"))
assert(#list == 1 and list[1].family == "inet6" and list[1].addr == "::1")
list = assert(dns.getaddrinfo("127.1")) -- inet_aton's short form
assert(list[1].family == "inet" and list[1].addr == "127.0.0.1")
list = assert(dns.getaddrinfo(12))
assert(list[1].addr == "0.0.0.12")
none, err = dns.getaddrinfo("")
assert(none == nil and err == "host or service not provided, or not known", err)
none, err = dns.getaddrinfo("bad name!")
assert(none == nil and err == "host or service not provided, or not known", err)

local names, serv = dns.getnameinfo("127.0.0.1", 80)
assert(names[1] == "localhost" and serv == "http", tostring(serv))
names, serv = dns.getnameinfo(nil, "http")
assert(next(names) == nil and serv == "http")
names, serv = dns.getnameinfo(nil, 99999) -- truncated like htons
assert(serv == "34463", serv)
assert(select("#", dns.getnameinfo("127.0.0.1")) == 1)
none, err = dns.getnameinfo("127.0.0.1", "no-such-service")
assert(none == nil and err == "service not supported for socket type", err)
none, err = dns.getnameinfo("bad name!", 80)
assert(none == nil and err == "host or service not provided, or not known", err)
done = true
