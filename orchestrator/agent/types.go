package agent

import (
	"fmt"
	"strings"

	codesrv "github.com/opstower/opstower/servers/code"
	"github.com/opstower/opstower/servers/databases"
	errorsrv "github.com/opstower/opstower/servers/errors"
	logsrv "github.com/opstower/opstower/servers/logs"
	"github.com/opstower/opstower/shared/suggest"
)

// Connection categories, named as the category servers name themselves.
const (
	Analytics   = "analytics"
	Errors      = "errors" // error tracking
	Payments    = "payments"
	Logs        = "logs"
	Databases   = "databases"
	Ticketing   = "ticketing"
	Code        = "code"
	Social      = "social"
	Advertising = "advertising"
	AppStores   = "appstores"
	Support     = "support"
	ExternalAPI = "externalapi"
)

// AllCategories lists the twelve categories in the order of the product's
// compatibility table.
var AllCategories = []string{Analytics, Errors, Payments, Logs, Databases, Ticketing, Code, Social, Advertising, AppStores, Support, ExternalAPI}

// CategoryTitle is how a category is named to people and models.
var CategoryTitle = map[string]string{
	Analytics: "analytics", Errors: "error tracking", Payments: "payments", Logs: "logs",
	Databases: "databases", Ticketing: "ticketing", Code: "code", Social: "social media",
	Advertising: "advertising", AppStores: "app stores", Support: "customer support", ExternalAPI: "external APIs",
}

// Type is an agent type. It decides which categories of connections the
// agent may use and the guidance at the top of its system prompt.
type Type string

// Agent types.
const (
	Debugger       Type = "debugger"
	Analyst        Type = "analyst"
	ProductManager Type = "product_manager"
	Custom         Type = "custom"
)

// Types lists the agent types.
var Types = []Type{Debugger, Analyst, ProductManager, Custom}

// allowed is the product's agent-type compatibility table
// (connections overview). Debugger and Analyst differ from the prose of
// the same page, which predates the App Stores and Support categories; the
// table is the reference.
var allowed = map[Type][]string{
	Debugger:       {Errors, Logs, Databases, Ticketing, Code, Support, ExternalAPI},
	Analyst:        {Analytics, Payments, Databases, Social, Advertising, AppStores, Support, ExternalAPI},
	ProductManager: {Analytics, Errors, Payments, Databases, Ticketing, Code, Social, Advertising, AppStores, Support, ExternalAPI},
	Custom:         AllCategories,
}

// ParseType reads a type as written in config, flags or the API.
func ParseType(s string) (Type, error) {
	n := strings.ToLower(strings.TrimSpace(s))
	n = strings.NewReplacer(" ", "_", "-", "_").Replace(n)
	if n == "pm" {
		n = string(ProductManager)
	}
	for _, t := range Types {
		if string(t) == n {
			return t, nil
		}
	}
	names := make([]string, len(Types))
	for i, t := range Types {
		names[i] = string(t)
	}
	hint := ""
	if m := suggest.Closest(n, names, 1); len(m) > 0 {
		hint = fmt.Sprintf(" (did you mean %q?)", m[0])
	}
	return "", fmt.Errorf("unknown agent type %q%s; types are %s", s, hint, strings.Join(names, ", "))
}

// Allows reports whether agents of type t may use a category.
func (t Type) Allows(category string) bool {
	for _, c := range allowed[t] {
		if c == category {
			return true
		}
	}
	return false
}

// Categories returns the categories t may use.
func (t Type) Categories() []string { return append([]string(nil), allowed[t]...) }

// Title is the type's display name.
func (t Type) Title() string {
	switch t {
	case Debugger:
		return "Debugger"
	case Analyst:
		return "Analyst"
	case ProductManager:
		return "Product Manager"
	case Custom:
		return "Custom"
	}
	return string(t)
}

