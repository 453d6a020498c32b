# The two commands a newcomer needs:
#   make run    build and run the server (mock agent, no API keys needed)
#   make test   run the whole test suite (what CI runs)

GO      ?= go
BIN     := bin/sandbox-agent
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
DATE    ?= $(shell git log -1 --format=%cI 2>/dev/null || echo unknown)
CLIPKG  := github.com/sandbox-agent/sandbox-agent/internal/cli
LDFLAGS := -s -w -X $(CLIPKG).Version=$(VERSION) -X $(CLIPKG).Commit=$(COMMIT) -X $(CLIPKG).Date=$(DATE)

.PHONY: build release run test unit e2e e2e-docs lint openapi cli-docs bench clean inspector

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/sandbox-agent

# release: static binaries for linux/darwin × amd64/arm64 plus SHA256SUMS and
# install.sh in dist/ (PLATFORMS="linux/amd64" for fewer); see scripts/release.sh.
release:
	VERSION=$(VERSION) COMMIT=$(COMMIT) DATE=$(DATE) GO=$(GO) ./scripts/release.sh

run: build
	./$(BIN) server --no-token --port $${PORT:-2468}

test:
	./scripts/test.sh

unit:
	$(GO) test -race ./...

# e2e: the real agent CLIs against fakellm (all agents, or AGENT=claude).
# e2e-docs: the same run, rewriting the matrix in docs/agent-compatibility.md.
e2e:
	./scripts/test.sh e2e $(AGENT)

e2e-docs:
	SANDBOX_AGENT_E2E_UPDATE_DOCS=1 ./scripts/test.sh e2e $(AGENT)

lint:
	test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...

# Also regenerates the TypeScript SDK's types (a test fails when they are stale).
openapi: build
	./$(BIN) openapi > docs/openapi.json
	cd sdks/typescript && { [ -d node_modules ] || npm ci --prefer-offline --no-audit --no-fund --loglevel=error; } && npm run --silent generate
	scripts/test-sdk-py.sh models

bench:
	$(GO) test -run XXX -bench . ./bench/

# The performance report (bench/README.md): every figure with its ratio,
# from one run. PARTS=scaling,limit,latency,fanout,http PROFILE=dir
bench-report:
	$(GO) test -run '^TestReport$$' -count=1 -timeout 60m -v ./bench/ -report $(if $(PARTS),-report.only $(PARTS)) $(if $(PROFILE),-report.profile $(PROFILE))

clean:
	rm -rf bin dist

# inspector: rebuild the web UI the binary embeds (inspector/dist, committed;
# scripts/test-inspector.sh fails when it is stale). Needs Node 20.19+.
inspector:
	cd inspector && npm ci --prefer-offline --no-audit --no-fund --loglevel=error && npm run --silent build

# docs/cli.md is generated from the command tree; a test fails when stale.
cli-docs:
	$(GO) test ./internal/cli -run TestCLIDocs -count=1 -args -update
