package databases

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/opstower/opstower/shared/config"
	"github.com/opstower/opstower/shared/connections"
	"github.com/opstower/opstower/shared/httpapi"
	"github.com/opstower/opstower/shared/secret"
	"github.com/opstower/opstower/shared/sqlguard"
)

// supabaseProvider connects to a Supabase project in one of two ways:
//
//   - url: the database connection string (direct, or through Supavisor or
//     PgBouncer). Full read-only SQL through the PostgreSQL engine.
//   - project_url + service_role_key, the pair the Supabase dashboard shows
//     under Project Settings → API. Supabase's public APIs run no arbitrary
//     SQL with that key, so this form answers a subset of SELECT through
//     PostgREST (see supabaseREST).
//
// When url is set it wins, so a SUPABASE_SERVICE_ROLE_KEY left in the
// environment does not change what a connection string selects.
var supabaseProvider = &provider{
	Provider: connections.Provider{
		Name:  "supabase",
		Title: "Supabase",
		Fields: []config.Field{
			{Name: "url", Secret: true, Help: "the database connection string from Project Settings → Database (postgresql://...)"},
			{Name: "password", Secret: true, Help: "overrides the password in url"},
			{Name: "project_url", Help: "https://PROJECT_REF.supabase.co, or just the project ref"},
			{Name: "service_role_key", Secret: true, Env: "SUPABASE_SERVICE_ROLE_KEY", Help: "the service_role key from Project Settings → API"},
		},
		DefaultName: supabaseName,
	},
	schemes: []string{"supabase"},
	open:    openSupabase,
}

// supabaseRefRE matches a project ref, the 20 lower-case letters that name
// a project in its URLs.
var supabaseRefRE = regexp.MustCompile(`^[a-z]{20}$`)

// supabaseName labels a connection with its project ref when it can be
// read from the settings.
func supabaseName(v config.Values) string {
	if raw := v.Secret("url").Reveal(); raw != "" {
		if ref := refFromDBURL(raw); ref != "" {
			return ref
		}
		return "supabase"
	}
	if u, err := supabaseProjectURL(v.Get("project_url")); err == nil {
		if ref, _, ok := strings.Cut(u.Hostname(), "."); ok && supabaseRefRE.MatchString(ref) {
			return ref
		}
	}
	return "supabase"
}

// refFromDBURL reads the project ref from a connection string: the host
// db.REF.supabase.co, or the pooler's user name postgres.REF.
func refFromDBURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	if parts := strings.Split(u.Hostname(), "."); len(parts) == 4 && parts[0] == "db" && supabaseRefRE.MatchString(parts[1]) {
		return parts[1]
	}
	if _, ref, ok := strings.Cut(u.User.Username(), "."); ok && supabaseRefRE.MatchString(ref) {
		return ref
	}
	return ""
}

func openSupabase(v config.Values, l config.Limits) (engine, error) {
	if raw := v.Secret("url").Reveal(); raw != "" {
		return openSupabasePostgres(raw, v.Secret("password"), l)
	}
	project, key := strings.TrimSpace(v.Get("project_url")), v.Secret("service_role_key")
	switch {
	case project == "" && key.IsZero():
		return nil, errors.New("Supabase needs either url (the database connection string from Project Settings → Database, for full SQL) or project_url and service_role_key (from Project Settings → API)")
	case project == "":
		return nil, errors.New("Supabase needs project_url (https://PROJECT_REF.supabase.co from Project Settings → API) with service_role_key")
	case key.IsZero():
		return nil, errors.New("Supabase needs service_role_key (or SUPABASE_SERVICE_ROLE_KEY): the service_role key from Project Settings → API")
	}
	u, err := supabaseProjectURL(project)
	if err != nil {
		return nil, err
	}
	if err := checkServiceRoleKey(key); err != nil {
		return nil, err
	}
	return newSupabaseREST(u, key), nil
}

// openSupabasePostgres serves a Supabase connection string with the
// PostgreSQL engine, which needs no session state and so works the same
// through Supabase's transaction-mode poolers (port 6543).
func openSupabasePostgres(raw string, password secret.String, l config.Limits) (engine, error) {
	switch s := scheme(raw); s {
	case "postgres", "postgresql":
	case "http", "https":
		return nil, errors.New("url must be the database connection string (postgresql://postgres:PASSWORD@db.PROJECT_REF.supabase.co:5432/postgres, from Project Settings → Database); the https project URL goes in project_url")
	default:
		return nil, fmt.Errorf("url %s is not a PostgreSQL connection string; copy it from Project Settings → Database (postgresql://...)", redactedScheme(raw))
	}
	cfg, err := parsePgURL(raw, password)
	if err != nil {
		return nil, err
	}
	return &supabasePostgres{pgEngine: newPgEngine(cfg, time.Duration(l.Timeout))}, nil
}

// supabasePostgres is the PostgreSQL engine with Supabase's reasons for an
// unreachable database added to connection errors.
type supabasePostgres struct{ *pgEngine }

func (s *supabasePostgres) query(ctx context.Context, st sqlguard.Statement, sk *sink) error {
	return supabaseHint(s.pgEngine.query(ctx, st, sk))
}

func (s *supabasePostgres) tables(ctx context.Context, schema string) ([]tableInfo, error) {
	t, err := s.pgEngine.tables(ctx, schema)
	return t, supabaseHint(err)
}

func (s *supabasePostgres) describe(ctx context.Context, name string) (*tableDesc, error) {
	d, err := s.pgEngine.describe(ctx, name)
	return d, supabaseHint(err)
}

func (s *supabasePostgres) explain(ctx context.Context, st sqlguard.Statement, analyze bool) (string, error) {
	p, err := s.pgEngine.explain(ctx, st, analyze)
	return p, supabaseHint(err)
}

func (s *supabasePostgres) ping(ctx context.Context) error {
	return supabaseHint(s.pgEngine.ping(ctx))
}

// supabaseHint adds what usually makes a Supabase database unreachable to
// an error that is not about the statement itself.
func supabaseHint(err error) error {
	var qe *queryError
	var nf *notFoundError
	if err == nil || errors.As(err, &qe) || errors.As(err, &nf) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return err
	}
	return fmt.Errorf("%w. Check that the Supabase project is not paused (free projects pause after a week without activity; restore it from the dashboard) and that the connection string is current; the direct host db.PROJECT_REF.supabase.co needs IPv6, so on an IPv4-only network use the Session pooler string from Connect", err)
}

// supabaseProjectURL accepts https://REF.supabase.co (with or without the
// scheme or a /rest/v1 suffix), a bare project ref, or another https URL
// for a custom domain or a local stack.
func supabaseProjectURL(raw string) (*url.URL, error) {
	raw = strings.TrimSpace(raw)
	if supabaseRefRE.MatchString(raw) {
		raw = "https://" + raw + ".supabase.co"
	}
	if !strings.Contains(raw, "://") {
		raw = "https://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.RawQuery != "" || u.User != nil {
		return nil, fmt.Errorf("project_url %q is not a Supabase project URL; copy the Project URL (https://PROJECT_REF.supabase.co) from Project Settings → API, or give the 20-letter project ref", raw)
	}
	if u.Scheme == "http" && !httpapi.IsLoopback(u.Hostname()) {
		return nil, fmt.Errorf("project_url %q uses plain http, which would send the service-role key unencrypted; use https (http is accepted only for a local stack on localhost)", raw)
	}
	u.Path = strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), "/rest/v1")
	u.Path = strings.TrimSuffix(u.Path, "/")
	return u, nil
}
