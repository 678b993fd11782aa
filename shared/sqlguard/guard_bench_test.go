package sqlguard

import "testing"

// typicalQuery is the kind of statement a model sends: a join with a
// filter, a string literal, an interval and an ORDER BY.
const typicalQuery = `SELECT o.id, o.status, o.total, c.name
FROM orders o JOIN customers c ON c.id = o.customer_id
WHERE o.created_at > now() - interval '7 days' AND o.status = 'paid' -- recent
ORDER BY o.created_at DESC LIMIT 50`

// BenchmarkCheck measures the guard's cost on every query call. MySQL is
// lexed twice (with and without backslash escapes), so it is shown apart.
func BenchmarkCheck(b *testing.B) {
	for _, d := range []Dialect{Postgres, MySQL} {
		b.Run(d.String(), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Check(d, typicalQuery); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
