//go:build !race

package conformance

// raceEnabled: this test binary has the race detector (race_test.go).
const raceEnabled = false
