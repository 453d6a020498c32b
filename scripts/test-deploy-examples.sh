#!/usr/bin/env bash
# The deploy examples (examples/deploy, shown in docs/deploy): type-checked
# with tsc --noEmit against our SDK built from sdks/typescript and against
# the providers' real SDK type packages, pinned by the committed lockfile.
# The provider examples are not run: their clouds cannot be reached from
# here. The local ones are: compiled and run against the binary built from
# this tree, they drive src/session.ts (shared by every example) through a
# whole turn with permission requests and questions.
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

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
CGO_ENABLED=0 go build -o "$work/bin/sandbox-agent" ../../cmd/sandbox-agent
npx tsc -p tsconfig.json --noEmit false --outDir "$work/js"
cp package.json "$work/js/"
ln -s "$PWD/node_modules" "$work/js/node_modules"
run() { # run EXAMPLE WANT: the example's output must contain WANT
  local out
  out=$(cd "$work/js" && PATH="$work/bin:$PATH" timeout 120 node "$1" 2>&1) || {
    echo "$1 failed:"; echo "$out"; exit 1
  }
  grep -qF -- "$2" <<<"$out" || { echo "$1: output lacks \"$2\":"; echo "$out"; exit 1; }
  echo "deploy examples: $1 ran (\"$2\")"
}
run quickstart.js "hello"
# "demo": every mock building block, incl. two permission requests answered
# "once" by session.ts and two questions it rejects.
run local.js "Write mock_1/deny.txt: allowed once"
