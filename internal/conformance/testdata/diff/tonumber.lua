-- tonumber: bases, hex, exponents, whitespace, junk.
local cases = {
  "10", "  10  ", "10 x", "0x1F", "0X1f", "-0x10", "1e2", "1E-2", ".5", "5.",
  "1e", "e1", "", " ", "inf", "nan", "0x", "1.5e+3", "\t12\n", "1 2", "0b101",
  "00012", "-.5", "+5", "1e308", "1e309", "- 1", "0x1p4",
}
for _, s in ipairs(cases) do
  print(string.format("%q", s), tonumber(s))
end
print(tonumber("ff", 16), tonumber("FF", 16), tonumber("zz", 36), tonumber("777", 8))
print(tonumber("101", 2), tonumber("102", 2), tonumber("  11  ", 2), tonumber("7", 10))
print(tonumber("-ff", 16), tonumber("1.5", 10), tonumber("", 16), tonumber("0x10", 16))
print(tonumber(42), tonumber(nil), tonumber(true), tonumber({}) == nil)
print(pcall(tonumber))
print(pcall(tonumber, "10", 1))
print(pcall(tonumber, "10", 37))
print(tonumber("10", 36), tonumber(" 1f ", 16))
