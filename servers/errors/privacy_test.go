package errors

import "testing"

func TestScrubURL(t *testing.T) {
	cases := map[string]string{
		"https://api.example.com/v1/items?page=2&token=abc123":            "https://api.example.com/v1/items?page=2&token=%5BFiltered%5D",
		"https://bob:s3cret@db.example.com/x":                             "https://%5BFiltered%5D@db.example.com/x",
		"/v1/login?next=/home&password=hunter2&signature=0a1b":            "/v1/login?next=%2Fhome&password=%5BFiltered%5D&signature=%5BFiltered%5D",
		"https://shop.example.com/checkout?step=2":                        "https://shop.example.com/checkout?step=2",
		"not a url, Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.x": "not a url, Authorization: Bearer [Filtered]",
	}
	for in, want := range cases {
		if got := scrubURL(in); got != want {
			t.Errorf("scrubURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestScrubText(t *testing.T) {
	cases := map[string]string{
		"upstream said: invalid token=ab12cd34ef":       "upstream said: invalid token=[Filtered]",
		"retrying with api_key: 9f8e7d6c5b4a":           "retrying with api_key: [Filtered]",
		"Basic dXNlcjpwYXNzd29yZA== rejected":           "Basic [Filtered] rejected",
		"the password is wrong":                         "the password is wrong",
		"Cannot read properties of undefined (reading)": "Cannot read properties of undefined (reading)",
	}
	for in, want := range cases {
		if got := scrubText(in); got != want {
			t.Errorf("scrubText(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMasking(t *testing.T) {
	for in, want := range map[string]string{
		"203.0.113.77":                         "203.0.113.x",
		"2001:db8:85a3:8d3:1319:8a2e:370:7348": "2001:db8:85a3::x",
		"{{auto}}":                             "{{auto}}",
		"garbage":                              "[Filtered]",
	} {
		if got := maskIP(in); got != want {
			t.Errorf("maskIP(%q) = %q, want %q", in, got, want)
		}
	}
	u := user{ID: "42", Username: "ana@example.com", Email: "ana@example.com", IP: "198.51.100.4", Name: "Ana", Geo: "Lyon, FR"}
	line, masked := userLine(u, false)
	if line != "id=42 username=…@example.com email=…@example.com ip=198.51.100.x geo=Lyon, FR" || !masked {
		t.Errorf("masked: %q %v", line, masked)
	}
	line, masked = userLine(u, true)
	if line != "id=42 username=ana@example.com name=Ana email=ana@example.com ip=198.51.100.4 geo=Lyon, FR" || masked {
		t.Errorf("shown: %q %v", line, masked)
	}
	if got := userCell(user{Email: "x@y.z"}, false); got != "…@y.z" {
		t.Errorf("userCell: %q", got)
	}
}

func TestCredentialKeys(t *testing.T) {
	for _, k := range []string{"Authorization", "Cookie", "X-Api-Key", "X-CSRFToken", "session_token", "Proxy-Authorization", "X-Amz-Security-Token", "jwt"} {
		if !isCredentialKey(k) {
			t.Errorf("%s must be withheld", k)
		}
	}
	for _, k := range []string{"User-Agent", "Content-Type", "Referer", "Host", "Accept-Language", "X-Request-Id"} {
		if isCredentialKey(k) {
			t.Errorf("%s need not be withheld", k)
		}
	}
}
