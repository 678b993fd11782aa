package databases

import (
	"errors"

	"github.com/opstower/opstower/shared/config"
)

// TODO(d1): replaced by the real provider.
var d1Provider = &provider{
	name: "d1", title: "Cloudflare D1", schemes: []string{"d1"},
	fields:      []config.Field{{Name: "account_id", Required: true}, {Name: "database_id", Required: true}, {Name: "api_token", Secret: true, Required: true, Env: "CLOUDFLARE_API_TOKEN"}},
	defaultName: func(config.Values) string { return "d1" },
	open: func(config.Values, config.Limits) (engine, error) {
		return nil, errors.New("d1: not yet available")
	},
}
