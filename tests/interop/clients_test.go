package interop

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os/exec"
	"testing"
	"time"

	mgclient "github.com/mark3labs/mcp-go/client"
	mgtransport "github.com/mark3labs/mcp-go/client/transport"
	mg "github.com/mark3labs/mcp-go/mcp"
	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/opstower/opstower/shared/mcptest"
	"github.com/opstower/opstower/tests/internal/opstowerbin"
)

// client is what the shared scenario needs from an MCP client library. Each
// implementation is a thin adapter over the library's public API, so the
// scenario sees exactly what an application built on that library sees.
type client interface {
	// protocol is the negotiated protocol revision.
	protocol() string
	tools(ctx context.Context) ([]toolView, error)
	// call returns the joined text of a tool result and its isError flag;
	// err is a protocol (JSON-RPC) or transport error.
	call(ctx context.Context, name string, args map[string]any) (text string, isError bool, err error)
	// invalidParams reports whether err is a JSON-RPC "invalid params"
	// error (-32602), which is how MCP reports an unknown tool.
	invalidParams(err error) bool
}

// toolView is a tool definition as a client library decoded it, compared
// across libraries through its JSON form.
type toolView struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	InputSchema struct {
		Type       string                     `json:"type"`
		Properties map[string]json.RawMessage `json:"properties"`
		Required   []string                   `json:"required"`
	} `json:"inputSchema"`
	Annotations struct {
		Title           string `json:"title"`
		ReadOnlyHint    *bool  `json:"readOnlyHint"`
		DestructiveHint *bool  `json:"destructiveHint"`
		IdempotentHint  *bool  `json:"idempotentHint"`
		OpenWorldHint   *bool  `json:"openWorldHint"`
	} `json:"annotations"`
}

func viewOf(tool any) (toolView, error) {
	var v toolView
	raw, err := json.Marshal(tool)
	if err != nil {
		return v, err
	}
	err = json.Unmarshal(raw, &v)
	return v, err
}

// clientInfo identifies the test clients to the server.
var clientInfo = struct{ name, version string }{"opstower-interop", "v0"}

// ---- go-sdk ----

type goSDKClient struct{ cs *mcp.ClientSession }

func (g goSDKClient) protocol() string { return g.cs.InitializeResult().ProtocolVersion }

func (g goSDKClient) tools(ctx context.Context) ([]toolView, error) {
	var out []toolView
	for tl, err := range g.cs.Tools(ctx, nil) {
		if err != nil {
			return nil, err
		}
		v, err := viewOf(tl)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func (g goSDKClient) call(ctx context.Context, name string, args map[string]any) (string, bool, error) {
	res, err := g.cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		return "", false, err
	}
	return mcptest.Text(res), res.IsError, nil
}

func (g goSDKClient) invalidParams(err error) bool {
	var je *jsonrpc.Error
	return errors.As(err, &je) && je.Code == jsonrpc.CodeInvalidParams
}

func goSDKSessionOptions(version string) *mcp.ClientSessionOptions {
	if version == "" {
		return nil
	}
	return &mcp.ClientSessionOptions{ProtocolVersion: version}
}

// connectGoSDKStdio spawns the server with mcp.CommandTransport, capturing
// its stderr (the transport discards it otherwise) and keeping the
// stdin-close grace period short so a hung server costs little.
func connectGoSDKStdio(t *testing.T, version string) client {
	t.Helper()
	cmd := exec.Command(binPath, "mcp", "databases", "--dsn", "sqlite://"+fixtureDB)
	cmd.Env = opstowerbin.Env()
	stderr := &mcptest.SyncBuffer{}
	cmd.Stderr = stderr
	c := mcp.NewClient(&mcp.Implementation{Name: clientInfo.name, Version: clientInfo.version}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cs, err := c.Connect(ctx, &mcp.CommandTransport{Command: cmd, TerminateDuration: 200 * time.Millisecond}, goSDKSessionOptions(version))
	if err != nil {
		t.Fatalf("connecting over stdio: %v\nserver stderr:\n%s", err, stderr.String())
	}
	t.Cleanup(func() { opstowerbin.CheckExit(t, cs.Close(), stderr.String()) })
	return goSDKClient{cs}
}

// bearer adds a static bearer token to every request, which is how a
// go-sdk application sends OPSTOWER_HTTP_TOKEN.
type bearer struct {
	token string
	next  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}

// connectGoSDKHTTP connects over streamable HTTP, sending token as a bearer
// token unless it is empty.
func connectGoSDKHTTP(t *testing.T, endpoint, token, version string) (client, error) {
	t.Helper()
	hc := http.DefaultClient
	if token != "" {
		hc = &http.Client{Transport: bearer{token: token, next: http.DefaultTransport}}
	}
	c := mcp.NewClient(&mcp.Implementation{Name: clientInfo.name, Version: clientInfo.version}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cs, err := c.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: endpoint, HTTPClient: hc, MaxRetries: -1}, goSDKSessionOptions(version))
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() {
		if err := cs.Close(); err != nil {
			t.Errorf("closing the HTTP session: %v", err)
		}
	})
	return goSDKClient{cs}, nil
}

