package llm

import (
	"fmt"
	"net/http"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/opstower/opstower/shared/secret"
	"github.com/opstower/opstower/shared/suggest"
)

// Kind is the wire protocol a provider speaks.
type Kind string

// Kinds of provider.
const (
	KindAnthropic Kind = "anthropic"
	KindOpenAI    Kind = "openai" // Chat Completions, also for compatible endpoints
	KindGemini    Kind = "gemini"
)

// Endpoint is how to reach one provider: its protocol, base URL and key.
type Endpoint struct {
	Name    string // as written before the colon in a model spec
	Kind    Kind
	BaseURL string
	APIKey  secret.String
	// KeyOptional endpoints (local servers) work without a key.
	KeyOptional bool
	// KeyEnv names the environment variable the key came from, or should
	// come from, for error messages.
	KeyEnv string
	// MaxRetries on 429 and 5xx (default 3); Retry-After is honoured.
	MaxRetries int
	// HTTPClient, when set, carries every request (tests, proxies).
	HTTPClient *http.Client
	// Timeout bounds one attempt including the streamed body (default
	// 10 minutes, since long answers stream for a while).
	Timeout time.Duration
}

// builtin are the providers known by name. Local OpenAI-compatible servers
// get their usual address, so "ollama:llama3.2" works with nothing else set.
var builtin = map[string]Endpoint{
	"anthropic":  {Kind: KindAnthropic, KeyEnv: "ANTHROPIC_API_KEY"},
	"openai":     {Kind: KindOpenAI, KeyEnv: "OPENAI_API_KEY"},
	"gemini":     {Kind: KindGemini, KeyEnv: "GEMINI_API_KEY"},
	"ollama":     {Kind: KindOpenAI, BaseURL: "http://localhost:11434/v1", KeyOptional: true, KeyEnv: "OLLAMA_API_KEY"},
	"lmstudio":   {Kind: KindOpenAI, BaseURL: "http://localhost:1234/v1", KeyOptional: true, KeyEnv: "LMSTUDIO_API_KEY"},
	"vllm":       {Kind: KindOpenAI, BaseURL: "http://localhost:8000/v1", KeyOptional: true, KeyEnv: "VLLM_API_KEY"},
	"openrouter": {Kind: KindOpenAI, BaseURL: "https://openrouter.ai/api/v1", KeyEnv: "OPENROUTER_API_KEY"},
}

// aliases map other spellings to a builtin provider.
var aliases = map[string]string{"google": "gemini", "claude": "anthropic", "lm-studio": "lmstudio"}

// DefaultModels is the model used for a provider when only its key is set.
var DefaultModels = map[string]string{
	"anthropic": "claude-sonnet-4-6",
	"openai":    "gpt-5-mini",
	"gemini":    "gemini-2.5-flash",
}

// Spec is a parsed model name, provider:model.
type Spec struct {
	Provider string
	Model    string
}

// String writes the spec as provider:model.
func (s Spec) String() string { return s.Provider + ":" + s.Model }

// ParseSpec parses "provider:model". The model part may itself contain
// colons (ollama:llama3.2:3b).
func ParseSpec(s string) (Spec, error) {
	p, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok || p == "" || m == "" {
		return Spec{}, fmt.Errorf("model %q: write it as PROVIDER:MODEL, e.g. anthropic:claude-sonnet-4-6, openai:gpt-5-mini, gemini:gemini-2.5-flash or ollama:llama3.2", s)
	}
	p = strings.ToLower(p)
	if a, ok := aliases[p]; ok {
		p = a
	}
	return Spec{Provider: p, Model: m}, nil
}

// ProviderSettings is what configuration may say about one provider.
type ProviderSettings struct {
	Kind    string // anthropic, openai or gemini; needed for new names
	BaseURL string
	APIKey  string
}

// Registry resolves provider names to endpoints: builtin ones, overridden
// or extended by configuration, with keys and base URLs from each SDK's
// standard environment variables.
type Registry struct {
	endpoints map[string]Endpoint
	// HTTPClient, when set, is given to every endpoint.
	HTTPClient *http.Client
}

