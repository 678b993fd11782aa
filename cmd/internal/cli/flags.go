package cli

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// ListFlag is a repeatable string flag.
type ListFlag []string

func (l *ListFlag) String() string { return strings.Join(*l, " ") }

func (l *ListFlag) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// EnvDefaults fills flags the command line did not set from OPSTOWER_*
// environment variables (OPSTOWER_DSN for --dsn, OPSTOWER_HTTP for
// --http...), which is how MCP clients such as Claude Desktop pass settings.
// A repeatable flag takes whitespace-separated values from its variable.
func EnvDefaults(fs *flag.FlagSet) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || err != nil {
			return
		}
		name := envName(f.Name)
		v, ok := os.LookupEnv(name)
		if !ok || v == "" {
			return
		}
		if _, repeat := f.Value.(*ListFlag); repeat {
			for _, item := range strings.Fields(v) {
				if e := f.Value.Set(item); e != nil {
					err = fmt.Errorf("%s: %w", name, e)
				}
			}
			return
		}
		if e := f.Value.Set(v); e != nil {
			err = fmt.Errorf("%s=%q: %w", name, v, e)
		}
	})
	return err
}

func envName(flagName string) string {
	return "OPSTOWER_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// durationValue is a flag that accepts 30s or a bare number of seconds.
type durationValue struct{ d *time.Duration }

func (v durationValue) String() string {
	if v.d == nil || *v.d == 0 {
		return ""
	}
	return v.d.String()
}

func (v durationValue) Set(s string) error {
	if n, err := strconv.Atoi(s); err == nil {
		*v.d = time.Duration(n) * time.Second
		return nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q is not a duration (write 30s or 2m)", s)
	}
	*v.d = d
	return nil
}
