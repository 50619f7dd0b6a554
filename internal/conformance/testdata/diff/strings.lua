-- Other string functions.
print(string.rep("ab", 3), string.rep("x", 0), string.rep("x", -1), ("-"):rep(5))
print(string.sub("hello", 2, 4), ("hello"):sub(-3), ("hello"):sub(2), ("hello"):sub(0), ("hello"):sub(10))
print(("hello"):sub(-100, 2), ("hello"):sub(3, 2), ("hello"):sub(2.7, 3.2))
print(string.byte("ABC"), string.byte("ABC", 2), string.byte("ABC", 1, 3), string.byte("ABC", 10))
print(string.char(72, 105), string.char())
print(string.upper("MiXed 1"), string.lower("MiXed 1"), string.len("abc\0def"), #"\0\0")
print(string.reverse("abc"), string.reverse(""))
print(("x"):len(), ("%d"):format(5))
print(string.format("%q", "\1\2\3\127\200"))
print(#string.format("%s", "a\0b"))
print("\65\066\x43" == "AB\x43", "\z" == nil)
print("tab\tnew\\line", 'single "double"', "a\
b")
print([[long
string]], [==[with ]] inside]==])
print(tostring(nil), tostring(true), tostring(12), tostring("s"))
print(type(print), type(nil), type({}), type("x"), type(2), type(true), type(coroutine.create(function() end)))
print(pcall(coroutine.create, print))
