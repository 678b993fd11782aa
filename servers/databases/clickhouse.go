package databases

import (
	"errors"

	"github.com/opstower/opstower/shared/config"
)

// TODO(clickhouse): replaced by the real provider.
var clickhouseProvider = &provider{
	name: "clickhouse", title: "ClickHouse", schemes: []string{"clickhouse"},
	fields:      []config.Field{{Name: "url", Secret: true, Required: true}},
	defaultName: func(config.Values) string { return "clickhouse" },
	open: func(config.Values, config.Limits) (engine, error) {
		return nil, errors.New("clickhouse: not yet available")
	},
}
