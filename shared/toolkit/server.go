package toolkit

import (
	"log/slog"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/opstower/opstower/shared/logging"
)

// Server describes a category server for NewServer.
type Server struct {
	Name         string // "databases": the server reports itself as opstower-databases
	Title        string // shown to people: "OpsTower databases"
	Version      string // "" reports "dev"
	Instructions string // sent in initialize: what the server offers and how to start
	MaxBytes     int    // hard cap on one result's text (Options.MaxBytes)
	Logger       *slog.Logger
}

// NewServer builds an MCP server with tools, the same way for every
// category: no capabilities beyond tools, the SDK's routine session logs
// quietened, and the toolkit's result handling on every tool.
func NewServer(spec Server, tools ...Tool) *mcp.Server {
	logger := spec.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	version := spec.Version
	if version == "" {
		version = "dev"
	}
	s := mcp.NewServer(&mcp.Implementation{Name: "opstower-" + spec.Name, Title: spec.Title, Version: version},
		&mcp.ServerOptions{Instructions: spec.Instructions, Logger: logging.Quiet(logger), Capabilities: &mcp.ServerCapabilities{}})
	Add(s, Options{MaxBytes: spec.MaxBytes, Logger: logger}, tools...)
	return s
}
