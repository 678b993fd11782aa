package databases_test

import (
	"context"
	"database/sql"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/opstower/opstower/servers/databases"
	"github.com/opstower/opstower/shared/config"
)

// A databases server embedded in a Go program, on a SQLite file, called
// in process through the SDK's in-memory transports.
func ExampleNew() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "shop.db")
	db, _ := sql.Open("sqlite", path)
	_, _ = db.Exec(`CREATE TABLE orders (id INTEGER PRIMARY KEY, status TEXT); INSERT INTO orders (status) VALUES ('paid'), ('failed'), ('failed')`)
	db.Close()

	conn, err := databases.ParseDSN("shop=sqlite://" + path)
	if err != nil {
		log.Fatal(err)
	}
	srv, err := databases.New(ctx, databases.Config{Connections: []config.Connection{conn}})
	if err != nil {
		log.Fatal(err)
	}
	serverEnd, clientEnd := mcp.NewInMemoryTransports()
	if _, err := srv.Connect(ctx, serverEnd, nil); err != nil {
		log.Fatal(err)
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "example", Version: "1"}, nil)
	cs, err := client.Connect(ctx, clientEnd, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer cs.Close()

	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "query", Arguments: map[string]any{
		"sql": "SELECT status, count(*) AS n FROM orders GROUP BY status ORDER BY n DESC",
	}})
	if err != nil {
		log.Fatal(err)
	}
	text := res.Content[0].(*mcp.TextContent).Text
	// The first line says how many rows and how long it took; the rows
	// follow, fenced as untrusted data, under a header of names and
	// types (SQLite knows none for an expression).
	for _, line := range strings.Split(text, "\n")[1:] {
		if line != "" && !strings.HasPrefix(line, "<") {
			fmt.Println(line)
		}
	}
	// Output:
	// status:text,n
	// failed,2
	// paid,1
}
