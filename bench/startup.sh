#!/usr/bin/env bash
# startup.sh: start-to-healthy time and resident memory of our sandbox-agent
# binary, side by side with the reference binary (the Rust implementation,
# npm package @sandbox-agent/cli-linux-x64), on this machine, now.
#
#   bench/startup.sh                 # builds ours, installs the reference
#   RUNS=50 bench/startup.sh
#   OURS=/path/sandbox-agent REF=/path/sandbox-agent bench/startup.sh
#
# Environment:
#   RUNS         start-to-healthy repetitions per binary (default 20)
#   OURS         our binary (default: go build ./cmd/sandbox-agent into the temp dir)
#   REF          reference binary (default: npm install of REF_PKG into the temp dir)
#   REF_PKG      default @sandbox-agent/cli-linux-x64@0.4.2
#   SETTLE       seconds to let a server idle before reading its RSS (default 1)
#   POLL         seconds between health polls (default 0.005; the start time
#                is known to within about one poll interval)
#   KEEP_TMP=1   keep the temp dir (logs, homes) for inspection
#
# What is measured, per binary:
#   - start-to-healthy: from the spawn to the first "200" answer of
#     GET /v1/health, polled every ~5 ms with bash's /dev/tcp (no process is
#     forked per poll, so the poller does not blur the figure). The runs
#     alternate between the binaries, so both see the same machine noise.
#   - idle RSS: VmRSS of the server SETTLE seconds after it became healthy.
#   - RSS after 10 mock sessions with one turn each, of the server alone and
#     of the server with every descendant process. Our mock agent runs inside
#     the server; the reference's mock is an ACP agent, one child process
#     per session (`sandbox-agent mock-agent-process`), driven through its
#     /v1/acp/{server_id} JSON-RPC API (initialize, session/new,
#     session/prompt). The turns differ: ours echoes "hello" as a streamed
#     assistant message (~7 events), the reference's echoes the JSON-RPC
#     envelopes.
#
# Everything listens on 127.0.0.1. Each server runs in its own session
# (setsid) with its own temporary HOME, and is stopped with its process
# group (plus any recorded descendant) on exit.
set -euo pipefail

RUNS=${RUNS:-20}
REF_PKG=${REF_PKG:-@sandbox-agent/cli-linux-x64@0.4.2}
SETTLE=${SETTLE:-1}
POLL=${POLL:-0.005}
POLL_MAX=2000 # health polls per start before a start counts as failed
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sa-startup.XXXXXX")
declare -a live=()  # pids (= process group ids) of servers still running
declare -a extra=() # descendants recorded before a stop

