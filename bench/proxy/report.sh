# report.sh - turn the results bench/run.sh collected (R, NOTE) into
# bench/RESULTS.md.  Sourced by run.sh; write_report prints Markdown.
#
# shellcheck shell=bash

# ratio A B: "A/B" as "0.93x", or "-" when either is missing
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (a == "" || b == "" || b + 0 == 0) { print "-"; exit }
		printf "%.2fx\n", a / b }'
}

# cell PEER METRIC: the value, or "-"
cell() {
	local v
	v=$(get "$1" "$2")
	printf '%s' "${v:--}"
}

# fmt_int N: 12345.6 -> 12346 (or "-")
fmt_int() {
	[ -z "$1" ] || [ "$1" = - ] && { printf -- '-'; return; }
	awk -v v="$1" 'BEGIN { printf "%.0f", v }'
}

peer_how() {
	case $1 in
	direct) echo "client to backend, no proxy: the limit" ;;
	wrapd) echo "quick mode: --listen/--backend ${WRAPD_OPTS[*]}, default workers; hosts.allow 'ALL: 127.0.0.0/255.0.0.0', hosts.deny 'ALL: ALL'; per-connection log lines to stderr (a file)" ;;
	wrapd-w*) echo "as wrapd, plus --workers ${1#wrapd-w}" ;;
	socat) echo "TCP-LISTEN:...,fork TCP:backend (one process per connection, 8 KiB copies)" ;;
	haproxy) echo "-db, mode tcp, one listen section, defaults (threads = CPUs), maxconn 7500 (what a 20000-fd limit allows with splice pipes)" ;;
	haproxy-splice) echo "as haproxy, plus option splice-request + splice-response" ;;
	nginx) echo "stream module (libnginx-mod-stream), worker_processes auto, proxy_pass" ;;
	socket-proxyd) echo "systemd-socket-activate -l PORT systemd-socket-proxyd --connections-max=20000 (splice through pipes)" ;;
	rinetd) echo "rinetd -f, one forwarding rule" ;;
	inetd-tcpd) echo "openbsd-inetd -i, nowait.1000000 → tcpd → socat STDIO TCP:backend per connection; private hosts.allow/hosts/resolv.conf via a mount namespace" ;;
	esac
}

# summary_row LABEL METRIC UNIT BETTER(hi|lo): wrapd against direct and
# against the best of the other proxies, and wrapd's rank among the proxies
summary_row() {
	local label=$1 m=$2 unit=$3 better=$4 p v w best="" bestp="" rank=1 n=1
	w=$(get wrapd "$m")
	[ -n "$w" ] || { printf '| %s | - | - | - | - | - |\n' "$label"; return; }
	for p in $peers; do
		case $p in direct | wrapd*) continue ;; esac
		v=$(get "$p" "$m")
		[ -n "$v" ] || continue
		n=$((n + 1))
		if awk -v a="$v" -v b="$w" -v d="$better" 'BEGIN { exit !(d == "hi" ? a > b : a < b) }'; then
			rank=$((rank + 1))
		fi
		if [ -z "$best" ] || awk -v a="$v" -v b="$best" -v d="$better" 'BEGIN { exit !(d == "hi" ? a > b : a < b) }'; then
			best=$v bestp=$p
		fi
	done
	printf '| %s | %s %s | %s | %s | %s | %s of %s |\n' "$label" "$w" "$unit" \
	    "$(ratio "$w" "$(get direct "$m")")" "${bestp:--}${best:+ ($best)}" \
	    "$(ratio "$w" "$best")" "$rank" "$n"
}

