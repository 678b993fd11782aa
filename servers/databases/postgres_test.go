package databases

import "testing"

func TestAppendRFC3339(t *testing.T) {
	for in, want := range map[string]string{
		"2026-01-02 03:04:05.123456+00": "2026-01-02T03:04:05.123456Z",
		"2026-01-02 03:04:05+02":        "2026-01-02T03:04:05+02:00",
		"2026-01-02 03:04:05-03:30":     "2026-01-02T03:04:05-03:30",
		"2026-01-02 03:04:05.5":         "2026-01-02T03:04:05.5", // timestamp without time zone
		"infinity":                      "infinity",
		"0044-03-15 12:00:00+00 BC":     "0044-03-15 12:00:00+00 BC",
	} {
		if got := string(appendRFC3339(nil, []byte(in))); got != want {
			t.Errorf("%q: got %q, want %q", in, got, want)
		}
	}
}
