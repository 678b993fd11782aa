// Package config loads opstower.yaml: the connections, limits and HTTP
// settings shared by every server and the host.
//
// Values may reference the environment as ${NAME} or ${NAME:-default}
// (write $${ for a literal "${"). Interpolation happens on parsed scalar
// values, never on the raw text, so a secret containing YAML syntax cannot
// change the structure of the file. Unknown keys are errors that name the
// line and the closest known key, so a typo never silently drops a setting.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/opstower/opstower/shared/suggest"
)

// File is the content of an opstower.yaml.
type File struct {
	Connections []Connection `yaml:"connections"`
	Limits      Limits       `yaml:"limits"`
	HTTP        HTTP         `yaml:"http"`
	Log         Log          `yaml:"log"`

	// The agent host's sections (host.go).
	Models     Models               `yaml:"models"`
	Agents     []Agent              `yaml:"agents"`
	MCPServers map[string]MCPServer `yaml:"mcp_servers"`
	Host       Host                 `yaml:"host"`
}

// Connection is one configured backend: a provider, a label and the
// provider's settings. Which settings are secret is declared by the provider.
type Connection struct {
	Name     string            // label, unique within a category
	Category string            // optional; inferred from the provider
	Provider string            // e.g. postgres, clickhouse, d1
	Settings map[string]string // every other key, after interpolation
	Line     int               // line in the file, for error messages
}

// Limits bound what one tool call may cost.
type Limits struct {
	Rows    int      `yaml:"rows"`     // rows returned when the caller gives no limit
	MaxRows int      `yaml:"max_rows"` // the largest limit a caller may ask for
	Bytes   int      `yaml:"bytes"`    // bytes of text in one tool result
	Timeout Duration `yaml:"timeout"`  // deadline for one backend call
}

// HTTP configures the streamable HTTP transport.
type HTTP struct {
	Addr           string   `yaml:"addr"`
	Token          string   `yaml:"token"`           // bearer token; empty means no token check
	AllowedOrigins []string `yaml:"allowed_origins"` // browser origins allowed besides same-origin
	AllowedHosts   []string `yaml:"allowed_hosts"`   // Host headers accepted; empty means any
}

// Log configures the stderr logger.
type Log struct {
	Level  string `yaml:"level"`
	Format string `yaml:"format"`
}

// Defaults for Limits. The timeout stays below the 60 s most MCP clients
// wait for a tool call.
const (
	DefaultRows    = 100
	DefaultMaxRows = 1000
	DefaultBytes   = 16 << 10
	DefaultTimeout = 30 * time.Second
	maxTimeout     = 10 * time.Minute
)

// WithDefaults returns l with zero fields set to their defaults.
func (l Limits) WithDefaults() Limits {
	if l.Rows == 0 {
		l.Rows = DefaultRows
	}
	if l.MaxRows == 0 {
		l.MaxRows = max(DefaultMaxRows, l.Rows)
	}
	if l.Bytes == 0 {
		l.Bytes = DefaultBytes
	}
	if l.Timeout == 0 {
		l.Timeout = Duration(DefaultTimeout)
	}
	return l
}

// Validate reports limits that cannot work.
func (l Limits) Validate() error {
	switch {
	case l.Rows < 0 || l.MaxRows < 0 || l.Bytes < 0 || l.Timeout < 0:
		return errors.New("limits must not be negative")
	case l.MaxRows != 0 && l.Rows > l.MaxRows:
		return fmt.Errorf("limits: rows (%d) is larger than max_rows (%d)", l.Rows, l.MaxRows)
	case l.Bytes != 0 && l.Bytes < 1024:
		return fmt.Errorf("limits: bytes (%d) is too small to hold a useful result; use at least 1024", l.Bytes)
	case time.Duration(l.Timeout) > maxTimeout:
		return fmt.Errorf("limits: timeout %s is longer than the %s maximum", time.Duration(l.Timeout), maxTimeout)
	}
	return nil
}