write_report() {
	local p n
	local direct_up1 direct_down1 direct_up4 direct_down4
	cat <<-EOF
	# wrapd benchmark results

	Written by \`$RUN_CMD\` on $(date -u '+%Y-%m-%d %H:%M UTC') ($mode_name run, $((t_end - t_begin)) s).
	Raw log (not committed): \`${RAW#"$BENCH_ROOT"/}\`. What each figure means and how it is taken:
	[bench/README.md](README.md).

	**Caveat:** this machine is small and shared: load average at the start of the run was
	$LOAD_START, at the end $(cut -d' ' -f1-3 /proc/loadavg). Client, proxy and backend share the same
	$ncpu CPUs, so a proxy that burns more CPU also slows the client and the backend, which is
	part of what is measured. Take ratios to "direct" as the figure of merit, not absolutes.

	## Summary

	wrapd (default options) against the direct connection, and against the best of the other
	proxies for each figure (wrapd-w1/-w2 excluded from the ranking). Details below.

	| figure | wrapd | × direct | best other proxy | wrapd ÷ best | wrapd's rank |
	|---|---:|---:|---|---:|---:|
	$(summary_row "upload, 1 conn" up1 MB/s hi)
	$(summary_row "download, 1 conn" down1 MB/s hi)
	$(summary_row "upload, 4 conns" up4 MB/s hi)
	$(summary_row "download, 4 conns" down4 MB/s hi)
	$(summary_row "64 B round trip p50" rr_p50 µs lo)
	$(summary_row "64 B round trip p99" rr_p99 µs lo)
	$(summary_row "round trip p50, one CPU" rrpin_p50 µs lo)
	$(summary_row "connections/s" cr_rate /s hi)
	$(summary_row "proxy CPU per connection" cr_cpu µs lo)
	$(summary_row "proxy CPU per GB (up1)" up1_cpu s lo)
	$(summary_row "memory per idle conn (Pss)" "idle${IDLE_COUNTS%% *}_pss" KiB lo)

	Where wrapd is not first, the known causes (measured, with before/after profiles of
	each change, in [PROFILE-NOTES.md](PROFILE-NOTES.md)):

	- **Bulk throughput.** Client, proxy and backend share $ncpu CPUs and the loopback
	  client is the one at 100%: any splice proxy raises the client's kernel time per byte
	  by about 40%. wrapd's own CPU per GB is among the lowest (row above), so a
	  ratio of 0.85 to direct is out of reach for every proxy on this machine; with more
	  cores than busy processes the ratio is bounded by wrapd's CPU per GB instead.
	- **Connection rate.** About 35 system calls per connection against about 20 for
	  nginx and rinetd: libuv 1.44's \`uv_poll\` costs 11 \`epoll_ctl\` per connection,
	  and wrapd passes half-closes on (two \`shutdown\`s and two EOF reads) where nginx
	  and rinetd simply close. Rule evaluation and logging do not show in the profile.
	- **Latency tails (p99).** Figures from a loaded machine: compare p50, pinned to one
	  CPU, across the runs.

	## Machine

	| | |
	|---|---|
	| CPUs (nproc) | $ncpu |
	| CPU model | $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//') |
	| kernel | $(uname -r) |
	| OS | $(. /etc/os-release 2>/dev/null; echo "${PRETTY_NAME-?}") |
	| memory | $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) |
	| fd limit (soft = hard) | $NOFILE |
	| wrapd | $(peer_version wrapd), $WRAPD_STATE |

	## Paths measured

	| path | version | how it runs |
	|---|---|---|
	EOF
	for p in $peers; do
		printf '| %s | %s | %s |\n' "$p" "$(peer_version "$p")" "$(peer_how "$p")"
	done

	direct_up1=$(get direct up1); direct_down1=$(get direct down1)
	direct_up4=$(get direct up4); direct_down4=$(get direct down4)
	cat <<-EOF

	## Bulk throughput

	MB/s (10^6 bytes per second), bounded by $BULK_BYTES in all or ${BULK_SECS} s, whichever
	came first. Upload = client → proxy → sink; download = source → proxy → client. "×" is the
	ratio to direct. "CPU s/GB" is the CPU time the proxy's processes used per 10^9 bytes
	moved (user + system, from /proc/PID/stat, children included): lower is better.

	| path | upload 1 conn | × | download 1 conn | × | upload 4 conns | × | download 4 conns | × | CPU s/GB up1 | CPU s/GB down1 |
	|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
	EOF
	for p in $peers; do
		printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$p" \
		    "$(fmt_int "$(cell "$p" up1)")" "$(ratio "$(get "$p" up1)" "$direct_up1")" \
		    "$(fmt_int "$(cell "$p" down1)")" "$(ratio "$(get "$p" down1)" "$direct_down1")" \
		    "$(fmt_int "$(cell "$p" up4)")" "$(ratio "$(get "$p" up4)" "$direct_up4")" \
		    "$(fmt_int "$(cell "$p" down4)")" "$(ratio "$(get "$p" down4)" "$direct_down4")" \
		    "$(cell "$p" up1_cpu)" "$(cell "$p" down1_cpu)"
	done

	cat <<-EOF

	## Request/response latency

	64-byte request, 64-byte response, one connection, $RR_COUNT round trips after 500 warm-up
	ones; microseconds. "pinned": client, proxy and backend all on CPU 0 (\`taskset -c 0\`),
	so every hop is a context switch on one CPU instead of a cross-CPU wake-up.
	"×" = p50 / direct's p50.

	| path | p50 µs | p99 µs | p99.9 µs | × p50 | pinned p50 µs | pinned p99 µs | pinned p99.9 µs | × pinned p50 |
	|---|---:|---:|---:|---:|---:|---:|---:|---:|
	EOF
	for p in $peers; do
		printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$p" \
		    "$(cell "$p" rr_p50)" "$(cell "$p" rr_p99)" "$(cell "$p" rr_p999)" \
		    "$(ratio "$(get "$p" rr_p50)" "$(get direct rr_p50)")" \
		    "$(cell "$p" rrpin_p50)" "$(cell "$p" rrpin_p99)" "$(cell "$p" rrpin_p999)" \
		    "$(ratio "$(get "$p" rrpin_p50)" "$(get direct rrpin_p50)")"
	done

	cat <<-EOF

	## Connection rate

	$CR_THREADS client threads, each in a loop: connect (source address round-robin over
	127.0.0.${SRC_RANGE%-*}–127.0.0.${SRC_RANGE#*-}), send 64 bytes, read the 64-byte echo, close; ${CR_SECS} s.
	Latency is per whole connection (connect to close). "CPU µs/conn" is the proxy's CPU time per
	connection (children included).

	| path | connections/s | × direct | p50 µs | p99 µs | failed | CPU µs/conn |
	|---|---:|---:|---:|---:|---:|---:|
	EOF
	for p in $peers; do
		printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$p" \
		    "$(fmt_int "$(cell "$p" cr_rate)")" "$(ratio "$(get "$p" cr_rate)" "$(get direct cr_rate)")" \
		    "$(cell "$p" cr_p50)" "$(cell "$p" cr_p99)" "$(cell "$p" cr_err)" "$(cell "$p" cr_cpu)"
	done

	cat <<-EOF

	## Memory per idle connection

	The proxy's user memory, summed over its processes (children and workers included), from
	\`/proc/PID/smaps_rollup\`, after one warm-up exchange and again with N idle connections open
	(each checked end to end with a 64-byte echo, then checked again before sampling), divided
	by the number still alive. Pss shares a shared page among the processes mapping it;
	Private_Dirty is memory no other process could share. Kernel socket buffers are not
	included (idle sockets hold none). "×" is relative to wrapd.
	EOF
	for n in $IDLE_COUNTS; do
		cat <<-EOF

		**N = $n**

		| path | held | processes | Pss KiB/conn | × wrapd | Private_Dirty KiB/conn | Pss before (KiB) |
		|---|---:|---:|---:|---:|---:|---:|
		EOF
		for p in $peers; do
			[ "$p" = direct ] && continue
			printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$p" \
			    "$(cell "$p" "idle${n}_alive")" "$(cell "$p" "idle${n}_nproc")" \
			    "$(cell "$p" "idle${n}_pss")" \
			    "$(ratio "$(get "$p" "idle${n}_pss")" "$(get wrapd "idle${n}_pss")")" \
			    "$(cell "$p" "idle${n}_pd")" "$(cell "$p" "idle${n}_base")"
		done
	done

	cat <<-EOF

	## Rule engine: decision cost vs libwrap (bench/rules)

	Status: $RULES_STATE.

	EOF
	[ -s "$BENCH_TMP/rules.md" ] && cat "$BENCH_TMP/rules.md"

	cat <<-EOF

	## Rules that need a host name (DNS), and a slow resolver for others

	Status: $DNS_STATE.

	wrapd, the echo backend and all clients run in a private network namespace whose
	/etc/hosts names the measured client (127.0.0.5 = fast.bench.test) and whose resolv.conf
	points at \`bench/proxy/slowdns.py\` on 127.0.0.53. One client thread from 127.0.0.5
	connects, exchanges 64 bytes and closes, for ${DNS_SECS} s. In "slow"/"dead", ${DNS_CROWD:-32} other client
	threads connect at the same time from 127.0.1.0 upwards (a new address each time, none in
the hosts file), so each of their
	connections needs a reverse lookup that the resolver answers after 1.5 s ("slow") or never
	("dead", resolver timeout 2 s). "numdead" is "dead" with a numeric rule for the measured
	client ahead of the name rule, so only the others need a lookup. A good proxy keeps the
	measured client's latency at the "name" level in "slow" and "dead", and at the "numeric"
	level in "numdead".

	| scenario | hosts.allow | connections | conn/s | p50 µs | p99 µs | × numeric p50 | other clients |
	|---|---|---:|---:|---:|---:|---:|---|
	EOF
	local s rule
	for s in $DNS_SCEN; do
		rule=$(dns_rule "$s" | paste -sd'|' | sed 's/|/` then `/g')
		printf '| %s | `%s` | %s | %s | %s | %s | %s | %s |\n' "$s" "$rule" \
		    "$(cell dns "${s}_ok")" "$(fmt_int "$(cell dns "${s}_rate")")" \
		    "$(cell dns "${s}_p50")" "$(cell dns "${s}_p99")" \
		    "$(ratio "$(get dns "${s}_p50")" "$(get dns numeric_p50)")" \
		    "$(cell dns "${s}_crowd")"
	done

	cat <<-EOF

	## Where the time goes

	Profiler: ${PROFILE_TOOL:-none (profiling skipped or no profiler worked)}.
	EOF
	if [ -s "$BENCH_TMP/prof-bulk.txt" ]; then
		printf '\nwrapd during one upload connection (%s s), top functions by self time:\n\n```\n' "$PROFILE_SECS"
		cat "$BENCH_TMP/prof-bulk.txt"
		printf '```\n'
	fi
	if [ -s "$BENCH_TMP/prof-cr.txt" ]; then
		printf '\nwrapd during the connection-rate load (%s s, %s client threads), top functions by self time:\n\n```\n' "$PROFILE_SECS" 4
		cat "$BENCH_TMP/prof-cr.txt"
		printf '```\n'
	fi
	if [ -s "$BENCH_TMP/prof-strace.txt" ]; then
		printf '\nSystem calls per connection (strace -c -f, wrapd serving %s connections: connect, 64 B each way, close; includes startup):\n\n```\n%-16s %8s %8s\n' "${STRACE_CONNS:-?}" "syscall" "calls" "errors"
		cat "$BENCH_TMP/prof-strace.txt"
		printf '```\n'
	fi
	if [ -s "$BENCH_TMP/prof-cg.txt" ]; then
		printf '\ncallgrind, wrapd serving %s connections (connect, 64 B each way, close): %s user-space instructions per connection; by function (self):\n\n```\n' "${CALLGRIND_CONNS:-?}" "${CALLGRIND_PER_CONN:-?}"
		cat "$BENCH_TMP/prof-cg.txt"
		printf '```\n'
	fi

	printf '\n## Failures and notes\n\n'
	local k any=0
	while IFS= read -r k; do
		[ -n "$k" ] || continue
		printf -- '- %s %s: %s\n' "${k% *}" "${k#* }" "${NOTE[$k]}"
		any=1
	done < <(printf '%s\n' "${!NOTE[@]}" | sort)
	[ $any = 0 ] && printf 'None.\n'

	cat <<-EOF

	## Reproduce

	\`\`\`sh
	sudo bench/run.sh            # full run, ~8-12 min; writes bench/RESULTS.md
	sudo bench/run.sh --quick    # small counts, ~4 min, for iterating on the harness
	\`\`\`
	EOF
}
