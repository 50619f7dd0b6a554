print("x"
print("y")
