package databases

import (
	"errors"

	"github.com/opstower/opstower/shared/config"
)

// TODO(supabase): replaced by the real provider.
var supabaseProvider = &provider{
	name: "supabase", title: "Supabase", schemes: []string{"supabase"},
	fields:      []config.Field{{Name: "url", Secret: true}, {Name: "project_url"}, {Name: "service_role_key", Secret: true, Env: "SUPABASE_SERVICE_ROLE_KEY"}},
	defaultName: func(config.Values) string { return "supabase" },
	open: func(config.Values, config.Limits) (engine, error) {
		return nil, errors.New("supabase: not yet available")
	},
}
