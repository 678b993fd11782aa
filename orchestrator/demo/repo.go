package demo

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// errNoGit means the git command is missing; the demo goes on without its
// repository.
var errNoGit = errors.New("git is not installed, so the demo has no repository; install git and run the demo again to include it")

// commit is one step of the demo repository's history.
type commit struct {
	author, email string
	ago           time.Duration // before the incident
	message       string
	files         map[string]string
}

// history tells the backend's story; the last commit is the culprit.
func history() []commit {
	ada, grace, linus := "Ada Lovelace", "Grace Hopper", "Linus Torvalds"
	return []commit{
		{ada, "ada@shop.example", 60 * 24 * time.Hour, "Initial shop backend", map[string]string{
			"go.mod":                        "module example.com/shop\n\ngo 1.22\n",
			"README.md":                     "# shop-backend\n\nThe API behind the shop: products, cart, checkout.\n",
			"cmd/api/main.go":               mainGo,
			"internal/orders/orders.go":     ordersGo,
			"internal/payments/client.go":   clientV1,
			"internal/payments/currency.go": currencyV1,
		}},
		{grace, "grace@shop.example", 41 * 24 * time.Hour, "orders: reject empty carts at checkout", map[string]string{
			"internal/orders/orders.go": strings.Replace(ordersGo, "// validate", "if len(c.Items) == 0 {\n\t\treturn errors.New(\"empty cart\")\n\t}\n\t// validate", 1),
		}},
		{linus, "linus@shop.example", 20 * 24 * time.Hour, "payments: retry charges once on a network error", map[string]string{
			"internal/payments/client.go": strings.Replace(clientV1, "return c.post(", "return c.postWithRetry(", 1),
		}},
		{grace, "grace@shop.example", 6 * 24 * time.Hour, "docs: describe the checkout flow", map[string]string{
			"README.md": "# shop-backend\n\nThe API behind the shop: products, cart, checkout.\n\nCheckout creates an order, then charges it through the payments client.\n",
		}},
		{ada, "ada@shop.example", 20 * time.Minute, "payments: switch to the v2 charges API", map[string]string{
			"internal/payments/client.go":   strings.Replace(strings.Replace(clientV1, "/v1/charges", "/v2/charges", 1), "return c.post(", "return c.postWithRetry(", 1),
			"internal/payments/currency.go": currencyV2,
		}},
	}
}

// writeRepo builds the repository with the git command line and records
// the culprit commit's hash.
func writeRepo(w *Workspace) error {
	if _, err := exec.LookPath("git"); err != nil {
		return errNoGit
	}
	if err := os.RemoveAll(w.Repo); err != nil {
		return err
	}
	if err := os.MkdirAll(w.Repo, 0o755); err != nil {
		return err
	}
	if err := git(w.Repo, nil, "init", "-q", "-b", "main"); err != nil {
		return err
	}
	for _, c := range history() {
		for path, content := range c.files {
			full := filepath.Join(w.Repo, path)
			if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
				return err
			}
		}
		when := w.Incident.Add(-c.ago).Format(time.RFC3339)
		env := []string{
			"GIT_AUTHOR_NAME=" + c.author, "GIT_AUTHOR_EMAIL=" + c.email, "GIT_AUTHOR_DATE=" + when,
			"GIT_COMMITTER_NAME=" + c.author, "GIT_COMMITTER_EMAIL=" + c.email, "GIT_COMMITTER_DATE=" + when,
		}
		if err := git(w.Repo, env, "add", "-A"); err != nil {
			return err
		}
		if err := git(w.Repo, env, "commit", "-q", "--no-gpg-sign", "-m", c.message); err != nil {
			return err
		}
	}
	out, err := exec.Command("git", "-C", w.Repo, "rev-parse", "--short=10", "HEAD").Output()
	if err != nil {
		return err
	}
	w.Culprit = strings.TrimSpace(string(out))
	return nil
}

func git(dir string, env []string, args ...string) error {
	cmd := exec.Command("git", append([]string{"-C", dir, "-c", "core.hooksPath=/dev/null", "-c", "commit.gpgsign=false"}, args...)...)
	// A clean environment: the user's git config must not change the demo.
	cmd.Env = append([]string{"HOME=" + dir, "GIT_CONFIG_NOSYSTEM=1", "PATH=" + os.Getenv("PATH")}, env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("git %s: %v: %s", args[0], err, strings.TrimSpace(string(out)))
	}
	return nil
}

const mainGo = `package main

import (
	"log"
	"net/http"

	"example.com/shop/internal/orders"
)

func main() {
	http.HandleFunc("POST /checkout", orders.Checkout)
	log.Fatal(http.ListenAndServe(":8080", nil))
}
`

const ordersGo = `package orders

import (
	"errors"
	"net/http"

	"example.com/shop/internal/payments"
)

// Cart is what a customer checks out.
type Cart struct {
	Items    []string
	Total    int64  // in cents
	Currency string // ISO 4217, e.g. EUR
}

// Checkout charges the cart and creates the order.
func Checkout(w http.ResponseWriter, r *http.Request) {
	var c Cart
	if err := place(r, &c); err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
	}
}

func place(r *http.Request, c *Cart) error {
	// validate
	if c.Total <= 0 {
		return errors.New("empty total")
	}
	return payments.Default.Charge(r.Context(), c.Total, c.Currency)
}
`

const clientV1 = `package payments

import (
	"context"
	"fmt"
)

// Client charges cards through the payment provider.
type Client struct{ base string }

// Default is the client the service uses.
var Default = &Client{base: "https://payments.example"}

// Charge charges amount (in cents) in the given currency.
func (c *Client) Charge(ctx context.Context, amount int64, currency string) error {
	body := fmt.Sprintf("amount=%d&currency=%s", amount, formatCurrency(currency))
	return c.post(ctx, "/v1/charges", body)
}

func (c *Client) post(ctx context.Context, path, body string) error       { return nil }
func (c *Client) postWithRetry(ctx context.Context, path, body string) error { return c.post(ctx, path, body) }
`

const currencyV1 = `package payments

import "strings"

// formatCurrency normalises an ISO 4217 code for the provider.
func formatCurrency(code string) string {
	return strings.ToUpper(strings.TrimSpace(code))
}
`

const currencyV2 = `package payments

import "strings"

// formatCurrency normalises an ISO 4217 code for the provider. The v2 API
// documentation shows lower-case codes in its examples.
func formatCurrency(code string) string {
	return strings.ToLower(strings.TrimSpace(code))
}
`
