package httpapi

import (
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/opstower/opstower/shared/secret"
)

// BaseURL checks a configured API base URL (self-hosted Sentry, GitHub
// Enterprise, a proxy) and returns it without a trailing slash, or def when
// raw is empty. Plain http is accepted only for loopback addresses, so a
// credential never crosses a network unencrypted. setting names the
// setting in errors.
func BaseURL(raw, def, setting string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return def, nil
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return "", fmt.Errorf("%s %q is not an http(s) URL; write it like %s", setting, secret.RedactURL(raw), def)
	}
	if u.Scheme == "http" && !IsLoopback(u.Hostname()) {
		return "", fmt.Errorf("%s %q uses plain http, which would send the credential unencrypted; use https (http is accepted only for localhost)", setting, secret.RedactURL(raw))
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("%s %q must not contain a query, fragment or user info", setting, secret.RedactURL(raw))
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// IsLoopback reports whether host names this machine.
func IsLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
