// Command opstower-full is opstower with everything linked in: the agent
// host (opstower chat, agents, host and mcp agents, with the LLM clients)
// and the log providers built on the AWS and Google Cloud client libraries.
// opstower runs it when asked for those; it can also be run directly.
package main

import (
	"github.com/opstower/opstower/cmd/internal/cli"
	_ "github.com/opstower/opstower/cmd/internal/host"
	_ "github.com/opstower/opstower/servers/logs/cloudlogs"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3".
var version string

func main() { cli.Main(cli.Build{Version: version, Full: true}) }
