#!/usr/bin/env bash
# bench/run.sh - measure wrapd against a direct connection and its peers in
# one run, and write bench/RESULTS.md.
#
#   bench/run.sh [--quick] [--peers "direct wrapd ..."] [--no-install]
#                [--no-build] [--skip-rules] [--skip-dns] [--skip-profile]
#                [--out FILE]
#
# Needs root (peers, perf, network namespaces).  All traffic stays on
# loopback or inside a network namespace this script creates and removes.
# Every load is bounded in bytes/count and in time; every process started
# here is stopped by its own pid/process group on exit.  See bench/README.md.
set -uo pipefail

BENCH_ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH_DIR=$BENCH_ROOT/bench
BUILD=$BENCH_ROOT/build/bench

RUN_CMD="bench/run.sh${1+ }$*"
quick=0
peers=""
do_install=1
do_build=1
do_rules=1
do_dns=1
do_profile=1
out=$BENCH_DIR/RESULTS.md

usage() {
	sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
	exit 2
}

while [ $# -gt 0 ]; do
	case $1 in
	--quick) quick=1 ;;
	--peers) peers=$2; shift ;;
	--no-install) do_install=0 ;;
	--no-build) do_build=0 ;;
	--skip-rules) do_rules=0 ;;
	--skip-dns) do_dns=0 ;;
	--skip-profile) do_profile=0 ;;
	--out) out=$2; shift ;;
	-h | --help) usage ;;
	*) echo "run.sh: unknown option $1" >&2; usage ;;
	esac
	shift
done

if [ "$quick" = 1 ]; then
	BULK_BYTES=512M BULK_SECS=1.5 RR_COUNT=3000 CR_SECS=1.5
	IDLE_COUNTS="500" IDLE_FORK_MAX=200 IDLE_SECS=15 PROFILE_SECS=2 DNS_SECS=2
	mode_name="quick"
else
	BULK_BYTES=4G BULK_SECS=5 RR_COUNT=20000 CR_SECS=4
	IDLE_COUNTS="5000 20000" IDLE_FORK_MAX=1500 IDLE_SECS=30 PROFILE_SECS=5 DNS_SECS=4
	mode_name="full"
fi
CR_THREADS=4
SRC_RANGE=2-20

[ "$(id -u)" = 0 ] || { echo "run.sh: needs root" >&2; exit 2; }

mkdir -p "$BENCH_DIR/out"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
RAW=$BENCH_DIR/out/run-$stamp.log
: >"$RAW"
BENCH_TMP=$(mktemp -d /tmp/wrapd-bench.XXXXXX)
export BENCH_TMP BENCH_ROOT

say() { printf '%s\n' "$*" | tee -a "$RAW"; }
log() { printf '%s\n' "$*" >>"$RAW"; }

