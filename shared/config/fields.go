package config

import (
	"fmt"
	"sort"
	"strings"

	"github.com/opstower/opstower/shared/secret"
	"github.com/opstower/opstower/shared/suggest"
)

// Field declares one setting a provider accepts. Providers list their
// fields so that config files, flags and the host's forms are checked the
// same way, and so that secret fields are never shown.
type Field struct {
	Name     string
	Secret   bool   // never logged, shown or returned
	Required bool   // the connection cannot work without it
	Env      string // environment variable read when the setting is absent
	Help     string // one line for error messages and forms
}

// Values are a connection's settings, resolved against its provider's fields.
type Values struct {
	plain   map[string]string
	secrets map[string]secret.String
}

// Resolve checks c's settings against fields: unknown keys (with a "did you
// mean"), missing required values. Secret fields become secret.String.
// lookup reads the environment for fields that declare Env; it may be nil.
func (c Connection) Resolve(fields []Field, lookup func(string) (string, bool)) (Values, error) {
	v := Values{plain: map[string]string{}, secrets: map[string]secret.String{}}
	known := make([]string, 0, len(fields))
	byName := map[string]Field{}
	for _, f := range fields {
		known = append(known, f.Name)
		byName[f.Name] = f
	}
	var unknown []string
	for k := range c.Settings {
		if _, ok := byName[k]; !ok {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	if len(unknown) > 0 {
		k := unknown[0]
		hint := "known settings: " + strings.Join(known, ", ")
		if m := suggest.Closest(k, known, 1); len(m) > 0 {
			hint = fmt.Sprintf("did you mean %q?", m[0])
		}
		return Values{}, fmt.Errorf("%s: unknown setting %q for provider %s; %s", c.where(), k, c.Provider, hint)
	}
	for _, f := range fields {
		val, ok := c.Settings[f.Name]
		if (!ok || val == "") && f.Env != "" && lookup != nil {
			val, _ = lookup(f.Env)
		}
		if val == "" {
			if f.Required {
				msg := fmt.Sprintf("%s: provider %s needs %q", c.where(), c.Provider, f.Name)
				if f.Help != "" {
					msg += " (" + f.Help + ")"
				}
				if f.Env != "" {
					msg += " or the environment variable " + f.Env
				}
				return Values{}, fmt.Errorf("%s", msg)
			}
			continue
		}
		if f.Secret {
			v.secrets[f.Name] = secret.New(val)
		} else {
			v.plain[f.Name] = val
		}
	}
	return v, nil
}

func (c Connection) where() string {
	name := c.Name
	if name == "" {
		name = c.Provider
	}
	if c.Line > 0 {
		return fmt.Sprintf("connection %q (line %d)", name, c.Line)
	}
	return fmt.Sprintf("connection %q", name)
}

// Get returns a plain setting, or "".
func (v Values) Get(name string) string { return v.plain[name] }

// Secret returns a secret setting; the zero secret when absent.
func (v Values) Secret(name string) secret.String { return v.secrets[name] }
