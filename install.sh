#!/bin/sh
# Installs the sandbox-agent binary for this machine:
#
#   curl -fsSL https://github.com/sandbox-agent/sandbox-agent/releases/latest/download/install.sh | sh
#   wget -qO- https://github.com/sandbox-agent/sandbox-agent/releases/latest/download/install.sh | sh
#
# It picks the build for this OS and CPU, downloads it and the release's
# SHA256SUMS, checks the checksum, and only then puts the binary in place.
# On any failure nothing is installed and its temporary files are removed.
#
# Environment (all optional):
#   SANDBOX_AGENT_VERSION   release to install, e.g. v0.3.0 (default: latest)
#   SANDBOX_AGENT_BASE_URL  where releases live (default: the project's GitHub
#                           releases). Files are fetched from
#                           <base>/latest/download/<file> for "latest" and
#                           <base>/download/<version>/<file> otherwise.
#   SANDBOX_AGENT_BIN_DIR   where to put the binary (default: /usr/local/bin as
#                           root, ~/.local/bin otherwise)
#
# POSIX sh (tested under dash, busybox sh and bash --posix); needs curl or
# wget, and sha256sum, shasum or openssl.
set -eu

default_base_url=https://github.com/sandbox-agent/sandbox-agent/releases

say() { printf '%s\n' "$*"; }
warn() { printf 'sandbox-agent install: %s\n' "$*" >&2; }
die() {
	warn "error: $*"
	exit 1
}

tmp_dir=
staged=
cleanup() {
	if [ -n "$staged" ]; then rm -f "$staged"; fi
	if [ -n "$tmp_dir" ]; then rm -rf "$tmp_dir"; fi
}

detect_os() {
	case $(uname -s) in
	Linux) echo linux ;;
	Darwin) echo darwin ;;
	*) die "unsupported operating system $(uname -s): builds exist for Linux and macOS (or: go install github.com/sandbox-agent/sandbox-agent/cmd/sandbox-agent@latest)" ;;
	esac
}

detect_arch() {
	arch=$(uname -m)
	# A shell running under Rosetta reports x86_64 on Apple silicon; the
	# native build is the better choice there.
	if [ "$arch" = x86_64 ] && [ "$1" = darwin ] &&
		[ "$(sysctl -n sysctl.proc_translated 2>/dev/null || true)" = 1 ]; then
		arch=arm64
	fi
	case $arch in
	x86_64 | amd64) echo amd64 ;;
	aarch64 | arm64) echo arm64 ;;
	*) die "unsupported CPU architecture $arch: builds exist for amd64 and arm64 (or: go install github.com/sandbox-agent/sandbox-agent/cmd/sandbox-agent@latest)" ;;
	esac
}

# fetch URL FILE: downloads with curl or wget, failing on any HTTP error.
fetch() {
	if command -v curl >/dev/null 2>&1; then
		curl -fsSL --retry 2 -o "$2" "$1" || die "download failed: $1"
	elif command -v wget >/dev/null 2>&1; then
		wget -q -O "$2" "$1" || die "download failed: $1"
	else
		die "neither curl nor wget is installed"
	fi
}

# sha256 FILE: prints the file's SHA-256 in lower-case hex.
sha256() {
	if command -v sha256sum >/dev/null 2>&1; then
		sha256sum "$1" | awk '{ print $1 }'
	elif command -v shasum >/dev/null 2>&1; then
		shasum -a 256 "$1" | awk '{ print $1 }'
	elif command -v openssl >/dev/null 2>&1; then
		openssl dgst -sha256 <"$1" | awk '{ print $NF }'
	else
		die "no SHA-256 tool found (sha256sum, shasum or openssl) to verify the download"
	fi
}

main() {
	base=${SANDBOX_AGENT_BASE_URL:-$default_base_url}
	base=${base%/}
	version=${SANDBOX_AGENT_VERSION:-latest}
	os=$(detect_os)
	arch=$(detect_arch "$os")
	asset=sandbox-agent-$os-$arch

	case $version in
	latest) url=$base/latest/download ;;
	[0-9]*) version=v$version && url=$base/download/$version ;;
	*) url=$base/download/$version ;;
	esac

	if [ -n "${SANDBOX_AGENT_BIN_DIR:-}" ]; then
		bin_dir=$SANDBOX_AGENT_BIN_DIR
	elif [ "$(id -u)" = 0 ]; then
		bin_dir=/usr/local/bin
	else
		[ -n "${HOME:-}" ] || die "HOME is not set: set SANDBOX_AGENT_BIN_DIR"
		bin_dir=$HOME/.local/bin
	fi

	trap cleanup EXIT
	trap 'exit 129' HUP
	trap 'exit 130' INT
	trap 'exit 143' TERM
	tmp_dir=$(mktemp -d 2>/dev/null || mktemp -d -t sandbox-agent) ||
		die "cannot create a temporary directory"

	say "downloading $asset ($version) from $url"
	fetch "$url/$asset" "$tmp_dir/$asset"
	fetch "$url/SHA256SUMS" "$tmp_dir/SHA256SUMS"

	want=$(awk -v f="$asset" '$2 == f || $2 == "*" f { print $1; exit }' "$tmp_dir/SHA256SUMS")
	[ -n "$want" ] || die "SHA256SUMS of $version has no entry for $asset; nothing installed"
	got=$(sha256 "$tmp_dir/$asset")
	[ "$got" = "$want" ] ||
		die "checksum mismatch for $asset: SHA256SUMS says $want, the download is $got; nothing installed"
	say "verified SHA-256 $got"

	mkdir -p "$bin_dir" 2>/dev/null || die "cannot create $bin_dir: run as root or set SANDBOX_AGENT_BIN_DIR"
	[ -w "$bin_dir" ] || die "cannot write to $bin_dir: run as root or set SANDBOX_AGENT_BIN_DIR"
	# Copy next to the target, then rename: a running sandbox-agent keeps its
	# old file and nobody ever sees a half-written binary.
	staged=$bin_dir/.sandbox-agent.install.$$
	cp "$tmp_dir/$asset" "$staged"
	chmod 755 "$staged"
	mv -f "$staged" "$bin_dir/sandbox-agent"
	staged=

	installed=$("$bin_dir/sandbox-agent" --version 2>/dev/null || true)
	say "installed ${installed:-sandbox-agent $version} ($os/$arch) to $bin_dir/sandbox-agent"
	case ":${PATH:-}:" in
	*":$bin_dir:"*)
		found=$(command -v sandbox-agent 2>/dev/null || true)
		if [ -n "$found" ] && [ "$found" != "$bin_dir/sandbox-agent" ]; then
			say "note: $found comes first on PATH and shadows the new binary"
		fi
		;;
	*) say "note: $bin_dir is not on PATH; add it with: export PATH=\"$bin_dir:\$PATH\"" ;;
	esac
	say "start it with: sandbox-agent server --token \"\$SECRET\" (or --no-token on loopback)"
}

main "$@"
