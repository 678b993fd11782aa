package demo

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"
)

// logLine is one JSON-lines record, in the shape of a typical Go service's
// structured log.
type logLine struct {
	Time     string `json:"time"`
	Level    string `json:"level"`
	Msg      string `json:"msg"`
	Service  string `json:"service"`
	Route    string `json:"route,omitempty"`
	Status   int    `json:"status,omitempty"`
	Duration int    `json:"duration_ms,omitempty"`
	TraceID  string `json:"trace_id,omitempty"`
	OrderID  int    `json:"order_id,omitempty"`
	Currency string `json:"currency,omitempty"`
	Error    string `json:"error,omitempty"`
	Version  string `json:"version,omitempty"`
	Commit   string `json:"commit,omitempty"`
}

var routes = []string{"GET /products", "GET /products/:sku", "POST /cart", "GET /cart", "POST /checkout", "GET /healthz"}

// writeLog writes the last 36 hours of the shop backend's log: requests,
// a deploy, and from then on payment errors for EUR checkouts.
func writeLog(w *Workspace, now time.Time, rng *rand.Rand) error {
	if err := os.MkdirAll(filepath.Dir(w.Log), 0o755); err != nil {
		return err
	}
	f, err := os.Create(w.Log)
	if err != nil {
		return err
	}
	defer f.Close()
	bw := bufio.NewWriter(f)
	enc := json.NewEncoder(bw)
	version := "v2.13.4"
	deployed := false
	for t := now.Add(-36 * time.Hour); t.Before(now); t = t.Add(time.Duration(2000+rng.IntN(4000)) * time.Millisecond) {
		if !deployed && !t.Before(w.Incident) {
			deployed, version = true, "v2.14.0"
			if err := enc.Encode(logLine{Time: stamp(w.Incident), Level: "INFO", Msg: "deploy finished", Service: "shop-backend", Version: version, Commit: w.Culprit}); err != nil {
				return err
			}
		}
		if err := enc.Encode(requestLine(t, version, deployed, rng)); err != nil {
			return err
		}
	}
	return bw.Flush()
}

func requestLine(t time.Time, version string, afterDeploy bool, rng *rand.Rand) logLine {
	l := logLine{Time: stamp(t), Level: "INFO", Msg: "request completed", Service: "shop-backend",
		Route: routes[rng.IntN(len(routes))], Status: 200, Duration: 5 + rng.IntN(80), TraceID: fmt.Sprintf("%016x", rng.Uint64())}
	switch {
	case l.Route == "POST /checkout" && afterDeploy && rng.Float64() < 0.4:
		// EUR checkouts: the v2 client sends the currency in lower case.
		order := 10000 + rng.IntN(90000)
		return logLine{Time: l.Time, Level: "ERROR", Msg: "payment failed", Service: l.Service, Route: l.Route, Status: 502,
			Duration: 180 + rng.IntN(200), TraceID: l.TraceID, OrderID: order, Currency: "eur",
			Error: fmt.Sprintf(`stripe: charge rejected for order %d: invalid currency "eur" (expected ISO 4217 upper case)`, order)}
	case rng.Float64() < 0.004:
		l.Level, l.Msg, l.Status = "WARN", "slow query", 200
		l.Duration = 900 + rng.IntN(1500)
		l.Error = fmt.Sprintf("query took %dms: SELECT * FROM products WHERE sku = $1", l.Duration)
	case rng.Float64() < 0.002:
		l.Level, l.Msg, l.Status = "ERROR", "upstream timeout", 504
		l.Error = fmt.Sprintf("GET http://inventory.internal:8080/stock/%d: context deadline exceeded", 100+rng.IntN(900))
	}
	return l
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
