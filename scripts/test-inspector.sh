#!/usr/bin/env bash
# The inspector web UI (inspector/): dependencies from the committed
# lockfile, type check, component tests (vitest, over the event sequences
# inspector/fixtures_test.go records through the real converters), the
# staleness check (a fresh Vite build must equal the committed
# inspector/dist that the binary embeds), then the browser test: Debian's chromium driven by
# playwright-core through /ui/ of the binary built from this tree, with the
# mock agent. Screenshots land in inspector/test-results/.
# scripts/test.sh runs it; alone: scripts/test-inspector.sh
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== inspector"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
CGO_ENABLED=0 go build -o "$tmp/sandbox-agent" ./cmd/sandbox-agent
export SANDBOX_AGENT_BIN="$tmp/sandbox-agent"

cd inspector
npm ci --prefer-offline --no-audit --no-fund --loglevel=error
npm run --silent typecheck
npx vitest run

echo "== inspector: committed dist/ is the build of this tree"
npx vite build --logLevel error --outDir "$tmp/dist" --emptyOutDir
if ! diff -r dist "$tmp/dist" >"$tmp/dist.diff"; then
  head -n 40 "$tmp/dist.diff"
  echo "inspector/dist is stale: run 'make inspector' (npm ci + vite build) and commit inspector/dist"
  exit 1
fi

echo "== inspector: browser test"
node e2e/inspector.mjs