stop_server() { # pid: TERM the group, then KILL what is left of it
	local pid=$1 i
	kill -TERM -- "-$pid" 2>/dev/null || true
	for ((i = 0; i < 200; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		read -r -t 0.01 -u 9 _ || true
	done
	kill -KILL -- "-$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

cleanup() {
	local pid
	for pid in "${live[@]}"; do stop_server "$pid"; done
	for pid in "${extra[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
	exec 9>&- 2>/dev/null || true
	if [[ ${KEEP_TMP:-} == 1 ]]; then echo "kept $tmp" >&2; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# fd 9 is a FIFO nobody writes: `read -t 0.005 -u 9` sleeps 5 ms without a fork.
mkfifo "$tmp/sleep.fifo"
exec 9<>"$tmp/sleep.fifo"
nap() { read -r -t "$1" -u 9 _ || true; }

free_port() {
	local p i
	for ((i = 0; i < 100; i++)); do
		p=$((20000 + RANDOM % 40000))
		if ! { exec 8<>"/dev/tcp/127.0.0.1/$p"; } 2>/dev/null; then
			echo "$p"
			return 0
		fi
		exec 8>&-
	done
	echo "no free port found" >&2
	return 1
}

# healthy port: one GET /v1/health over /dev/tcp; true on a 200.
healthy() {
	local line
	{ exec 7<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null || return 1
	printf 'GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >&7
	line=""
	read -r -t 2 -u 7 line || true
	exec 7>&-
	[[ $line == "HTTP/1."?" 200"* ]]
}

# spawn name bin port: start a server in its own session; sets SPAWNED.
spawn() {
	local name=$1 bin=$2 port=$3 home="$tmp/home-$1"
	mkdir -p "$home"
	setsid env -u XDG_DATA_HOME -u XDG_CONFIG_HOME -u XDG_STATE_HOME -u SANDBOX_AGENT_TOKEN \
		HOME="$home" SANDBOX_AGENT_BIN="$bin" \
		"$bin" server --no-token --host 127.0.0.1 --port "$port" "${flags[@]}" \
		</dev/null >>"$tmp/$name.log" 2>&1 &
	SPAWNED=$!
	live+=("$SPAWNED")
}

forget() { # pid: drop from the live list once stopped
	local keep=() p
	for p in "${live[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
	live=("${keep[@]}")
}

# start_timed name bin: one spawn → healthy; sets ELAPSED (µs), then stops it.
# (Not run in a $(...) subshell: the server must be this shell's child, so
# that the trap can stop it and wait can reap it.)
start_timed() {
	local name=$1 bin=$2 port t0 t1 i pid
	port=$(free_port)
	t0=${EPOCHREALTIME/./}
	spawn "$name" "$bin" "$port"
	pid=$SPAWNED
	for ((i = 0; i < POLL_MAX; i++)); do
		if healthy "$port"; then
			t1=${EPOCHREALTIME/./}
			stop_server "$pid"
			forget "$pid"
			ELAPSED=$((t1 - t0))
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || break
		nap "$POLL"
	done
	stop_server "$pid"
	forget "$pid"
	echo "$name did not become healthy (see $tmp/$name.log)" >&2
	return 1
}

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

descendants() { # pid: every descendant pid
	ps -e -o pid= -o ppid= | awk -v root="$1" '
		{ parent[$1] = $2 }
		END {
			found = 1; want[root] = 1
			while (found) { found = 0
				for (p in parent) if (!(p in want) && (parent[p] in want)) { want[p] = 1; found = 1 } }
			for (p in want) if (p != root) print p
		}'
}

tree_rss_kib() { # pid: RSS of it and its descendants
	local total d
	total=$(rss_kib "$1")
	for d in $(descendants "$1"); do total=$((total + $(rss_kib "$d"))); done
	echo "$total"
}

# ---- sessions: 10 mock sessions, one turn each --------------------------------

post() { curl -fsS -m 20 -X POST -H 'content-type: application/json' "$@"; }

ours_sessions() { # port
	local base="http://127.0.0.1:$1/v1/sessions" i j
	for ((i = 1; i <= 10; i++)); do
		post "$base/bench-$i" -d '{"agent":"mock"}' >/dev/null
		post "$base/bench-$i/messages" -d '{"message":"hello"}' >/dev/null
	done
	for ((i = 1; i <= 10; i++)); do # the turns run asynchronously: wait for each turn.ended
		for ((j = 0; j < 500; j++)); do
			curl -fsS -m 5 "$base/bench-$i/events" | grep -q '"turn.ended"' && break
			nap 0.01
		done
		((j < 500)) || { echo "ours: session $i did not end its turn" >&2; return 1; }
	done
}

ref_sessions() { # port
	local base="http://127.0.0.1:$1/v1/acp" i
	for ((i = 1; i <= 10; i++)); do
		post "$base/bench-$i?agent=mock" \
			-d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":1,"clientCapabilities":{}}}' >/dev/null
		post "$base/bench-$i" -d '{"jsonrpc":"2.0","id":2,"method":"session/new","params":{"cwd":"/tmp","mcpServers":[]}}' >/dev/null
		# session/prompt answers once the (echo) turn is over.
		post "$base/bench-$i" -d '{"jsonrpc":"2.0","id":3,"method":"session/prompt","params":{"sessionId":"bench-'$i'","prompt":[{"type":"text","text":"hello"}]}}' >/dev/null
	done
}

# measure_rss name bin sessions_fn: sets IDLE, AFTER, AFTER_TREE (KiB), PROCS.
measure_rss() {
	local name=$1 bin=$2 fn=$3 port pid i d
	port=$(free_port)
	spawn "$name-rss" "$bin" "$port"
	pid=$SPAWNED
	for ((i = 0; i < POLL_MAX; i++)); do
		healthy "$port" && break
		nap "$POLL"
	done
	((i < POLL_MAX)) || { echo "$name did not become healthy" >&2; return 1; }
	nap "$SETTLE"
	IDLE=$(rss_kib "$pid")
	"$fn" "$port"
	nap "$SETTLE"
	AFTER=$(rss_kib "$pid")
	AFTER_TREE=$(tree_rss_kib "$pid")
	PROCS=$(($(descendants "$pid" | wc -l) + 1))
	for d in $(descendants "$pid"); do extra+=("$d"); done
	stop_server "$pid"
	forget "$pid"
}

# ---- binaries -------------------------------------------------------------------

if [[ -z ${OURS:-} ]]; then
	echo "building ours ..." >&2
	(cd "$root" && go build -o "$tmp/ours/sandbox-agent" ./cmd/sandbox-agent)
	OURS="$tmp/ours/sandbox-agent"
fi
if [[ -z ${REF:-} ]]; then
	echo "installing reference $REF_PKG ..." >&2
	npm install --prefix "$tmp/ref" --no-save --no-audit --no-fund --loglevel=error "$REF_PKG" >&2
	REF=$(find "$tmp/ref/node_modules/@sandbox-agent" -path '*/bin/sandbox-agent' -type f | head -n 1)
	[[ -n $REF ]] || { echo "no bin/sandbox-agent in $REF_PKG" >&2; exit 1; }
	chmod +x "$REF"
fi
ours_version=$("$OURS" --version 2>/dev/null | head -n 1 || echo "?")
ref_version=$("$REF" --version 2>/dev/null | head -n 1 || echo "?")

# The reference's mock agent is a launcher script it installs into its data
# dir; install it up front (offline: it is built in) so that no start pays
# for it and sessions can be created.
mkdir -p "$tmp/home-ref" "$tmp/home-ref-rss"
for h in ref ref-rss; do
	env -u XDG_DATA_HOME HOME="$tmp/home-$h" "$REF" install-agent mock >/dev/null 2>>"$tmp/ref-install.log"
done

# ---- start-to-healthy -------------------------------------------------------------

declare -a t_ours=() t_ref=()
echo "start-to-healthy: $RUNS runs each, alternating ..." >&2
for ((r = 0; r < RUNS; r++)); do
	flags=()
	start_timed ours "$OURS"
	t_ours+=("$ELAPSED")
	flags=(--no-telemetry)
	start_timed ref "$REF"
	t_ref+=("$ELAPSED")
done

stats() { # values in µs → "median p90" in ms
	printf '%s\n' "$@" | sort -n | awk '
		{ v[NR] = $1 }
		END {
			med = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			i = int(0.9 * NR); if (i < 0.9 * NR) i++   # nearest rank
			printf "%.2f %.2f\n", med / 1000, v[i] / 1000
		}'
}
read -r ours_med ours_p90 < <(stats "${t_ours[@]}")
read -r ref_med ref_p90 < <(stats "${t_ref[@]}")

# ---- memory -----------------------------------------------------------------------

echo "memory: idle, then 10 mock sessions with one turn each ..." >&2
flags=()
measure_rss ours "$OURS" ours_sessions
o_idle=$IDLE o_after=$AFTER o_tree=$AFTER_TREE o_procs=$PROCS
flags=(--no-telemetry)
measure_rss ref "$REF" ref_sessions
r_idle=$IDLE r_after=$AFTER r_tree=$AFTER_TREE r_procs=$PROCS

size_kib() { echo $(($(stat -c %s "$1") / 1024)); }

# ---- report -----------------------------------------------------------------------

row() { # label ours ref unit-divisor decimals
	awk -v l="$1" -v o="$2" -v r="$3" -v d="$4" -v p="$5" 'BEGIN {
		fmt = "%-44s %12." p "f %12." p "f %9s\n"
		ratio = (r > 0) ? sprintf("%.2f", o / r) : "n/a"
		printf fmt, l, o / d, r / d, ratio
	}'
}
echo
echo "ours:      $OURS ($ours_version)"
echo "reference: $REF ($ref_version)"
echo "machine:   $(nproc) cores, $(uname -sr); $RUNS start runs each, polled every ${POLL}s"
echo
printf '%-44s %12s %12s %9s\n' "metric" "ours" "reference" "ours/ref"
row "start-to-healthy median (ms)" "$ours_med" "$ref_med" 1 2
row "start-to-healthy p90 (ms)" "$ours_p90" "$ref_p90" 1 2
row "idle RSS (MiB)" "$o_idle" "$r_idle" 1024 1
row "RSS, 10 sessions + 1 turn each (MiB)" "$o_after" "$r_after" 1024 1
row "  same, with agent processes (MiB)" "$o_tree" "$r_tree" 1024 1
row "  processes" "$o_procs" "$r_procs" 1 0
row "binary size (MiB)" "$(size_kib "$OURS")" "$(size_kib "$REF")" 1024 1
