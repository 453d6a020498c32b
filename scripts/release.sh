#!/bin/sh
# Builds the release artefacts: one static binary per platform plus a
# SHA256SUMS file, in the layout install.sh downloads from:
#
#   $DIST/sandbox-agent-<os>-<arch>    (CGO off, version/commit/date stamped)
#   $DIST/SHA256SUMS                   ("<sha256>  <file>" per binary)
#
# Upload the contents of $DIST as the assets of the release tagged $VERSION.
#
# Environment (all optional):
#   VERSION    stamped version     (default: git describe, else "dev")
#   COMMIT     stamped commit      (default: git rev-parse HEAD, else "unknown")
#   DATE       stamped build date  (default: the commit's date, so a rebuild of
#              the same commit gives the same bytes; else SOURCE_DATE_EPOCH)
#   DIST       output directory    (default: dist)
#   PLATFORMS  space-separated os/arch list
#              (default: linux/amd64 linux/arm64 darwin/amd64 darwin/arm64)
#   GO         go command          (default: go)
set -eu
cd "$(dirname "$0")/.."

GO=${GO:-go}
DIST=${DIST:-dist}
PLATFORMS=${PLATFORMS:-linux/amd64 linux/arm64 darwin/amd64 darwin/arm64}
VERSION=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
COMMIT=${COMMIT:-$(git rev-parse HEAD 2>/dev/null || echo unknown)}
if [ -z "${DATE:-}" ]; then
	DATE=$(git log -1 --format=%cI 2>/dev/null || true)
	if [ -z "$DATE" ] && [ -n "${SOURCE_DATE_EPOCH:-}" ]; then
		DATE=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ 2>/dev/null || true)
	fi
	DATE=${DATE:-unknown}
fi

pkg=github.com/sandbox-agent/sandbox-agent/internal/cli
ldflags="-s -w -X $pkg.Version=$VERSION -X $pkg.Commit=$COMMIT -X $pkg.Date=$DATE"

mkdir -p "$DIST"
# Only this script's own outputs are replaced; other files in $DIST stay.
rm -f "$DIST"/sandbox-agent-* "$DIST/SHA256SUMS"

for p in $PLATFORMS; do
	os=${p%/*}
	arch=${p#*/}
	out="$DIST/sandbox-agent-$os-$arch"
	echo "build $out ($VERSION)"
	CGO_ENABLED=0 GOOS=$os GOARCH=$arch "$GO" build -trimpath -buildvcs=false \
		-ldflags "$ldflags" -o "$out" ./cmd/sandbox-agent
done

if command -v sha256sum >/dev/null 2>&1; then
	sum="sha256sum"
else
	sum="shasum -a 256"
fi
(cd "$DIST" && $sum sandbox-agent-* >SHA256SUMS.tmp && mv SHA256SUMS.tmp SHA256SUMS)
cp install.sh "$DIST/install.sh"
echo "wrote $DIST/SHA256SUMS"
