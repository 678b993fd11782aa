package mcptest

import (
	"os"
	"testing"
)

// RequireServices reports whether tests must not skip for a missing
// service: CI sets OPSTOWER_REQUIRE_SERVICES=1 after starting them all.
func RequireServices() bool { return os.Getenv("OPSTOWER_REQUIRE_SERVICES") == "1" }

// SkipOrFail skips the test because a service is unavailable, or fails it
// when services are required.
func SkipOrFail(t testing.TB, format string, args ...any) {
	t.Helper()
	if RequireServices() {
		t.Fatalf("required service unavailable: "+format, args...)
	}
	t.Skipf("service unavailable (set OPSTOWER_REQUIRE_SERVICES=1 to fail instead): "+format, args...)
}
