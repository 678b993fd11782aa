package connections_test

import (
	"fmt"

	"github.com/opstower/opstower/shared/config"
	"github.com/opstower/opstower/shared/connections"
)

// A new category declares its backend, its provider type and a registry;
// its New opens the configured connections and hands the set to its tools.
func ExampleRegistry_Open() {
	// The category's backend: what its tools are written against.
	type ticketStore interface{ project() string }

	// The category's provider type adds how to open one to what every
	// provider declares.
	type provider struct {
		connections.Provider
		open func(v config.Values) (ticketStore, error)
	}
	jira := &provider{
		Provider: connections.Provider{
			Name:        "jira",
			Title:       "Jira",
			Fields:      []config.Field{{Name: "project", Required: true}, {Name: "token", Secret: true, Env: "JIRA_TOKEN"}},
			DefaultName: func(v config.Values) string { return v.Get("project") },
		},
		open: func(v config.Values) (ticketStore, error) { return jiraProject(v.Get("project")), nil },
	}
	registry := &connections.Registry[*provider, ticketStore]{
		Category:  "ticketing",
		Noun:      "ticketing",
		Providers: []*provider{jira},
		LabelHint: "give each a name in the config file",
	}

	set, err := registry.Open([]config.Connection{
		{Provider: "jira", Settings: map[string]string{"project": "OPS"}},
		{Provider: "postgres", Settings: map[string]string{"url": "postgres://db"}}, // another category's
	}, nil, func(p *provider, _ string, v config.Values) (ticketStore, error) {
		return p.open(v)
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	c, err := set.Pick("") // a tool call that names no connection
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s (%s): project %s\n", c.Name, c.Provider.Title, c.Backend.project())
	// Output: OPS (Jira): project OPS
}

type jiraProject string

func (p jiraProject) project() string { return string(p) }
