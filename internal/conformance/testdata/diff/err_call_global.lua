print("before")
undefinedfunction(1, 2)