// ---- mark3labs/mcp-go ----

type mcpGoClient struct{ c *mgclient.Client }

func (m mcpGoClient) protocol() string { return m.c.ProtocolVersion() }

func (m mcpGoClient) tools(ctx context.Context) ([]toolView, error) {
	res, err := m.c.ListTools(ctx, mg.ListToolsRequest{})
	if err != nil {
		return nil, err
	}
	var out []toolView
	for _, tl := range res.Tools {
		v, err := viewOf(tl)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func (m mcpGoClient) call(ctx context.Context, name string, args map[string]any) (string, bool, error) {
	res, err := m.c.CallTool(ctx, mg.CallToolRequest{Params: mg.CallToolParams{Name: name, Arguments: args}})
	if err != nil {
		return "", false, err
	}
	var text string
	for _, c := range res.Content {
		if tc, ok := mg.AsTextContent(c); ok {
			text += tc.Text
		}
	}
	return text, res.IsError, nil
}

func (m mcpGoClient) invalidParams(err error) bool { return errors.Is(err, mg.ErrInvalidParams) }

func mcpGoOptions(version string) []mgclient.ClientOption {
	if version == "" {
		return nil
	}
	return []mgclient.ClientOption{mgclient.WithProtocolVersion(version)}
}

// initMcpGo wires the client's handlers with Start (NewStdioMCPClient does
// not, and notifications are lost without it) and runs the handshake.
func initMcpGo(t *testing.T, c *mgclient.Client) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.Start(ctx); err != nil {
		return err
	}
	_, err := c.Initialize(ctx, mg.InitializeRequest{Params: mg.InitializeParams{
		ClientInfo: mg.Implementation{Name: clientInfo.name, Version: clientInfo.version},
	}})
	return err
}

func connectMcpGoStdio(t *testing.T, version string) client {
	t.Helper()
	stderr := &mcptest.SyncBuffer{}
	// The command factory keeps the server's environment free of the
	// developer's OPSTOWER_* variables and captures all of its stderr.
	command := mgtransport.WithCommandFunc(func(ctx context.Context, name string, _ []string, args []string) (*exec.Cmd, error) {
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Env = opstowerbin.Env()
		cmd.Stderr = stderr
		return cmd, nil
	})
	args := []string{"mcp", "databases", "--dsn", "sqlite://" + fixtureDB}
	var c *mgclient.Client
	if version == "" {
		var err error
		c, err = mgclient.NewStdioMCPClientWithOptions(binPath, nil, args, command)
		if err != nil {
			t.Fatalf("starting the server: %v", err)
		}
	} else {
		// NewStdioMCPClient takes no client options, so a pinned revision
		// needs the transport and client built separately.
		tr := mgtransport.NewStdioWithOptions(binPath, nil, args, command)
		if err := tr.Start(context.Background()); err != nil {
			t.Fatalf("starting the server: %v", err)
		}
		c = mgclient.NewClient(tr, mcpGoOptions(version)...)
	}
	t.Cleanup(func() { opstowerbin.CheckExit(t, c.Close(), stderr.String()) })
	if err := initMcpGo(t, c); err != nil {
		t.Fatalf("initializing over stdio: %v\nserver stderr:\n%s", err, stderr.String())
	}
	return mcpGoClient{c}
}

// connectMcpGoHTTP connects over streamable HTTP, sending token as a bearer
// token unless it is empty.
func connectMcpGoHTTP(t *testing.T, endpoint, token, version string) (client, error) {
	t.Helper()
	opts := []mgtransport.StreamableHTTPCOption{mgtransport.WithHTTPTimeout(30 * time.Second)}
	if token != "" {
		opts = append(opts, mgtransport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + token}))
	}
	tr, err := mgtransport.NewStreamableHTTP(endpoint, opts...)
	if err != nil {
		return nil, err
	}
	c := mgclient.NewClient(tr, mcpGoOptions(version)...)
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("closing the mcp-go HTTP client: %v", err)
		}
	})
	if err := initMcpGo(t, c); err != nil {
		return nil, err
	}
	return mcpGoClient{c}, nil
}