# ---- cleanup: everything we started, by pid ----------------------------
BACKEND_PID=""
NETNS=""
EXTRA_PIDS=()
IDLE_LG_PID=""
cleanup() {
	trap - EXIT INT TERM
	exec 9>&- 2>/dev/null	# the idle loadgen's stdin fifo
	[ -n "$IDLE_LG_PID" ] && kill -TERM "$IDLE_LG_PID" 2>/dev/null
	peer_stop 2>/dev/null
	local p
	for p in "${EXTRA_PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	[ -n "$BACKEND_PID" ] && kill -TERM "$BACKEND_PID" 2>/dev/null
	if [ -n "$NETNS" ]; then
		dns_kill_ns
		ip netns del "$NETNS" 2>/dev/null
		rm -rf "/etc/netns/$NETNS"
	fi
	for p in $BACKEND_PID $IDLE_LG_PID "${EXTRA_PIDS[@]}"; do
		wait "$p" 2>/dev/null
	done
	rm -rf "$BENCH_TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# shellcheck source=proxy/peers.sh
. "$BENCH_DIR/proxy/peers.sh"
# shellcheck source=proxy/profile.sh
. "$BENCH_DIR/proxy/profile.sh"
# shellcheck source=proxy/dnsbench.sh
. "$BENCH_DIR/proxy/dnsbench.sh"
# shellcheck source=proxy/report.sh
. "$BENCH_DIR/proxy/report.sh"

# ---- install and build --------------------------------------------------
t_begin=$(date +%s)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
if [ "$do_install" = 1 ]; then
	say "== installing peers (contrib/install-deps.sh --bench)"
	for try in 1 2 3 4 5 6; do
		sh "$BENCH_ROOT/contrib/install-deps.sh" --bench >>"$RAW" 2>&1 && break
		say "   install-deps failed (try $try; dpkg lock held by someone else?), retrying in 10 s"
		sleep 10
	done
fi

WRAPD=$BUILD/proxy/wrapd
LOADGEN=$BUILD/bench/proxy/loadgen
BACKEND=$BUILD/bench/proxy/backend
if [ "$do_build" = 1 ]; then
	say "== building (Release) into build/bench"
	cmake -S "$BENCH_ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release \
	    -DWRAPD_TESTS=OFF >>"$RAW" 2>&1 || { say "cmake failed, see $RAW"; exit 1; }
	cmake --build "$BUILD" -j"$(nproc)" --target bench_loadgen bench_backend \
	    >>"$RAW" 2>&1 || { say "building the bench tools failed, see $RAW"; exit 1; }
	if ! cmake --build "$BUILD" -j"$(nproc)" --target wrapd >>"$RAW" 2>&1; then
		say "   wrapd did not build (see $RAW); its rows will be missing"
		rm -f "$WRAPD"
	fi
fi
[ -x "$LOADGEN" ] && [ -x "$BACKEND" ] || { say "bench tools not built"; exit 1; }
WRAPD_REV=$(git -C "$BENCH_ROOT" describe --always --dirty 2>/dev/null || echo '?')

# wrapd in quick mode must actually run, or its rows say why not.
# Options are added only if this wrapd has them: the harness must work
# with whatever the proxy supports at the time.
WRAPD_EXTRA=""
WRAPD_STATE="ok"
WRAPD_OPTS=()
WRAPD_WORKERS=0
if [ ! -x "$WRAPD" ]; then
	WRAPD_STATE="not built"
else
	wrapd_help=$("$WRAPD" --help 2>&1)
	# no syslog: there may be no syslogd, or a test's /dev/log listener
	[[ $wrapd_help == *--no-syslog* ]] && WRAPD_OPTS+=(--no-syslog)
	# the default (512) would refuse the idle-connection test
	[[ $wrapd_help == *--max-connections* ]] && WRAPD_OPTS+=(--max-connections 10000)
	[[ $wrapd_help == *--workers* ]] && WRAPD_WORKERS=1
fi

ncpu=$(nproc)
# As many fds as we may have: clients hold N, proxies 2N (+pipes).
ulimit -Hn 1048576 2>/dev/null || ulimit -Hn 262144 2>/dev/null
ulimit -n "$(ulimit -Hn)" 2>/dev/null
NOFILE=$(ulimit -n)

[ -n "$peers" ] || peers="$PEERS_ALL"
if [ "$WRAPD_WORKERS" = 1 ] && [[ " $peers " == *" wrapd "* ]] &&
    [[ " $peers " != *" wrapd-w"* ]]; then
	peers="${peers/wrapd/wrapd wrapd-w1 wrapd-w2}"
fi

# ---- results ---------------------------------------------------------------
declare -A R	# "peer metric" -> value
declare -A NOTE	# "peer metric" -> why it is missing / what failed
put() { R["$1 $2"]=$3; log "RESULT $1 $2 = $3"; }
note() {
	local k="$1 $2"
	NOTE[$k]="${NOTE[$k]:+${NOTE[$k]}; }$3"
	log "NOTE $1 $2: $3"
}
get() { printf '%s' "${R["$1 $2"]-}"; }

# Idle counts the fd limit cannot hold are reported once, not per peer: a
# proxy needs 2 fds per connection (4 with splice pipes), and the limit
# is a hard one that root cannot raise in this environment.
idle_fit=""
for n in $IDLE_COUNTS; do
	if [ $((2 * n + 64)) -gt "$NOFILE" ]; then
		note all "idle$n" "not measured: the fd limit is $NOFILE (hard; raising it failed) and a proxy needs 2 fds per connection"
	else
		idle_fit="$idle_fit $n"
	fi
done
IDLE_COUNTS=${idle_fit# }

# kv LINE KEY: the value of KEY=... in a loadgen result line
kv() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -1; }

# free_port: a TCP port nobody uses and that we did not hand out before.
# The counter lives in a file because callers run it in $(...) subshells.
echo $((20000 + ($$ % 2000) * 10)) >"$BENCH_TMP/next_port"
free_port() {
	local p
	p=$(cat "$BENCH_TMP/next_port")
	while :; do
		p=$((p + 1))
		[ "$p" -gt 32000 ] && p=20000
		[ -n "$(ss -Htan "sport = :$p" 2>/dev/null)" ] || break
	done
	echo "$p" >"$BENCH_TMP/next_port"
	echo "$p"
}

# lg ARGS...: run the load generator (bounded by timeout), echo its line
PIN=()
lg() {
	local line
	line=$(timeout -k 2 120 "${PIN[@]}" "$LOADGEN" "$@" 2>>"$RAW")
	log "  loadgen $* -> $line"
	printf '%s' "$line"
}

# proc_cpu_ticks PID: user+system clock ticks of PID's tree, including
# reaped children (cutime/cstime).
proc_cpu_ticks() {
	local pids
	pids=$(peer_tree "$1")
	# shellcheck disable=SC2086
	printf '/proc/%s/stat\n' $pids | xargs cat 2>/dev/null |
	    sed 's/^.*) //' | awk '{ t += $12 + $13 + $14 + $15 } END { print t + 0 }'
	return 0
}
# peer_ticks: proc_cpu_ticks of the running peer, 0 for direct
peer_ticks() {
	if [ -n "$PEER_PID" ]; then proc_cpu_ticks "$PEER_PID"; else echo 0; fi
}
CLK_TCK=$(getconf CLK_TCK)

# ---- backend ------------------------------------------------------------
B_SINK=$(free_port); B_SOURCE=$(free_port); B_ECHO=$(free_port)
"$BACKEND" -t "$ncpu" "sink=127.0.0.1:$B_SINK" "source=127.0.0.1:$B_SOURCE" \
    "echo=127.0.0.1:$B_ECHO" >"$BENCH_TMP/backend.out" 2>&1 &
BACKEND_PID=$!
for _ in $(seq 1 50); do grep -q ready "$BENCH_TMP/backend.out" && break; sleep 0.1; done
grep -q ready "$BENCH_TMP/backend.out" || { say "backend did not start"; cat "$BENCH_TMP/backend.out"; exit 1; }

backend_pin() { taskset -a -p -c "$1" "$BACKEND_PID" >/dev/null 2>&1; }

# ---- the measurements for one peer ----------------------------------------

# start NAME BPORT [PIN]: start peer, note failure under metric $3... 
start_or_note() {
	local name=$1 bport=$2 metric=$3 pin=${4-}
	if ! peer_start "$name" "$(free_port)" "$bport" "$pin" 2>>"$RAW"; then
		note "$name" "$metric" "did not start"
		return 1
	fi
	return 0
}

bulk_tests() {
	local p=$1 line t0 t1 c
	for dir in up down; do
		local bport=$B_SINK mode=upload
		[ $dir = down ] && bport=$B_SOURCE mode=download
		start_or_note "$p" "$bport" "${dir}1" || continue
		for c in 1 4; do
			t0=$(peer_ticks)
			line=$(lg "$mode" --connect "127.0.0.1:$PEER_PORT" --conns $c \
			    --bytes "$BULK_BYTES" --seconds "$BULK_SECS")
			t1=$(peer_ticks)
			local mbps bytes
			mbps=$(kv "$line" MBps)
			bytes=$(kv "$line" bytes)
			if [ -n "$mbps" ] && [ "${bytes:-0}" != 0 ]; then
				put "$p" "$dir$c" "$mbps"
				# proxy CPU seconds per GB moved
				[ -n "$PEER_PID" ] && put "$p" "${dir}${c}_cpu" \
				    "$(awk -v t=$((t1 - t0)) -v hz="$CLK_TCK" -v b="$bytes" \
				    'BEGIN { printf "%.2f", t / hz / (b / 1e9) }')"
			else
				note "$p" "$dir$c" "failed: ${line:-no output}"
			fi
			[ -n "$(kv "$line" first_error)" ] && note "$p" "$dir$c" "error: $(kv "$line" first_error)"
		done
		peer_stop
	done
}

rr_test() {
	local p=$1 pin=${2-} key=rr line
	[ -n "$pin" ] && key=rrpin
	start_or_note "$p" "$B_ECHO" "$key" "$pin" || return 0
	if [ -n "$pin" ]; then
		backend_pin 0
		PIN=(taskset -c 0)
	fi
	line=$(lg rr --connect "127.0.0.1:$PEER_PORT" --count "$RR_COUNT" --seconds 20)
	PIN=()
	[ -n "$pin" ] && backend_pin "0-$((ncpu - 1))"
	if [ -n "$(kv "$line" p50_us)" ] && [ "$(kv "$line" count)" != 0 ]; then
		put "$p" "${key}_p50" "$(kv "$line" p50_us)"
		put "$p" "${key}_p99" "$(kv "$line" p99_us)"
		put "$p" "${key}_p999" "$(kv "$line" p999_us)"
		[ "$(kv "$line" count)" != "$RR_COUNT" ] &&
			note "$p" "$key" "only $(kv "$line" count) of $RR_COUNT round trips"
	else
		note "$p" "$key" "failed: ${line:-no output}"
	fi
	[ -n "$(kv "$line" error)" ] && note "$p" "$key" "error: $(kv "$line" error)"
	# leave the echo peer running for the idle test (mem_tests)
}

connrate_test() {
	local p=$1 line t0 t1 ok
	start_or_note "$p" "$B_ECHO" cr || return 0
	t0=$(peer_ticks)
	line=$(lg connrate --connect "127.0.0.1:$PEER_PORT" --threads "$CR_THREADS" \
	    --seconds "$CR_SECS" --count 2000000 --src "$SRC_RANGE")
	t1=$(peer_ticks)
	ok=$(kv "$line" ok)
	if [ -n "$ok" ] && [ "$ok" != 0 ]; then
		put "$p" cr_rate "$(kv "$line" rate)"
		put "$p" cr_p50 "$(kv "$line" p50_us)"
		put "$p" cr_p99 "$(kv "$line" p99_us)"
		put "$p" cr_err "$(kv "$line" errors)"
		[ -n "$PEER_PID" ] && put "$p" cr_cpu \
		    "$(awk -v t=$((t1 - t0)) -v hz="$CLK_TCK" -v n="$ok" \
		    'BEGIN { printf "%.1f", t / hz / n * 1e6 }')"
	else
		note "$p" cr "failed: ${line:-no output}"
	fi
	[ -n "$(kv "$line" first_error)" ] && note "$p" cr "error: $(kv "$line" first_error) ($(kv "$line" errors) failed)"
	log "  TIME_WAIT sockets now: $(ss -Htan state time-wait | wc -l)"
	peer_stop
}

# idle_test PEER N: memory per idle connection (peer must be running on echo)
idle_test() {
	local p=$1 n=$2 key=idle$2 before after line fifo lgpid i
	if [ -z "$PEER_PID" ]; then
		return 0
	fi
	sleep 0.3
	before=$(peer_mem "$PEER_PID")
	fifo=$BENCH_TMP/idle.fifo
	rm -f "$fifo"; mkfifo "$fifo"
	# one process per connection: fork/exec cost makes thousands slow, and
	# per-connection memory is what is measured, so fewer do
	case $p in
	socat | inetd-tcpd)
		if [ "$n" -gt "$IDLE_FORK_MAX" ]; then
			note "$p" "$key" "opened $IDLE_FORK_MAX, not $n: one process per connection"
			n=$IDLE_FORK_MAX
		fi ;;
	esac
	timeout -k 2 200 "$LOADGEN" idle --connect "127.0.0.1:$PEER_PORT" \
	    --conns "$n" --threads 8 --seconds "$IDLE_SECS" --hold 120 --src "$SRC_RANGE" \
	    <"$fifo" >"$BENCH_TMP/idle.out" 2>>"$RAW" &
	lgpid=$!
	IDLE_LG_PID=$lgpid
	exec 9>"$fifo"
	# the loadgen opens for up to IDLE_SECS and checks for as long again
	for i in $(seq 1 $((IDLE_SECS * 20 + 100))); do
		grep -q READY "$BENCH_TMP/idle.out" && break
		kill -0 "$lgpid" 2>/dev/null || break
		sleep 0.1
	done
	sleep 0.5
	line=$(grep READY "$BENCH_TMP/idle.out")
	after=$(peer_mem "$PEER_PID")
	exec 9>&-
	wait "$lgpid" 2>/dev/null
	IDLE_LG_PID=""
	log "  idle $p n=$n: $line; mem before=[$before] after=[$after]"
	local alive
	alive=$(kv "$line" held)
	if [ -z "$alive" ] || [ "$alive" = 0 ]; then
		note "$p" "$key" "failed: ${line:-no READY line}"
		return 0
	fi
	set -- $before; local pss0=$1 pd0=$2
	set -- $after; local pss1=$1 pd1=$2 nproc1=$4
	put "$p" "${key}_alive" "$alive"
	put "$p" "${key}_pss" "$(awk -v a="$pss1" -v b="$pss0" -v n="$alive" 'BEGIN { printf "%.2f", (a - b) / n }')"
	put "$p" "${key}_pd" "$(awk -v a="$pd1" -v b="$pd0" -v n="$alive" 'BEGIN { printf "%.2f", (a - b) / n }')"
	put "$p" "${key}_base" "$pss0"
	put "$p" "${key}_nproc" "$nproc1"
	if [ "$alive" != "$n" ]; then
		local hint
		hint=$(peer_log_hint)
		note "$p" "$key" "only $alive of $n held ($(kv "$line" failed) failed: $(kv "$line" first_error))${hint:+; the proxy logged: $hint}"
	fi
	[ "$(kv "$line" unchecked)" != 0 ] &&
		note "$p" "$key" "$(kv "$line" unchecked) of the held connections were not checked a second time within ${IDLE_SECS} s (the proxy served the check slowly: $(kv "$line" alive) checks in $(kv "$line" seconds) s)"
	[ "$(kv "$line" dead)" != 0 ] &&
		note "$p" "$key" "$(kv "$line" dead) connections opened fine but failed the second check"
}

