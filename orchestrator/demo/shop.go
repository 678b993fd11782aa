package demo

import (
	"database/sql"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"time"

	_ "modernc.org/sqlite" // database/sql driver "sqlite"
)

const shopSchema = `
CREATE TABLE customers (
  id         INTEGER PRIMARY KEY,
  name       TEXT NOT NULL,
  email      TEXT NOT NULL UNIQUE,
  country    TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE TABLE products (
  id    INTEGER PRIMARY KEY,
  sku   TEXT NOT NULL UNIQUE,
  name  TEXT NOT NULL,
  price NUMERIC NOT NULL
);
CREATE TABLE orders (
  id          INTEGER PRIMARY KEY,
  customer_id INTEGER NOT NULL REFERENCES customers(id),
  product_id  INTEGER NOT NULL REFERENCES products(id),
  quantity    INTEGER NOT NULL,
  total       NUMERIC NOT NULL,
  currency    TEXT NOT NULL,
  status      TEXT NOT NULL CHECK (status IN ('paid', 'payment_failed', 'refunded')),
  created_at  TEXT NOT NULL
);
CREATE INDEX orders_created_at ON orders (created_at);
CREATE INDEX orders_customer ON orders (customer_id);
CREATE TABLE payments (
  id         INTEGER PRIMARY KEY,
  order_id   INTEGER NOT NULL REFERENCES orders(id),
  provider   TEXT NOT NULL,
  status     TEXT NOT NULL CHECK (status IN ('succeeded', 'failed')),
  error_code TEXT,
  amount     NUMERIC NOT NULL,
  currency   TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX payments_order ON payments (order_id);
CREATE TABLE events (
  id         INTEGER PRIMARY KEY,
  user_id    INTEGER NOT NULL,
  session_id TEXT NOT NULL,
  name       TEXT NOT NULL,
  path       TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX events_created_at ON events (created_at);
CREATE INDEX events_name ON events (name, created_at);
`

var (
	firstNames = []string{"Ada", "Grace", "Linus", "Margaret", "Alan", "Barbara", "Ken", "Radia", "Edsger", "Frances", "Dennis", "Hedy", "Tim", "Katherine", "Guido", "Anita"}
	lastNames  = []string{"Lovelace", "Hopper", "Torvalds", "Hamilton", "Turing", "Liskov", "Thompson", "Perlman", "Dijkstra", "Allen", "Ritchie", "Lamarr", "Berners-Lee", "Johnson", "van Rossum", "Borg"}
	countries  = []struct {
		code, currency string
		weight         float64
	}{{"DE", "EUR", 0.18}, {"FR", "EUR", 0.12}, {"NL", "EUR", 0.08}, {"US", "USD", 0.42}, {"GB", "GBP", 0.15}, {"CA", "USD", 0.05}}
	products = []struct {
		sku, name string
		price     float64
	}{
		{"MUG-01", "Enamel mug", 14}, {"TEE-02", "Logo T-shirt", 25}, {"CAP-03", "Field cap", 22},
		{"BAG-04", "Canvas tote", 19.5}, {"NB-05", "Dot-grid notebook", 12.25}, {"PEN-06", "Brass pen", 48},
		{"HOOD-07", "Zip hoodie", 65}, {"STK-08", "Sticker pack", 6.5}, {"BTL-09", "Steel bottle", 29.9}, {"SOCK-10", "Wool socks", 16},
	}
)

const sqliteTime = "2006-01-02 15:04:05"

