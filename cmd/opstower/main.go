// Command opstower serves OpsTower's MCP servers, one category per process,
// and tours a demo workspace. The agent host's commands (chat, agents, host,
// mcp agents) and the CloudWatch and Cloud Logging providers live in
// opstower-full, installed beside it, which opstower runs in its place when
// asked for them; see package cli for why.
package main

import "github.com/opstower/opstower/cmd/internal/cli"

// version is set at build time with -ldflags "-X main.version=v1.2.3".
var version string

func main() { cli.Main(cli.Build{Version: version}) }
