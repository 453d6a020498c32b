#!/usr/bin/env bash
# The Python SDK (sdks/python): a venv with the pinned tools from PyPI
# (sdks/python/requirements-dev.txt, kept under the CI tools cache and
# rebuilt when that file changes), the generated models checked against
# docs/openapi.json, mypy --strict, the unit and integration tests (the real
# binary built from this tree, the mock agent), then `python -m build` and
# the wheel installed into a fresh venv running examples/quickstart.py.
# scripts/test.sh runs it; alone: scripts/test-sdk-py.sh
#   scripts/test-sdk-py.sh models   only regenerate the models (`make openapi` does)
set -euo pipefail
cd "$(dirname "$0")/.."

ci_tools=${SANDBOX_AGENT_CI_TOOLS:-$HOME/.cache/sandbox-agent-ci}
venv=$ci_tools/py-sdk-venv
requirements=sdks/python/requirements-dev.txt
if ! cmp -s "$requirements" "$venv/requirements-dev.txt" 2>/dev/null; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$requirements"
  cp "$requirements" "$venv/requirements-dev.txt"
fi
py=$venv/bin/python
if [ "${1:-}" = "models" ]; then
  exec "$py" sdks/python/scripts/generate_models.py
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
CGO_ENABLED=0 go build -o "$work/sandbox-agent" ./cmd/sandbox-agent
export SANDBOX_AGENT_BIN=$work/sandbox-agent

cd sdks/python
echo "-- models up to date"
"$py" scripts/generate_models.py --check
echo "-- mypy --strict"
MYPYPATH=src "$py" -m mypy --strict src/sandbox_agent examples tests bench
echo "-- pytest"
PYTHONPATH=src "$py" -m pytest -q -p no:cacheprovider
echo "-- build, install the wheel into a fresh venv, run the example"
"$py" -m build --no-isolation --outdir "$work/dist" . >"$work/build.log" || { cat "$work/build.log"; exit 1; }
wheel=$(ls "$work"/dist/sandbox_agent-*.whl)
"$py" - "$wheel" <<'PY'
import sys, zipfile
names = set(zipfile.ZipFile(sys.argv[1]).namelist())
missing = {"sandbox_agent/py.typed", "sandbox_agent/models.py", "sandbox_agent/__init__.py"} - names
sys.exit(f"the wheel lacks {sorted(missing)}" if missing else 0)
PY
python3 -m venv "$work/venv"
# the runtime dependencies from PyPI, held to the pinned versions
"$work/venv/bin/pip" install -q --disable-pip-version-check -c requirements-dev.txt "$wheel"
cp examples/quickstart.py "$work/"
# py.typed works: mypy type-checks the example against the installed wheel
(cd "$work" && "$py" -m mypy --strict --no-incremental --python-executable "$work/venv/bin/python" quickstart.py)
(cd "$work" && "$work/venv/bin/python" quickstart.py) | tee "$work/example.out"
grep -q "assistant: Hello from Python" "$work/example.out"
