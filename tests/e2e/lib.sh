# lib.sh - shared shell library of the end-to-end tests (sourced by bash).
#
# Each test is run by ctest as:  bash tests/e2e/tNN_name.sh WRAPD SRCDIR
# and exits 0 (pass), 1 (fail), 77 (skip: a tool or privilege is missing).
#
# The library gives every test a private work folder, starts processes in
# the background and remembers their PIDs, creates network namespaces with
# unique names, and undoes all of it in an EXIT trap, whatever happened.
# Nothing is ever stopped by name: only the PIDs this test started (and
# their direct children) are signalled.

set -u

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PY=/usr/bin/python3
HELPER="$E2E_DIR/e2e.py"

WRAPD=${1:?usage: $0 WRAPD SRCDIR}
SRCDIR=${2:-$(cd "$E2E_DIR/../.." && pwd)}
case $WRAPD in /*) ;; *) WRAPD="$PWD/$WRAPD" ;; esac

E2E_NAME=$(basename "$0" .sh)
W=$(mktemp -d "/tmp/wrapd-e2e-$E2E_NAME.XXXXXX")
chmod 755 "$W"
E2E_PIDS=()
E2E_NETNS=()
E2E_CLEANUP=()  # extra shell commands run at exit, last first
E2E_FAILED=0

# ASan builds pass this (from CMake) so the payload tests stay quick.
E2E_BIG=${WRAPD_E2E_BIG:-${WRAPD_E2E_BIG_DEFAULT:-1073741824}}

e2e_log() { printf '%s: %s\n' "$E2E_NAME" "$*" >&2; }

e2e_dump() {
	local f
	for f in "$W"/*.err "$W"/*.log "$W"/*.out; do
		[ -s "$f" ] || continue
		printf -- '--- %s (last 60 lines)\n' "${f#"$W"/}" >&2
		tail -n 60 "$f" >&2
	done
}

# Stop one PID we started: TERM, bounded wait, then KILL.  Its direct
# children (inetd's or wrapd's per-connection processes) go first.
e2e_kill() {
	local pid=$1 kids k i
	kill -0 "$pid" 2>/dev/null || return 0
	kids=$(pgrep -P "$pid" 2>/dev/null || true)
	kill -TERM "$pid" 2>/dev/null
	for k in $kids; do kill -TERM "$k" 2>/dev/null; done
	for i in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || break
		# A zombie that is not our child counts as gone.
		[ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = Z ] && break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	for k in $kids; do kill -KILL "$k" 2>/dev/null; done
	wait "$pid" 2>/dev/null
	return 0
}

# Sanitizer reports from any wrapd this test ran (per-connection ones under
# inetd or systemd-socket-activate included) fail the test.
e2e_sanitizer_check() {
	local f
	for f in "$W"/*.err "$W"/*.log "$W"/*.out; do
		[ -f "$f" ] || continue
		if grep -Eq 'ERROR: (Address|Leak|Undefined)Sanitizer|runtime error:' "$f"; then
			e2e_log "FAIL: sanitizer report in ${f#"$W"/}"
			return 1
		fi
	done
	return 0
}

e2e_cleanup() {
	local rc=$? i ns
	trap - EXIT INT TERM
	[ "$E2E_FAILED" = 1 ] && rc=1
	if [ "$rc" = 0 ] && ! e2e_sanitizer_check; then
		rc=1
	fi
	if [ "$rc" != 0 ] && [ "$rc" != 77 ]; then
		e2e_dump
	fi
	for ((i = ${#E2E_PIDS[@]} - 1; i >= 0; i--)); do
		e2e_kill "${E2E_PIDS[$i]}"
	done
	for ((i = ${#E2E_CLEANUP[@]} - 1; i >= 0; i--)); do
		eval "${E2E_CLEANUP[$i]}" 2>/dev/null
	done
	for ns in "${E2E_NETNS[@]+"${E2E_NETNS[@]}"}"; do
		ip netns delete "$ns" 2>/dev/null
		rm -rf "/etc/netns/$ns"
	done
	if [ -z "${E2E_KEEP:-}" ]; then
		rm -rf "$W"
	else
		e2e_log "kept $W"
	fi
	case $rc in
	0) e2e_log PASS ;;
	77) e2e_log SKIP ;;
	*) e2e_log FAIL ;;
	esac
	exit "$rc"
}
trap e2e_cleanup EXIT
trap 'exit 1' INT TERM

e2e_fail() {
	e2e_log "FAIL: $*"
	E2E_FAILED=1
	exit 1
}

# e2e_softfail MSG - record a failure but go on with the independent parts
# of the test; the test still exits 1.
e2e_softfail() {
	e2e_log "FAIL: $*"
	E2E_FAILED=1
}

e2e_skip() {
	e2e_log "SKIP: $*"
	exit 77
}

e2e_require_root() {
	[ "$(id -u)" = 0 ] || e2e_skip "needs root"
}

e2e_require_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || [ -x "$c" ] ||
			e2e_skip "needs $c (contrib/install-deps.sh installs it)"
	done
}

# e2e_bg NAME CMD... - start CMD in the background; stdout to $W/NAME.out,
# stderr to $W/NAME.err; sets E2E_LAST_PID.
e2e_bg() {
	local name=$1
	shift
	"$@" >"$W/$name.out" 2>"$W/$name.err" </dev/null &
	E2E_LAST_PID=$!
	E2E_PIDS+=("$E2E_LAST_PID")
}

# A free TCP port (on 127.0.0.1, ::1 and 0.0.0.0), picked at random outside
# the ephemeral range so parallel tests and outgoing connections rarely meet.
# Usage: e2e_port VAR.
e2e_port() {
	local p
	p=$("$PY" "$HELPER" freeport) || e2e_fail "no free port"
	printf -v "$1" '%s' "$p"
}

# e2e_wait_listen PORT [NETNS] [PID] - until something listens on TCP PORT.
# Bounded: 30 s (an event wait, not a timed assertion).
e2e_wait_listen() {
	local port=$1 ns=${2:-} pid=${3:-} i
	for i in $(seq 300); do
		if [ -n "$ns" ]; then
			ip netns exec "$ns" ss -Hltn "sport = :$port" | grep -q . && return 0
		else
			ss -Hltn "sport = :$port" | grep -q . && return 0
		fi
		if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
			e2e_fail "process $pid exited before listening on port $port"
		fi
		sleep 0.1
	done
	e2e_fail "nothing listens on port $port${ns:+ in $ns}"
}

# e2e_wait_unlisten PORT [NETNS] - until nothing listens on TCP PORT.
e2e_wait_unlisten() {
	local port=$1 ns=${2:-} i
	for i in $(seq 300); do
		if [ -n "$ns" ]; then
			ip netns exec "$ns" ss -Hltn "sport = :$port" | grep -q . || return 0
		else
			ss -Hltn "sport = :$port" | grep -q . || return 0
		fi
		sleep 0.1
	done
	e2e_fail "port $port still listening${ns:+ in $ns}"
}

# e2e_wait_file FILE [PID] - until FILE exists (30 s bound).
e2e_wait_file() {
	local f=$1 pid=${2:-} i
	for i in $(seq 300); do
		[ -e "$f" ] && return 0
		if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
			e2e_fail "process $pid exited before creating $f"
		fi
		sleep 0.1
	done
	e2e_fail "timed out waiting for $f"
}

# e2e_wait_grep PATTERN FILE - until an extended regex appears in FILE.
e2e_wait_grep() {
	local pat=$1 f=$2 i
	for i in $(seq 300); do
		grep -Eq -- "$pat" "$f" 2>/dev/null && return 0
		sleep 0.1
	done
	e2e_fail "no line matching /$pat/ in ${f#"$W"/}"
}

# e2e_wait_exit PID - until PID exits (60 s bound); sets E2E_EXIT to its
# status (only meaningful for our own children).
e2e_wait_exit() {
	local pid=$1 i
	for i in $(seq 600); do
		kill -0 "$pid" 2>/dev/null || break
		[ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = Z ] && break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null &&
		[ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ] &&
		e2e_fail "process $pid did not exit"
	wait "$pid"
	E2E_EXIT=$?
}

# e2e_stop_wrapd PID - SIGTERM, then wrapd must exit 0 (no crash, and no
# leak report in sanitizer builds).
e2e_stop_wrapd() {
	kill -TERM "$1" 2>/dev/null || e2e_fail "wrapd $1 is gone before SIGTERM"
	e2e_wait_exit "$1"
	[ "$E2E_EXIT" = 0 ] || e2e_fail "wrapd $1 exited $E2E_EXIT on SIGTERM, want 0"
	e2e_log "ok: wrapd exited 0 on SIGTERM"
}

# e2e_echo_backend NAME LISTEN [NETNS] [--vanish] - start the echo backend
# (LISTEN: HOST:PORT or unix:PATH), log in $W/NAME.log; waits until ready.
e2e_echo_backend() {
	local name=$1 listen=$2 ns=${3:-} extra=${4:-} pre=() where
	[ -n "$ns" ] && pre=(ip netns exec "$ns")
	case $listen in
	unix:*) where=(--unix "${listen#unix:}") ;;
	*) where=(--listen "$listen") ;;
	esac
	: >"$W/$name.log"
	e2e_bg "$name" "${pre[@]+"${pre[@]}"}" "$PY" "$HELPER" echo "${where[@]}" \
		--log "$W/$name.log" --ready "$W/$name.ready" $extra
	e2e_wait_file "$W/$name.ready" "$E2E_LAST_PID"
}

# e2e_client [NETNS] -- ARGS: run the client helper, print its outcome word.
e2e_client() {
	local pre=()
	if [ "$1" != -- ]; then
		pre=(ip netns exec "$1")
		shift
	fi
	shift
	"${pre[@]+"${pre[@]}"}" "$PY" "$HELPER" client "$@"
}

# e2e_expect WHAT GOT WANT - compare an outcome.
e2e_expect() {
	[ "$2" = "$3" ] || e2e_fail "$1: got '$2', want '$3'"
	e2e_log "ok: $1 -> $2"
}

# e2e_logcheck FILE [--count N] [--json] [--wait S] COND... - assert wrapd's
# per-connection log lines (see e2e.py logcheck).  Waits up to 10 s by
# default, since a line may be written when the connection closes.
e2e_logcheck() {
	"$PY" "$HELPER" logcheck --wait 10 "$@" >&2 || e2e_fail "log assertion: $*"
	e2e_log "ok: log has $*"
}

# Lines of the backend's own log that mention TEXT (how many connections
# carrying TEXT reached it).
e2e_backend_count() {
	grep -c -F -- "$1" "$2" || true
}

# e2e_netns - create a fresh network namespace with lo up; prints its name.
E2E_NSSEQ=0
e2e_netns() {
	local ns
	E2E_NSSEQ=$((E2E_NSSEQ + 1))
	ns="wrapd-e2e-$$-$E2E_NSSEQ"
	ip netns add "$ns" || e2e_fail "ip netns add $ns"
	E2E_NETNS+=("$ns")
	ip -n "$ns" link set lo up || e2e_fail "lo up in $ns"
	E2E_NS=$ns
}

# The rules files and config paths used in logs: keep them absolute.
e2e_write() {
	# e2e_write FILE <<EOF ... - write a file atomically (rename).
	cat >"$1.tmp.$$" && mv -f "$1.tmp.$$" "$1"
}

e2e_require_root_netns() {
	e2e_require_root
	e2e_require_cmd ip ss
	ip netns list >/dev/null 2>&1 || e2e_skip "no network namespaces"
}

e2e_require_cmd "$PY" ss pgrep
[ -x "$WRAPD" ] || e2e_fail "wrapd binary $WRAPD not found"

# e2e_match_agrees LOG DAEMON CLIENT [NETNS] [MATCH-OPTIONS...] - the oracle
# and the proxy agree: `wrapd match --json` predicts a verdict and a rule
# file:line for DAEMON and CLIENT, and LOG has a connection line from
# CLIENT with exactly that verdict and rule.
e2e_match_agrees() {
	local log=$1 daemon=$2 client=$3 ns=${4:-} pre=() out v r
	shift 4 2>/dev/null || shift $#
	[ -n "$ns" ] && pre=(ip netns exec "$ns")
	out=$("${pre[@]+"${pre[@]}"}" "$WRAPD" match "$@" --json "$daemon" "$client") ||
		e2e_fail "wrapd match $daemon $client failed: $out"
	read -r v r < <("$PY" -c '
import json, sys
d = json.loads(sys.argv[1])
print(d["verdict"], "%s:%s" % (d["file"], d["line"]))' "$out") ||
		e2e_fail "wrapd match output: $out"
	"$PY" "$HELPER" logcheck --wait 10 "$log" client="$client" verdict="$v" rule="$r" >&2 ||
		e2e_fail "proxy and 'wrapd match' disagree for $client: match says $v $r"
	e2e_log "ok: wrapd match agrees for $client: $v $r"
}

# e2e_libwrap_agrees LOG DAEMON CLIENT ALLOW DENY [AS] - Debian's libwrap
# (tcpdmatch, with ALLOW and DENY bind-mounted over /etc/hosts.allow and
# /etc/hosts.deny in a private mount namespace) decides CLIENT (or AS, e.g.
# the v4-mapped form) the way the proxy did for CLIENT in LOG.  Needs root
# and tcpdmatch (package tcpd); says so and returns when they are missing.
e2e_libwrap_agrees() {
	local log=$1 daemon=$2 client=$3 allow=$4 deny=$5 as=${6:-$3} out v
	if [ "$(id -u)" != 0 ] || ! command -v tcpdmatch >/dev/null ||
	    [ ! -f /etc/hosts.allow ] || [ ! -f /etc/hosts.deny ]; then
		e2e_log "note: libwrap cross-check skipped (needs root and tcpdmatch)"
		return 0
	fi
	out=$(unshare -m sh -c 'mount --bind "$1" /etc/hosts.allow &&
		mount --bind "$2" /etc/hosts.deny && exec tcpdmatch "$3" "$4"' \
		sh "$allow" "$deny" "$daemon" "$as" 2>&1) ||
		e2e_fail "tcpdmatch $daemon $as failed: $out"
	case $out in
	*"access:   granted"*) v=grant ;; # tcpdmatch aligns its columns
	*"access:   denied"*) v=deny ;;
	*) e2e_fail "tcpdmatch $daemon $as: no verdict in: $out" ;;
	esac
	"$PY" "$HELPER" logcheck --wait 10 "$log" client="$client" verdict="$v" >&2 ||
		e2e_fail "proxy and libwrap disagree for $client: libwrap says $v"
	e2e_log "ok: libwrap agrees for $as: $v"
}
