#!/usr/bin/env bash
# The deploy examples (examples/deploy, shown in docs/deploy): type-checked
# with tsc --noEmit against our SDK built from sdks/typescript and against
# the providers' real SDK type packages, pinned by the committed lockfile.
# They are not run: the providers' clouds cannot be reached from here.
# scripts/test.sh runs it; alone: scripts/test-deploy-examples.sh
set -euo pipefail
cd "$(dirname "$0")/.."

npm_ci() { npm ci --prefer-offline --no-audit --no-fund --loglevel=error "$@"; }

# The examples import "sandbox-agent" (a file: dependency on
# sdks/typescript), whose types are its build output.
(
  cd sdks/typescript
  [ -d node_modules ] || npm_ci
  npm run --silent build >/dev/null
)
cd examples/deploy
# --ignore-scripts: only types are needed; no install script runs. A
# node_modules installed from this very lockfile is reused (a fresh clone,
# as in CI, always installs).
stamp=node_modules/.installed-from
if [ "$(cat "$stamp" 2>/dev/null)" != "$(sha256sum package-lock.json)" ]; then
  npm_ci --ignore-scripts
  sha256sum package-lock.json >"$stamp"
fi
npm run --silent typecheck
echo "deploy examples: type-checked"
