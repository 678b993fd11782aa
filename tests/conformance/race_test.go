//go:build race

package conformance

// raceEnabled is true when the tests run with -race; the server binary is
// then built with the race detector as well, which also lets it share the
// build cache with the rest of a -race run.
const raceEnabled = true
