package copaslua

// Version is the copas-lua release this package belongs to. The
// command-line program prints it for -v and in interactive mode.
const Version = "0.1.0-dev"
