#!/usr/bin/env bash
# Runs every Go fuzz target in the module briefly (the corpus in testdata/
# is already replayed by the ordinary `go test` run): together well under
# three minutes, so CI fuzzes on every run. FUZZTIME overrides the time per
# target; by default 15 s each, less when there are many targets.
set -euo pipefail
cd "$(dirname "$0")/.."

mapfile -t pkgs < <(git grep -l '^func Fuzz' -- '*_test.go' | xargs -n1 dirname | sort -u)
targets=()
for dir in "${pkgs[@]}"; do
  while read -r name; do
    targets+=("./$dir $name")
  done < <(go test -list '^Fuzz' "./$dir" | grep '^Fuzz' || true)
done
if [ ${#targets[@]} -eq 0 ]; then
  echo "no fuzz targets found"; exit 1
fi
per=${FUZZTIME:-$(( 150 / ${#targets[@]} < 15 ? 150 / ${#targets[@]} : 15 ))s}
for t in "${targets[@]}"; do
  read -r pkg name <<<"$t"
  echo "-- $name ($pkg, $per)"
  go test -run '^$' -fuzz "^${name}\$" -fuzztime "$per" "$pkg"
done
