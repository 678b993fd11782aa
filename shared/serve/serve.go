// Package serve runs an MCP server over stdio or streamable HTTP, the same
// way for every category.
//
// HTTP is stateless (no session affinity, so replicas scale behind any load
// balancer), serves /mcp and /healthz, checks a bearer token when one is
// configured (compared in constant time), answers in plain JSON unless the
// server streams progress (Options.Stream), rejects cross-origin browser
// requests unless their origin is allowed, and can restrict Host headers.
// The SDK's DNS-rebinding protection stays on for loopback listeners unless
// a Host allow-list is given, which then takes its place.
package serve

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/opstower/opstower/shared/secret"
)

// Options configure the HTTP transport.
type Options struct {
	Addr           string        // listen address, e.g. 127.0.0.1:8080 or :0
	Token          secret.String // bearer token required on /mcp; empty disables the check
	AllowedOrigins []string      // browser origins allowed besides same-origin
	AllowedHosts   []string      // accepted Host headers (without port); empty accepts any (loopback listeners: localhost names only)
	Logger         *slog.Logger
	// Stream answers each call with a server-sent event stream, so that
	// notifications sent during the call (progress from a long agent run)
	// reach the client before the result. Without it the answer is plain
	// JSON, which a stateless request handles with less work: servers
	// that send nothing during a call leave it off.
	Stream bool
	// Ready, when set, is called with the bound address once listening.
	Ready func(addr net.Addr)
}

// HTTP serves s over streamable HTTP until ctx ends, then shuts down
// gracefully.
func HTTP(ctx context.Context, s *mcp.Server, o Options) error {
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", o.Addr, err)
	}
	hs := &http.Server{
		Handler:           Handler(s, o),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	logger.Info("serving MCP over streamable HTTP", "url", "http://"+ln.Addr().String()+"/mcp", "token_required", !o.Token.IsZero())
	if o.Ready != nil {
		o.Ready(ln.Addr())
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return hs.Shutdown(shutdown)
	}
}

// Handler returns the HTTP handler: /mcp and /healthz.
func Handler(s *mcp.Server, o Options) http.Handler {
	var h http.Handler = mcp.NewStreamableHTTPHandler(
		func(*http.Request) *mcp.Server { return s },
		&mcp.StreamableHTTPOptions{
			Stateless:    true,
			JSONResponse: !o.Stream,
			Logger:       o.Logger,
			// On a loopback listener the SDK rejects every Host that is not
			// a localhost name, including the public name a reverse proxy on
			// the same machine forwards. An explicit allow-list (hostCheck)
			// blocks DNS rebinding just as well, and lets that name in.
			DisableLocalhostProtection: len(o.AllowedHosts) > 0,
		},
	)
	if !o.Token.IsZero() {
		h = auth.RequireBearerToken(tokenVerifier(o.Token), &auth.RequireBearerTokenOptions{AllowMissingExpiration: true})(h)
	}
	cop := http.NewCrossOriginProtection()
	for _, origin := range o.AllowedOrigins {
		if err := cop.AddTrustedOrigin(origin); err != nil {
			// Validated by ValidateOrigins before we get here.
			panic(err)
		}
	}
	h = hostCheck(o.AllowedHosts, cop.Handler(h))

	mux := http.NewServeMux()
	mux.Handle("/mcp", h)
	// Health probes (a load balancer, Kubernetes) send the pod's address as
	// Host, so /healthz stays outside the Host allow-list and the token.
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "not found: the MCP endpoint is /mcp", http.StatusNotFound)
	})
	return mux
}

// ValidateOrigins reports an allowed origin that is not of the form
// scheme://host[:port].
func ValidateOrigins(origins []string) error {
	cop := http.NewCrossOriginProtection()
	for _, o := range origins {
		if err := cop.AddTrustedOrigin(o); err != nil {
			return fmt.Errorf("allowed origin %q: %w (write it as https://host[:port])", o, err)
		}
	}
	return nil
}

func tokenVerifier(token secret.String) auth.TokenVerifier {
	want := sha256.Sum256([]byte(token.Reveal()))
	return func(_ context.Context, got string, _ *http.Request) (*auth.TokenInfo, error) {
		sum := sha256.Sum256([]byte(got))
		if subtle.ConstantTimeCompare(sum[:], want[:]) != 1 {
			return nil, auth.ErrInvalidToken
		}
		return &auth.TokenInfo{}, nil
	}
}

// hostCheck rejects requests whose Host header is not allowed.
func hostCheck(allowed []string, next http.Handler) http.Handler {
	if len(allowed) == 0 {
		return next
	}
	set := map[string]bool{}
	for _, h := range allowed {
		set[strings.ToLower(h)] = true
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		if !set[strings.ToLower(strings.Trim(host, "[]"))] {
			http.Error(w, "forbidden: Host not allowed", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}
