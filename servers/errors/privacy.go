package errors

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"

	"github.com/opstower/opstower/shared/secret"
)

// Error trackers store what the application sent them: request headers with
// session cookies and bearer tokens, query strings with API keys, users'
// emails and IP addresses. None of that helps a model debug, and a model's
// context is not a place for credentials, so the tools apply the rules
// below to everything they show, whatever the tracker scrubbed already:
//
//   - credentials (Authorization, Cookie, API-key headers; secret-looking
//     query and data keys; "Bearer ..." in free text) are never shown;
//   - request bodies, cookies and local variables are never shown;
//   - emails, IP addresses and names are masked unless the connection sets
//     show_pii: true.

// filtered replaces a withheld value, as Sentry's own scrubber writes it.
const filtered = "[Filtered]"

// credentialHeaders are request headers that carry credentials or session
// state under names secret.IsSecretKey does not recognise.
var credentialHeaders = map[string]bool{
	"cookie": true, "set-cookie": true, "proxy-authorization": true, "x-csrftoken": true,
	"x-xsrf-token": true, "x-sentry-auth": true, "x-amz-security-token": true, "x-goog-iap-jwt-assertion": true,
}

// clientIPHeaders reveal the user's address; shown only with show_pii.
var clientIPHeaders = map[string]bool{
	"x-forwarded-for": true, "x-real-ip": true, "forwarded": true, "cf-connecting-ip": true,
	"true-client-ip": true, "x-client-ip": true, "fastly-client-ip": true,
}

// isCredentialKey reports whether a header, query or data key holds a
// credential.
func isCredentialKey(name string) bool {
	n := strings.ToLower(strings.TrimSpace(name))
	if credentialHeaders[n] || secret.IsSecretKey(n) {
		return true
	}
	for _, s := range []string{"session", "signature", "sig", "csrf", "xsrf", "jwt", "passphrase", "private"} {
		if n == s || strings.Contains(n, s) {
			return true
		}
	}
	return false
}

// authInText finds credentials written inline: "Bearer abc...", "Basic ...",
// "token=abc...", "api_key: abc...".
var authInText = regexp.MustCompile(`(?i)\b(bearer|basic|token|api[_-]?key|apikey|password|secret)(\s*[:=]\s*|\s+)([A-Za-z0-9._~+/=-]{6,})`)

// scrubText removes inline credentials from free text (messages, header and
// breadcrumb values) and the values of registered secrets.
func scrubText(s string) string {
	if s == "" {
		return s
	}
	s = authInText.ReplaceAllString(s, "${1}${2}"+filtered)
	return secret.Scrub(s)
}

// scrubURL withholds the values of credential-looking query parameters and
// any user info in a URL. Text that is not a URL is scrubbed as text.
func scrubURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme == "" && u.Host == "" && !strings.HasPrefix(raw, "/")) {
		return scrubText(raw)
	}
	if u.User != nil {
		u.User = url.User(filtered)
	}
	if u.RawQuery != "" {
		q, err := url.ParseQuery(u.RawQuery)
		if err != nil {
			u.RawQuery = filtered
		} else {
			changed := false
			for k, vs := range q {
				if isCredentialKey(k) {
					for i := range vs {
						vs[i] = filtered
					}
					changed = true
				}
			}
			if changed {
				u.RawQuery = q.Encode()
			}
		}
	}
	return scrubText(u.String())
}

// maskEmail keeps only the domain of an address: "…@example.com".
func maskEmail(s string) string {
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		return "…" + s[i:]
	}
	return s
}

// maskIP keeps the network part of an address: 203.0.113.x, 2001:db8:85a3::x.
func maskIP(s string) string {
	ip := net.ParseIP(strings.TrimSpace(s))
	if ip == nil {
		if s == "" || s == "{{auto}}" {
			return s
		}
		return filtered
	}
	if v4 := ip.To4(); v4 != nil {
		return fmt.Sprintf("%d.%d.%d.x", v4[0], v4[1], v4[2])
	}
	parts := strings.SplitN(ip.String(), ":", 4)
	if len(parts) < 4 {
		return filtered
	}
	return strings.Join(parts[:3], ":") + "::x"
}

// userLine renders the affected user, masked unless showPII.
func userLine(u user, showPII bool) (string, bool) {
	var parts []string
	masked := false
	add := func(k, v string) {
		if v != "" {
			parts = append(parts, k+"="+v)
		}
	}
	add("id", u.ID)
	username := u.Username
	if !showPII && strings.Contains(username, "@") {
		username, masked = maskEmail(username), true
	}
	add("username", username)
	if showPII {
		add("name", u.Name)
		add("email", u.Email)
		add("ip", u.IP)
	} else {
		masked = masked || u.Name != "" || u.Email != "" || u.IP != ""
		if u.Email != "" {
			add("email", maskEmail(u.Email))
		}
		if u.IP != "" {
			add("ip", maskIP(u.IP))
		}
	}
	add("geo", u.Geo)
	return strings.Join(parts, " "), masked
}

// userCell is the short form of a user for one line of a list.
func userCell(u user, showPII bool) string {
	switch {
	case u.ID != "":
		return u.ID
	case u.Username != "" && (showPII || !strings.Contains(u.Username, "@")):
		return u.Username
	case u.Email != "" && showPII:
		return u.Email
	case u.Email != "":
		return maskEmail(u.Email)
	case u.IP != "" && showPII:
		return u.IP
	case u.IP != "":
		return maskIP(u.IP)
	}
	return ""
}
