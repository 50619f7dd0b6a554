-- Module for assign_test.lua: loaded by require, loadfile and dofile, it
-- must get the same multiple-assignment fix as the main chunk.
local a, b = 1, 2
a, b = b, a
local name = ...
return {a = a, b = b, name = name}