// NewRegistry builds a registry from configured providers and the
// environment (lookup; nil means os.LookupEnv).
func NewRegistry(configured map[string]ProviderSettings, lookup func(string) (string, bool)) (*Registry, error) {
	if lookup == nil {
		lookup = os.LookupEnv
	}
	env := func(k string) string {
		if v, ok := lookup(k); ok {
			return v
		}
		return ""
	}
	r := &Registry{endpoints: map[string]Endpoint{}}
	for name, e := range builtin {
		e.Name = name
		switch name {
		case "anthropic":
			e.BaseURL = env("ANTHROPIC_BASE_URL")
		case "openai":
			e.BaseURL = env("OPENAI_BASE_URL")
		case "gemini":
			e.BaseURL = env("GOOGLE_GEMINI_BASE_URL")
		}
		key := env(e.KeyEnv)
		if name == "gemini" && key == "" {
			key = env("GOOGLE_API_KEY")
		}
		e.APIKey = secret.New(key)
		r.endpoints[name] = e
	}
	names := make([]string, 0, len(configured))
	for n := range configured {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		ps := configured[name]
		lname := strings.ToLower(name)
		e, known := r.endpoints[lname]
		if ps.Kind != "" {
			k := Kind(strings.ToLower(ps.Kind))
			if k != KindAnthropic && k != KindOpenAI && k != KindGemini {
				return nil, fmt.Errorf("models: provider %q: kind %q is not one of anthropic, openai, gemini (use openai for any OpenAI-compatible endpoint)", name, ps.Kind)
			}
			if known && k != e.Kind {
				return nil, fmt.Errorf("models: provider %q is built in with kind %s; pick another name for a %s endpoint", name, e.Kind, k)
			}
			e.Kind = k
		} else if !known {
			return nil, fmt.Errorf("models: provider %q is not built in; add kind: openai (any OpenAI-compatible endpoint), anthropic or gemini, and a base_url", name)
		}
		e.Name = lname
		if ps.BaseURL != "" {
			e.BaseURL = ps.BaseURL
		}
		if !known && e.BaseURL == "" {
			return nil, fmt.Errorf("models: provider %q needs a base_url (e.g. http://localhost:11434/v1 for Ollama)", name)
		}
		if ps.APIKey != "" {
			e.APIKey = secret.New(ps.APIKey)
		}
		if !known {
			e.KeyOptional = true // a self-hosted endpoint may need none
		}
		r.endpoints[lname] = e
	}
	return r, nil
}

// Endpoint returns the endpoint for a provider name.
func (r *Registry) Endpoint(name string) (Endpoint, error) {
	e, ok := r.endpoints[strings.ToLower(name)]
	if !ok {
		var known []string
		for n := range r.endpoints {
			known = append(known, n)
		}
		sort.Strings(known)
		hint := "known providers: " + strings.Join(known, ", ")
		if m := suggest.Closest(name, known, 1); len(m) > 0 {
			hint = fmt.Sprintf("did you mean %q?", m[0])
		}
		return Endpoint{}, fmt.Errorf("unknown model provider %q; %s (or declare it under models.providers with kind: openai and a base_url)", name, hint)
	}
	if r.HTTPClient != nil && e.HTTPClient == nil {
		e.HTTPClient = r.HTTPClient
	}
	return e, nil
}

// Open returns a Provider for a model spec's provider, checking that it has
// the credentials it needs.
func (r *Registry) Open(spec Spec) (Provider, error) {
	e, err := r.Endpoint(spec.Provider)
	if err != nil {
		return nil, err
	}
	return Open(e)
}

// Open returns a Provider for an endpoint.
func Open(e Endpoint) (Provider, error) {
	if e.APIKey.IsZero() && !e.KeyOptional {
		return nil, fmt.Errorf("model provider %s has no API key: set %s in the environment, or api_key under models.providers.%s in opstower.yaml", e.Name, e.KeyEnv, e.Name)
	}
	if e.MaxRetries == 0 {
		e.MaxRetries = 3
	}
	if e.MaxRetries < 0 {
		e.MaxRetries = 0
	}
	if e.Timeout == 0 {
		e.Timeout = 10 * time.Minute
	}
	switch e.Kind {
	case KindAnthropic:
		return newAnthropic(e), nil
	case KindOpenAI:
		return newOpenAI(e), nil
	case KindGemini:
		return newGemini(e)
	}
	return nil, fmt.Errorf("model provider %s: unknown kind %q", e.Name, e.Kind)
}

// DefaultFromEnv picks a model when nothing is configured: the default model
// of the first provider whose key is set, in a fixed order. ok is false when
// no key is set.
func (r *Registry) DefaultFromEnv() (Spec, bool) {
	for _, p := range []string{"anthropic", "openai", "gemini"} {
		if e := r.endpoints[p]; !e.APIKey.IsZero() {
			return Spec{Provider: p, Model: DefaultModels[p]}, true
		}
	}
	return Spec{}, false
}
