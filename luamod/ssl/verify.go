package ssl

import (
	"os"
	"strings"
	"sync/atomic"
)

// VerifyEnv is the environment variable read when the package loads:
// "none" turns copas-lua's default verification of ssl.https servers off
// (LuaSec's default), for parameters that do not say verify.
const VerifyEnv = "COPAS_LUA_TLS_VERIFY"

// noVerify is true when parameters without verify get LuaSec's default
// (no verification) instead of ours.
var noVerify atomic.Bool

func init() {
	noVerify.Store(strings.EqualFold(strings.TrimSpace(os.Getenv(VerifyEnv)), "none"))
}

// SetDefaultVerify chooses what ssl.https does with parameters that do not
// set verify: "peer" (copas-lua's default: verify the server's certificate
// and host name) or "none" (LuaSec's default: no verification). It
// overrides COPAS_LUA_TLS_VERIFY, for every Lua state of the process, from
// the next context made on. It returns false, changing nothing, for any
// other mode. Safe to call from any goroutine; meant for a command-line
// flag such as copas-lua's --tls-verify.
func SetDefaultVerify(mode string) bool {
	switch mode {
	case "none":
		noVerify.Store(true)
	case "peer":
		noVerify.Store(false)
	default:
		return false
	}
	return true
}

// DefaultVerify reports whether parameters that do not set verify are
// verified (SetDefaultVerify "peer"). Safe to call from any goroutine.
func DefaultVerify() bool { return !noVerify.Load() }

// verifyHint follows a verification failure that copas-lua's default
// caused, so the message says how to get LuaSec's behaviour back.
const verifyHint = ` (set verify = "none" in the ssl params, or ` + VerifyEnv + `=none in the environment, to skip verification)`
