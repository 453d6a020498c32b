#!/usr/bin/env bash
# Runs the whole test suite: formatting, vet, every Go test under the race
# detector, then the real-agent e2e suite. CI calls this through `make test`
# (see README).
#   scripts/test.sh               everything
#   scripts/test.sh e2e [AGENT]   only the e2e suite (`make e2e AGENT=claude`)
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" != "e2e" ]; then

echo "== gofmt"
unformatted=$(git ls-files -z '*.go' | xargs -0 gofmt -l 2>/dev/null || true)
if [ -n "$unformatted" ]; then
  echo "these files need gofmt:"; echo "$unformatted"; exit 1
fi

# Shell scripts (install.sh is POSIX sh and runs under dash; its behaviour
# is tested in internal/release) and the Dockerfile (no container engine
# here: linted only). .ci/run installs both linters; locally a missing one
# is reported and skipped, in CI it fails.
ci_tools=${SANDBOX_AGENT_CI_TOOLS:-$HOME/.cache/sandbox-agent-ci}
lint() { # lint TOOL ARG...
  local name=$1 tool
  shift
  tool=$(command -v "$name" || true)
  if [ -z "$tool" ] && [ -x "$ci_tools/venv/bin/$name" ]; then tool=$ci_tools/venv/bin/$name; fi
  if [ -z "$tool" ]; then
    if [ -n "${CI:-}" ]; then echo "$name is not installed (.ci/run installs it)"; exit 1; fi
    echo "skipped: $name is not installed"
    return
  fi
  "$tool" "$@"
}
echo "== shellcheck"
mapfile -t scripts < <(git ls-files '*.sh')
lint shellcheck install.sh .ci/run "${scripts[@]}"
echo "== hadolint"
lint hadolint Dockerfile examples/deploy/cloudflare/Dockerfile

echo "== go vet"
go vet ./...

echo "== go test -race"
go test -race -count=1 -timeout 20m ./...

# Every Go fuzz target for a few seconds each (under 3 minutes in all),
# then schemathesis over the whole API against the real binary, confined
# by --fs-root to a temporary directory: 0 server errors, 0 responses that
# break the schema.
echo "== fuzz"
scripts/fuzz.sh
echo "== schemathesis"
scripts/schemathesis.sh

# Built without the race detector (bench/linear_test.go excludes itself
# from race builds): it counts allocations over a million deltas.
echo "== linear-work test"
go test -count=1 -run '^TestLinearWork$' ./bench/

# The TypeScript SDK against the binary built from this tree (npm ci from
# the committed lockfile, vitest, npm pack smoke test).
echo "== typescript sdk"
scripts/test-sdk-ts.sh

scripts/test-inspector.sh # the inspector web UI: fresh build, components, real browser
scripts/test-sdk-py.sh # the Python SDK: models vs the spec, mypy --strict, pytest against the binary, wheel smoke

# The deploy guides' TypeScript examples: all type-checked against our SDK
# and the providers' real type packages; the local ones also run against
# the binary (the providers' clouds cannot be reached from here).
echo "== deploy examples"
scripts/test-deploy-examples.sh
fi

# == e2e: the real agent CLIs (pinned, installed through our installer into
# ${SANDBOX_AGENT_E2E_CACHE:-~/.cache/sandbox-agent-e2e}, which CI may cache)
# against the scripted fake model, in a loopback-only network namespace.
# Prints the per-agent matrix and checks docs/agent-compatibility.md; see
# e2e/doc.go.
echo "== e2e ${2:-all agents}"
SANDBOX_AGENT_E2E=1 SANDBOX_AGENT_E2E_AGENTS="${2:-${SANDBOX_AGENT_E2E_AGENTS:-all}}" \
  go test -count=1 -timeout 30m -parallel 3 -v ./e2e