bench_peer() {
	local p=$1 n
	if ! peer_available "$p"; then
		note "$p" all "not measured: $PEER_WHY"
		say "-- $p: skipped ($PEER_WHY)"
		return
	fi
	case $p in wrapd-w[0-9]*) WRAPD_EXTRA="--workers ${p#wrapd-w}" ;; *) WRAPD_EXTRA="" ;; esac
	say "-- $p ($(peer_version "$p")) [t+$((SECONDS))s]"
	bulk_tests "$p"
	rr_test "$p"
	if [ "$p" != direct ]; then
		for n in $IDLE_COUNTS; do
			# a fresh proxy for each count; rr above warmed this one
			if [ -z "$PEER_PID" ]; then
				start_or_note "$p" "$B_ECHO" "idle$n" || continue
				lg rr --connect "127.0.0.1:$PEER_PORT" --count 100 >/dev/null
			fi
			idle_test "$p" "$n"
			peer_stop
		done
	fi
	peer_stop
	connrate_test "$p"
	rr_test "$p" pin
	peer_stop
	say "   up1 $(get "$p" up1) MB/s, down1 $(get "$p" down1) MB/s, rr p50 $(get "$p" rr_p50) us, conn/s $(get "$p" cr_rate), idle KiB/conn $(get "$p" "idle${IDLE_COUNTS%% *}_pss")"
}

