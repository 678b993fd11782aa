//go:build !race

package opstowerbin

// Race is true when the tests run with -race; Build then builds the server
// with the race detector as well.
const Race = false
