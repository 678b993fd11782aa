package llm

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strings"

	"github.com/opstower/opstower/shared/secret"
)

// apiMessage extracts the human message from a provider's error body and
// adds what to do about the usual statuses. All three providers put it at
// error.message.
func apiMessage(raw string, status int) string {
	var body struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
		Message string `json:"message"`
	}
	msg := ""
	if json.Unmarshal([]byte(raw), &body) == nil {
		msg = first(body.Error.Message, body.Message)
	}
	if msg == "" {
		msg = strings.TrimSpace(raw)
		if len(msg) > 300 {
			msg = msg[:300] + "..."
		}
	}
	if msg == "" {
		msg = http.StatusText(status)
	}
	switch status {
	case http.StatusUnauthorized, http.StatusForbidden:
		msg += " (check the API key for this provider)"
	case http.StatusNotFound:
		msg += " (check the model name and the base URL)"
	case http.StatusTooManyRequests:
		msg += " (rate limited; retried with backoff and gave up)"
	}
	return secret.Scrub(msg)
}

// transportMessage describes a failure to reach the provider at all.
func transportMessage(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, context.Canceled):
		return "cancelled"
	case errors.Is(err, context.DeadlineExceeded):
		return "the model did not answer in time"
	case errors.As(err, &ne):
		return "cannot reach the model endpoint (" + secret.Scrub(err.Error()) + "); check the base URL and that the server is running"
	}
	return secret.Scrub(err.Error())
}

func first(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
