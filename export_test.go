package copaslua

// MaxRead lets tests lower the read cap (1 GiB) to keep memory small.
var MaxRead = &maxRead
