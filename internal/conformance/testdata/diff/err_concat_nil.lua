local s = "x" .. nil
