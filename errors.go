package copaslua

import (
	"strings"

	"github.com/copas-lua/copas-lua/scheduler"
	lua "github.com/yuin/gopher-lua"
)

// Error is a Lua error: what DoString, DoFile and Call return when Lua
// code raises an error or a chunk does not compile (find it with
// errors.As). Its fields are plain Go values, safe on any goroutine.
type Error struct {
	// Value is the Lua error value converted with ToGo: usually the
	// message string, a table raised with error(t) becomes a map or
	// slice, nil for error().
	Value any
	// Message is the error value as text, with the position Lua added
	// ("file:12: attempt to ...").
	Message string
	// Traceback is Lua's "stack traceback:" of where the error was
	// raised, or "" when there is none (syntax errors).
	Traceback string

	api *lua.ApiError
}

// LuaError is the former name of Error.
//
// Deprecated: use Error.
type LuaError = Error

// Error returns the message, followed by the traceback if there is one.
// Safe from any goroutine.
func (e *Error) Error() string {
	if e.Traceback == "" {
		return e.Message
	}
	return e.Message + "\n" + e.Traceback
}

// Unwrap gives gopher-lua's *lua.ApiError and its cause (a
// *parse.Error for syntax errors, an I/O error for unreadable files), so
// errors.As finds them. Safe from any goroutine.
func (e *Error) Unwrap() []error {
	if e.api == nil {
		return nil
	}
	if e.api.Cause != nil {
		return []error{e.api, e.api.Cause}
	}
	return []error{e.api}
}

func newError(ae *lua.ApiError) *Error {
	e := &Error{api: ae, Traceback: strings.TrimSpace(ae.StackTrace)}
	if ae.Object != nil {
		e.Value = ToGo(ae.Object)
		e.Message = ae.Object.String()
	} else if ae.Cause != nil {
		e.Message = ae.Cause.Error()
	}
	return e
}

// taskError is the *Error of task t that ended with err, with the
// thread's traceback. Loop goroutine only.
func (r *Runtime) taskError(t *scheduler.Task, err error) *Error {
	ae, ok := err.(*lua.ApiError)
	if !ok {
		ae = &lua.ApiError{Type: lua.ApiErrorRun, Object: scheduler.ErrorValue(err), Cause: err}
	}
	e := newError(ae)
	if e.Traceback == "" && t.Co != nil {
		e.Traceback = r.traceback(r.st, 0, t.Co)
	}
	return e
}
