#!/usr/bin/env bash
# The TypeScript SDK (sdks/typescript): dependencies from the committed
# lockfile, generated types checked against docs/openapi.json, type check,
# unit and integration tests (the real binary built from this tree), then
# `npm pack` installed into an empty project and run (pack-smoke.mjs), and
# the ESM build driven by headless Chromium (browser-smoke.mjs).
# scripts/test.sh runs it; alone: scripts/test-sdk-ts.sh
set -euo pipefail
cd "$(dirname "$0")/.."

bin_dir=$(mktemp -d)
trap 'rm -rf "$bin_dir"' EXIT
CGO_ENABLED=0 go build -o "$bin_dir/sandbox-agent" ./cmd/sandbox-agent
export SANDBOX_AGENT_BIN="$bin_dir/sandbox-agent"

cd sdks/typescript
npm ci --prefer-offline --no-audit --no-fund --loglevel=error
npm run --silent typecheck
npx vitest run
npm run --silent smoke
npm run --silent browser-smoke
