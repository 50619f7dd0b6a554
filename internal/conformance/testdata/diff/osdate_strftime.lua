for _, f in ipairs{"%a %A %b %B %c %C %d %D %e %F %g %G %H %I %j %k %l %m %M %p %P %r %R %s %S %T %u %U %V %w %W %x %X %y %Y %z %Z %% %Q %"} do
  for _, t in ipairs{0, 86399, 1234567890, 1700000000, 951782400, 1e9, -86400*400} do print(os.date("!" .. f, t)) print(os.date(f, t)) end
end
print(os.date("!*t", 0).isdst, os.date("*t", 1e9).hour)
print(os.time{year=2021, month=3, day=28, hour=2, min=30})
