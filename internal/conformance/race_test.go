//go:build race

package conformance

// raceEnabled: this test binary has the race detector. Child processes
// then run a test binary built without it (helperBinary): the suite under
// the race detector would take minutes, and the race detector guards the
// runtime in its own packages' tests.
const raceEnabled = true
