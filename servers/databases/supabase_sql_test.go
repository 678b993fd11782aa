package databases

import (
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSupabaseSQLTranslation(t *testing.T) {
	cases := []struct {
		sql    string
		schema string
		table  string
		want   url.Values
	}{
		{"SELECT * FROM orders", "", "orders", url.Values{"select": {"*"}, "limit": {"101"}}},
		{`SELECT id, "Name" AS n FROM "Shop"."Orders" LIMIT 5 OFFSET 10`, "Shop", "Orders",
			url.Values{"select": {"id,n:Name"}, "limit": {"5"}, "offset": {"10"}}},
		{"SELECT id FROM orders WHERE total >= -2.5e3 AND status = 'it''s' AND note ILIKE '%gift%'", "", "orders",
			url.Values{"select": {"id"}, "limit": {"101"}, "total": {"gte.-2.5e3"}, "status": {"eq.it's"}, "note": {"ilike.%gift%"}}},
		{`SELECT id FROM orders WHERE tag NOT IN ('a,b', 'say "hi"', 'back\slash') AND paid IS NOT TRUE`, "", "orders",
			url.Values{"select": {"id"}, "limit": {"101"}, "tag": {`not.in.("a,b","say \"hi\"","back\\slash")`}, "paid": {"not.is.true"}}},
		{"SELECT id FROM orders o WHERE o.created_at BETWEEN DATE '2024-01-01' AND '2024-01-31'::date ORDER BY o.created_at DESC NULLS FIRST, 1", "", "orders",
			url.Values{"select": {"id"}, "limit": {"101"}, "created_at": {"gte.2024-01-01", "lte.2024-01-31"}, "order": {"created_at.desc.nullsfirst,id"}}},
		{"select count(*) from orders where status <> 'new' -- a comment", "", "orders", url.Values{"status": {"neq.new"}}},
		{"SELECT id FROM orders LIMIT 500", "", "orders", url.Values{"select": {"id"}, "limit": {"101"}}},
		{"SELECT id FROM orders OFFSET 3 LIMIT 2;", "", "orders", url.Values{"select": {"id"}, "limit": {"2"}, "offset": {"3"}}},
	}
	for _, tc := range cases {
		q, err := parseRestSQL(tc.sql)
		if err != nil {
			t.Errorf("%s: %v", tc.sql, err)
			continue
		}
		if q.schema != tc.schema || q.table != tc.table {
			t.Errorf("%s: table %q.%q, want %q.%q", tc.sql, q.schema, q.table, tc.schema, tc.table)
		}
		if d := cmp.Diff(tc.want, q.params(101)); d != "" {
			t.Errorf("%s: params differ (-want +got):\n%s", tc.sql, d)
		}
	}
}

func TestSupabaseSQLRejections(t *testing.T) {
	for sql, want := range map[string]string{
		"SELECT * FROM a, b":                               "joins",
		"SELECT * FROM a LEFT JOIN b ON a.id = b.id":       "joins",
		"SELECT * FROM a UNION SELECT * FROM b":            "UNION",
		"SELECT a.* FROM a":                                "qualified *",
		"SELECT b.id FROM a":                               "qualifier b does not name the table a",
		"SELECT id FROM a WHERE (id = 1)":                  "parentheses",
		"SELECT id FROM a WHERE id = other_column":         "compare columns with literal values",
		"SELECT id FROM a WHERE name LIKE 'a*b'":           "reads * as %",
		"SELECT id FROM a WHERE \"order\" = 1":             `column named "order"`,
		"SELECT id FROM a WHERE id NOT BETWEEN 1 AND 2":    "condition on id",
		"SELECT id FROM a LIMIT -1":                        "whole number",
		"SELECT id FROM a ORDER BY 3":                      "does not name a column",
		"SELECT id FROM a WHERE id IN (1, NULL)":           "NULL in an IN list",
		"SELECT id FROM a FOR UPDATE":                      "FOR here is not supported",
		"SELECT count(id) FROM a":                          "only count(*)",
		"SELECT \"a.b\" FROM a":                            "characters the REST API cannot take",
		"SELECT id FROM a WHERE id = 1 /* unterminated":    "unterminated comment",
		"SELECT id FROM a WHERE name = 'unterminated":      "unterminated quoted value",
		"SELECT id FROM a GROUP BY id":                     "GROUP BY",
		"TABLE a":                                          "TABLE statements are not supported",
		"VALUES (1)":                                       "VALUES statements are not supported",
		"SELECT 1":                                         "in the select list",
		"SELECT id FROM a WHERE id = ANY('{1,2}')":         "functions such as ANY()",
		"SELECT id FROM a WHERE id = 1 AND":                "the end",
		"SELECT id FROM generate_series(1, 3)":             "generate_series(...)",
		"SELECT id FROM a WHERE name ILIKE 'x' ESCAPE '!'": "ESCAPE",
	} {
		_, err := parseRestSQL(sql)
		if err == nil {
			t.Errorf("%s: accepted; want an error about %q", sql, want)
			continue
		}
		if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "Project Settings → Database") {
			t.Errorf("%s: error %q does not mention %q and the connection string", sql, err, want)
		}
	}
}

func TestSupabaseProjectURL(t *testing.T) {
	for in, want := range map[string]string{
		"abcdefghijklmnopqrst":                              "https://abcdefghijklmnopqrst.supabase.co",
		"abcdefghijklmnopqrst.supabase.co":                  "https://abcdefghijklmnopqrst.supabase.co",
		"https://abcdefghijklmnopqrst.supabase.co/":         "https://abcdefghijklmnopqrst.supabase.co",
		"https://abcdefghijklmnopqrst.supabase.co/rest/v1/": "https://abcdefghijklmnopqrst.supabase.co",
		"http://127.0.0.1:54321":                            "http://127.0.0.1:54321",
		"https://api.example.com":                           "https://api.example.com",
	} {
		u, err := supabaseProjectURL(in)
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if u.String() != want {
			t.Errorf("%s: got %s, want %s", in, u, want)
		}
	}
}