say "== wrapd benchmark ($mode_name) $(date -u '+%Y-%m-%d %H:%M UTC'); raw log: ${RAW#"$BENCH_ROOT"/}"
say "   fd limit $NOFILE; backend sink :$B_SINK source :$B_SOURCE echo :$B_ECHO"
for p in $peers; do
	bench_peer "$p"
done

# ---- where the time goes: a profile of wrapd under load --------------------
PROFILE_TOOL=""
if [ "$do_profile" = 1 ] && [ -x "$WRAPD" ] && [[ " $peers " == *" wrapd "* ]]; then
	say "== profiling wrapd [t+$((SECONDS))s]"
	profile_wrapd
fi

# ---- rule-engine cost (bench/rules, owned by the rules benchmark) ------------
# bench/rules/run.sh [MAX_RULES [SECONDS_PER_CELL]] writes
# bench/rules/RESULTS.md; we include what it wrote and then put the old file
# back: that file belongs to the rules benchmark and is refreshed by running
# bench/rules/run.sh itself.
RULES_STATE="skipped (--skip-rules)"
if [ "$do_rules" = 1 ]; then
	rules_md=$BENCH_DIR/rules/RESULTS.md
	if [ -x "$BENCH_DIR/rules/run.sh" ]; then
		say "== bench/rules/run.sh"
		rargs=()
		[ "$quick" = 1 ] && rargs=(1000 0.1)
		[ -e "$rules_md" ] && cp "$rules_md" "$BENCH_TMP/rules-saved.md"
		if timeout -k 5 600 "$BENCH_DIR/rules/run.sh" "${rargs[@]}" \
		    >>"$RAW" 2>&1 && [ -s "$rules_md" ]; then
			RULES_STATE="ok (bench/rules/run.sh${rargs[*]:+ ${rargs[*]}})"
			# demote its headings below ours
			sed '1{/^# /d}; s/^#/###/' "$rules_md" >"$BENCH_TMP/rules.md"
		else
			RULES_STATE="bench/rules/run.sh failed (exit $?); see the raw log"
		fi
		if [ -e "$BENCH_TMP/rules-saved.md" ]; then
			cp "$BENCH_TMP/rules-saved.md" "$rules_md"
		else
			rm -f "$rules_md"
		fi
	else
		RULES_STATE="bench/rules/run.sh is missing"
	fi
	say "   rules: $RULES_STATE"
fi

# ---- DNS: added latency of a name rule, with a slow resolver for others -------
DNS_STATE="skipped (--skip-dns)"
if [ "$do_dns" = 1 ]; then
	say "== DNS-dependent rules (wrapd in a network namespace)"
	dns_bench
	say "   dns: $DNS_STATE"
fi

t_end=$(date +%s)
say "== writing ${out#"$BENCH_ROOT"/} (run took $((t_end - t_begin)) s)"
write_report >"$out.tmp" && mv "$out.tmp" "$out"
say "done."
