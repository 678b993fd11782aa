//go:build race

package interop

// raceEnabled is true when the tests run with -race; the server binary is
// then built with the race detector as well.
const raceEnabled = true