// Duration is a time.Duration written as "30s" or "1m30s".
type Duration time.Duration

// UnmarshalYAML parses a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration (write 30s, 2m or 1m30s)", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// Load reads and parses the file at path, interpolating the environment.
func Load(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	f, err := Parse(data, os.LookupEnv)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// Parse parses a config document. lookup resolves ${NAME} references.
func Parse(data []byte, lookup func(string) (string, bool)) (*File, error) {
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return &File{}, nil
		}
		return nil, err
	}
	if err := interpolate(&root, lookup); err != nil {
		return nil, err
	}
	var f File
	if err := root.Decode(&f); err != nil {
		return nil, err
	}
	if err := f.Limits.Validate(); err != nil {
		return nil, err
	}
	return &f, nil
}

// UnmarshalYAML decodes File strictly.
func (f *File) UnmarshalYAML(n *yaml.Node) error {
	type plain File
	return decodeStrict(n, (*plain)(f))
}

// UnmarshalYAML decodes Limits strictly.
func (l *Limits) UnmarshalYAML(n *yaml.Node) error {
	type plain Limits
	return decodeStrict(n, (*plain)(l))
}

// UnmarshalYAML decodes HTTP strictly.
func (h *HTTP) UnmarshalYAML(n *yaml.Node) error {
	type plain HTTP
	return decodeStrict(n, (*plain)(h))
}

// UnmarshalYAML decodes Log strictly.
func (l *Log) UnmarshalYAML(n *yaml.Node) error {
	type plain Log
	return decodeStrict(n, (*plain)(l))
}

// UnmarshalYAML reads name, category and provider; every other key becomes a
// setting. Settings must be single values.
func (c *Connection) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: a connection must be a mapping (name: ..., provider: ...)", n.Line)
	}
	c.Line = n.Line
	c.Settings = map[string]string{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if v.Kind != yaml.ScalarNode {
			return fmt.Errorf("line %d: connection setting %q must be a single value", v.Line, k.Value)
		}
		switch k.Value {
		case "name":
			c.Name = v.Value
		case "category":
			c.Category = v.Value
		case "provider":
			c.Provider = v.Value
		default:
			if _, dup := c.Settings[k.Value]; dup {
				return fmt.Errorf("line %d: setting %q appears twice", k.Line, k.Value)
			}
			c.Settings[k.Value] = v.Value
		}
	}
	if c.Provider == "" && c.Settings["url"] == "" {
		return fmt.Errorf("line %d: connection %q needs a provider (or a url whose scheme names one)", n.Line, c.Name)
	}
	return nil
}

// decodeStrict decodes a mapping into the struct v points to, rejecting keys
// that are not among the struct's yaml tags.
func decodeStrict(n *yaml.Node, v any) error {
	if n.Kind != yaml.MappingNode {
		if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
			return nil
		}
		return fmt.Errorf("line %d: expected a mapping", n.Line)
	}
	known := yamlKeys(reflect.TypeOf(v).Elem())
	for i := 0; i < len(n.Content); i += 2 {
		k := n.Content[i]
		if !contains(known, k.Value) {
			return fmt.Errorf("line %d: unknown key %q%s", k.Line, k.Value, didYouMean(k.Value, known))
		}
	}
	return n.Decode(v)
}

func yamlKeys(t reflect.Type) []string {
	var keys []string
	for i := range t.NumField() {
		tag := strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]
		if tag != "" && tag != "-" {
			keys = append(keys, tag)
		}
	}
	sort.Strings(keys)
	return keys
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// didYouMean returns "; did you mean X?" for the closest known key, or the list
// of known keys when nothing is close.
func didYouMean(got string, known []string) string {
	if m := suggest.Closest(got, known, 1); len(m) > 0 {
		return fmt.Sprintf("; did you mean %q?", m[0])
	}
	return "; known keys: " + strings.Join(known, ", ")
}
