#!/usr/bin/env bash
# Property-based API testing: schemathesis (pinned, from PyPI, in a venv
# kept in the CI tools cache) generates requests for every operation of
# docs/openapi.json, valid and invalid, and runs them against the real
# binary. The server's fs routes are confined by --fs-root to a temporary
# directory (schemathesis sends absolute paths and recursive deletes), its
# home, state and install directories are temporary too, and the npm
# registry points nowhere, so nothing it does can touch this machine.
# Passes only with 0 server errors and 0 responses that break the schema.
#   scripts/schemathesis.sh           install if needed, then run
#   scripts/schemathesis.sh install   only install (.ci/run does this)
set -euo pipefail
cd "$(dirname "$0")/.."

version=4.32.5
ci_tools=${SANDBOX_AGENT_CI_TOOLS:-$HOME/.cache/sandbox-agent-ci}
st=$ci_tools/st-venv/bin/st
if [ "${1:-}" = "install" ] || ! "$st" --version 2>/dev/null | grep -q "$version"; then
  python3 -m venv "$ci_tools/st-venv"
  "$ci_tools/st-venv/bin/pip" install -q "schemathesis==$version"
  [ "${1:-}" = "install" ] && exit 0
fi

work=$(mktemp -d)
server_pid=
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/root" "$work/home" "$work/agents"

CGO_ENABLED=0 go build -o "$work/sandbox-agent" ./cmd/sandbox-agent
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
HOME=$work/home XDG_DATA_HOME=$work/home/data XDG_STATE_HOME=$work/home/state XDG_CACHE_HOME=$work/home/cache \
  SANDBOX_AGENT_INSTALL_DIR=$work/agents SANDBOX_AGENT_TOKEN='' npm_config_registry=http://127.0.0.1:9/ \
  "$work/sandbox-agent" server --no-token --host 127.0.0.1 --port "$port" --fs-root "$work/root" \
  --log-level warn >"$work/server.log" 2>&1 &
server_pid=$!
python3 - "$port" <<'PY'
import sys, time, urllib.request
for _ in range(300):
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/v1/health", timeout=1)
        sys.exit(0)
    except Exception:
        time.sleep(0.1)
sys.exit("the server never became healthy")
PY

# installAgent is left out: it downloads the real agents (with no registry
# reachable it can only answer the reference's documented 500
# install_failed); the installer has its own tests, real downloads included.
status=0
SCHEMATHESIS_HOOKS=scripts.schemathesis.hooks "$st" run docs/openapi.json --url "http://127.0.0.1:$port" \
  --checks not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance \
  --exclude-operation-id installAgent \
  --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-25}" --request-timeout 30 --workers 1 \
  --no-color || status=$?
if ! kill -0 "$server_pid" 2>/dev/null; then
  echo "the server died during the run"; status=1
fi
if [ "$status" -ne 0 ]; then
  echo "--- server log"; tail -n 100 "$work/server.log"
fi
exit "$status"
