# OpsTower build, test and benchmark entry points.
GO        ?= go
BIN       ?= bin/opstower
FULL_BIN  ?= $(dir $(BIN))opstower-full
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION)

.PHONY: build test test-short bench lint demo snapshots clean

# Two programs: opstower (the MCP servers, small) and opstower-full (adds
# the agent host and the cloud log providers), which opstower runs when
# asked for those, so they are installed side by side.
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/opstower
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(FULL_BIN) ./cmd/opstower-full

# The README's test command. Tests that need PostgreSQL, MariaDB or
# ClickHouse skip with a message when those are absent, unless
# OPSTOWER_REQUIRE_SERVICES=1 (set by .ci/run).
test:
	$(GO) test $(TESTFLAGS) ./...

test-short:
	$(GO) test -short ./...

# vet for the platforms people run OpsTower on, not only this one: a
# syscall that exists on Linux alone breaks the macOS build.
lint:
	$(GO) vet ./...
	GOOS=darwin GOARCH=arm64 $(GO) vet ./...
	GOOS=windows GOARCH=amd64 $(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# Benchmarks. First the Go benchmarks of every package that has some, then
# bench/databases: `opstower mcp databases` side by side with the reference
# PostgreSQL MCP server (npm, run with node) on the same data, printed as a
# table with ratios. Needs PostgreSQL (see the harness's -pg flag) and node.
# BENCH_JSON names the results file; BENCH_FLAGS passes more harness flags.
BENCH_PKGS = $(sort $(dir $(shell grep -rl --include='*_test.go' --exclude-dir=node_modules '^func Benchmark' . 2>/dev/null)))
BENCH_JSON ?= bin/bench-databases.json

bench: build
	$(GO) test -run '^$$' -bench . -benchmem $(BENCH_PKGS)
	@test -d bench/peer/node_modules || npm ci --prefix bench/peer
	$(GO) run ./bench/databases -bin $(BIN) -json $(BENCH_JSON) $(BENCH_FLAGS)

# Refresh the tool schema snapshots after an intended change.
snapshots:
	OPSTOWER_UPDATE_SNAPSHOTS=1 $(GO) test ./servers/... -run Snapshot

demo: build
	./$(BIN) demo

clean:
	rm -rf bin