// guidance opens the system prompt of each type.
var guidance = map[Type]string{
	Debugger: `You investigate errors and unexpected behaviour across the user's stack, for incident response and root cause analysis.
Work like this:
1. Gather the relevant evidence: log entries, error traces and stack traces, recent code changes, database records.
2. Correlate it across sources to build a timeline of events (when it started, what changed just before).
3. Name the most likely root cause, with the evidence for it, and say what would confirm or rule it out.`,
	Analyst: `You analyse product analytics, revenue and usage data: metrics exploration, trend detection and anomaly identification.
Work like this:
1. Pin down the metric, the time range and the comparison the question implies (week over week, before/after a launch).
2. Query the data; compute the numbers rather than estimating them.
3. Report the numbers, the change, and whether it is unusual, with the queries you used.`,
	ProductManager: `You help a product team understand how the product performs and decide what to do next, combining analytics, errors, payments, tickets, code and marketing data.
Work like this:
1. Clarify the decision or question behind the request.
2. Gather evidence from the sources that bear on it, quantitatively where possible.
3. Conclude with findings, their impact on users or revenue, and concrete recommendations.`,
	Custom: `You are a general operations agent with access to every kind of connection the user configured.
Use the tools that fit the question, gather evidence before concluding, and show the data behind your answer.`,
}

// Guidance returns the type's system prompt guidance.
func (t Type) Guidance() string { return guidance[t] }

// categoryOf infers a connection's category from its provider name, for
// connections declared without one. The provider names are those the
// category servers accept.
// categoryOf maps provider names (and URL schemes) to categories: the
// bundled servers' own provider names, and the providers of categories
// still to come.
var categoryOf = func() map[string]string {
	m := map[string]string{
		"postgres": Databases, "postgresql": Databases, "mysql": Databases, "mariadb": Databases, "sqlite": Databases,
		"clickhouse": Databases, "clickhouses": Databases, "d1": Databases, "supabase": Databases,
		"mongodb": Databases, "dynamodb": Databases, "firestore": Databases,
		"posthog": Analytics, "amplitude": Analytics, "ga4": Analytics, "mixpanel": Analytics,
		"stripe": Payments, "paddle": Payments, "chargebee": Payments, "braintree": Payments,
		"linear": Ticketing, "jira": Ticketing,
		"x": Social, "twitter": Social, "linkedin": Social, "meta_social": Social,
		"meta_ads": Advertising, "google_ads": Advertising,
		"app_store_connect": AppStores,
		"intercom":          Support, "zendesk": Support,
		"external_api": ExternalAPI, "rest": ExternalAPI,
	}
	for cat, names := range map[string][]string{
		Databases: databases.ProviderNames(),
		Code:      codesrv.ProviderNames(),
		Logs:      logsrv.ProviderNames(),
		Errors:    errorsrv.ProviderNames(),
	} {
		for _, n := range names {
			m[n] = cat
		}
	}
	return m
}()

// CategoryOf returns a connection's category: the declared one, or the one
// its provider implies. A URL setting's scheme names the provider when
// the provider is absent (postgres://...).
func CategoryOf(category, provider, url string) (string, error) {
	if category != "" {
		c := strings.ToLower(category)
		for _, k := range AllCategories {
			if k == c {
				return c, nil
			}
		}
		hint := ""
		if m := suggest.Closest(c, AllCategories, 1); len(m) > 0 {
			hint = fmt.Sprintf(" (did you mean %q?)", m[0])
		}
		return "", fmt.Errorf("unknown category %q%s; categories are %s", category, hint, strings.Join(AllCategories, ", "))
	}
	p := strings.ToLower(provider)
	if p == "" {
		if scheme, _, ok := strings.Cut(url, "://"); ok {
			p = strings.ToLower(scheme)
		}
	}
	if c, ok := categoryOf[p]; ok {
		return c, nil
	}
	if c, ok := categoryOf[strings.ReplaceAll(p, "_", "-")]; ok {
		return c, nil
	}
	return "", fmt.Errorf("cannot tell the category of provider %q; add category: (one of %s)", provider, strings.Join(AllCategories, ", "))
}