// writeShop creates shop.db: customers, products, orders, payments and
// analytics events over the last eight days, with the incident in them.
func writeShop(w *Workspace, now time.Time, rng *rand.Rand) error {
	_ = os.Remove(w.Database)
	db, err := sql.Open("sqlite", "file:"+w.Database+"?_pragma=journal_mode(delete)&_pragma=synchronous(off)")
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(shopSchema); err != nil {
		return err
	}
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	g := &shopGen{tx: tx, rng: rng, now: now, incident: w.Incident}
	for _, step := range []func() error{g.customers, g.products, g.ordersAndEvents} {
		if err := step(); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	_, err = db.Exec("ANALYZE")
	return err
}

type shopGen struct {
	tx       *sql.Tx
	rng      *rand.Rand
	now      time.Time
	incident time.Time
	country  []string // per customer id - 1
}

const customerCount = 400

func (g *shopGen) customers() error {
	st, err := g.tx.Prepare("INSERT INTO customers VALUES (?, ?, ?, ?, ?)")
	if err != nil {
		return err
	}
	defer st.Close()
	for id := 1; id <= customerCount; id++ {
		first, last := firstNames[g.rng.IntN(len(firstNames))], lastNames[g.rng.IntN(len(lastNames))]
		c := g.pickCountry()
		g.country = append(g.country, c)
		created := g.now.Add(-time.Duration(30+g.rng.IntN(700)) * 24 * time.Hour)
		email := fmt.Sprintf("%s.%s.%d@example.com", lower(first), lower(last), id)
		if _, err := st.Exec(id, first+" "+last, email, c, created.Format(sqliteTime)); err != nil {
			return err
		}
	}
	return nil
}

func (g *shopGen) pickCountry() string {
	x := g.rng.Float64()
	for _, c := range countries {
		if x < c.weight {
			return c.code
		}
		x -= c.weight
	}
	return countries[0].code
}

func currencyOf(country string) string {
	for _, c := range countries {
		if c.code == country {
			return c.currency
		}
	}
	return "USD"
}

func (g *shopGen) products() error {
	for i, p := range products {
		if _, err := g.tx.Exec("INSERT INTO products VALUES (?, ?, ?, ?)", i+1, p.sku, p.name, p.price); err != nil {
			return err
		}
	}
	return nil
}

// ordersAndEvents walks the last eight days minute by minute: visitors
// browse, some add to cart and check out; checkouts become orders and
// payments. After the incident, EUR payments fail.
func (g *shopGen) ordersAndEvents() error {
	order, err := g.tx.Prepare("INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
	if err != nil {
		return err
	}
	defer order.Close()
	pay, err := g.tx.Prepare("INSERT INTO payments VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
	if err != nil {
		return err
	}
	defer pay.Close()
	ev, err := g.tx.Prepare("INSERT INTO events (user_id, session_id, name, path, created_at) VALUES (?, ?, ?, ?, ?)")
	if err != nil {
		return err
	}
	defer ev.Close()
	orderID, paymentID := 0, 0
	start := g.now.Add(-8 * 24 * time.Hour)
	for t := start; t.Before(g.now); t = t.Add(time.Minute) {
		for range g.visitors(t) {
			user := 1 + g.rng.IntN(customerCount)
			session := fmt.Sprintf("s-%08x", g.rng.Uint32())
			at := t.Add(time.Duration(g.rng.IntN(60)) * time.Second)
			steps := []string{"page_view"}
			if g.rng.Float64() < 0.35 {
				steps = append(steps, "add_to_cart")
				if g.rng.Float64() < 0.6 {
					steps = append(steps, "checkout_started")
				}
			}
			for _, name := range steps {
				if _, err := ev.Exec(user, session, name, pathFor(name, g.rng), at.Format(sqliteTime)); err != nil {
					return err
				}
				at = at.Add(time.Duration(20+g.rng.IntN(90)) * time.Second)
			}
			if steps[len(steps)-1] != "checkout_started" {
				continue
			}
			orderID++
			cur := currencyOf(g.country[user-1])
			pid := 1 + g.rng.IntN(len(products))
			qty := 1 + g.rng.IntN(3)
			total := math.Round(products[pid-1].price*float64(qty)*100) / 100
			failed := cur == "EUR" && !at.Before(g.incident)
			if !failed && g.rng.Float64() < 0.01 {
				failed = true // the usual card declines
			}
			status, payStatus, code := "paid", "succeeded", any(nil)
			if failed {
				status, payStatus, code = "payment_failed", "failed", "card_declined"
				if cur == "EUR" && !at.Before(g.incident) {
					code = "invalid_currency"
				}
			} else if g.rng.Float64() < 0.02 {
				status = "refunded"
			}
			if _, err := order.Exec(orderID, user, pid, qty, total, cur, status, at.Format(sqliteTime)); err != nil {
				return err
			}
			paymentID++
			if _, err := pay.Exec(paymentID, orderID, "stripe", payStatus, code, total, cur, at.Add(2*time.Second).Format(sqliteTime)); err != nil {
				return err
			}
			if !failed {
				if _, err := ev.Exec(user, session, "checkout_completed", "/checkout/done", at.Add(3*time.Second).Format(sqliteTime)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// visitors is how many sessions start in the minute at t: a daily rhythm
// peaking in the European afternoon and the American evening.
func (g *shopGen) visitors(t time.Time) []struct{} {
	h := float64(t.Hour()) + float64(t.Minute())/60
	rate := 1.8 + 2.7*math.Exp(-math.Pow(h-15, 2)/18) + 2.1*math.Exp(-math.Pow(h-21, 2)/10)
	n := int(rate)
	if g.rng.Float64() < rate-float64(n) {
		n++
	}
	return make([]struct{}, n)
}

func pathFor(event string, rng *rand.Rand) string {
	switch event {
	case "add_to_cart":
		return "/cart"
	case "checkout_started":
		return "/checkout"
	}
	return fmt.Sprintf("/products/%s", products[rng.IntN(len(products))].sku)
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 32
		}
		if c == ' ' {
			b[i] = '-'
		}
	}
	return string(b)
}
