# profile.sh - "where the time goes": profile wrapd under bulk and
# connection-rate load.  Sourced by bench/run.sh (uses its peer_start, lg,
# B_* ports, BENCH_TMP, PROFILE_SECS, WRAPD).  Sets PROFILE_TOOL and writes
# $BENCH_TMP/prof-*.txt, which report.sh prints.
#
# perf with the hardware "instructions"/"cycles" events when the machine has
# them; many VMs do not, and then perf's software cpu-clock event still
# samples user and kernel code by timer.  callgrind (user space only, exact
# instruction counts) runs on a bounded connection-rate run in any case.
#
# shellcheck shell=bash

# prof_perf_report DATA OUT: the top functions, self time, one per line.
prof_perf_report() {
	{
		printf 'samples by object: '
		perf report -i "$1" --stdio --no-children --sort dso \
		    --percent-limit 1 2>/dev/null | grep -v '^#' |
		    sed '/^[[:space:]]*$/d' |
		    awk '{ printf "%s%s %s", (NR > 1 ? ", " : ""), $2, $1 }'
		printf '\n\n'
		perf report -i "$1" --stdio --no-children -F overhead,dso,sym \
		    --percent-limit 0.7 2>/dev/null |
		    grep -v '^#' | sed '/^[[:space:]]*$/d' | head -25
	} >"$2"
}

profile_wrapd() {
	local ev="" line perf_pid
	PROFILE_TOOL=""
	if command -v perf >/dev/null; then
		local pstat
		# into a variable first: grep -q on a pipe + pipefail misfires
		pstat=$(perf stat -e instructions true 2>&1)
		case $pstat in
		*"not supported"* | *"not counted"*) ev=cpu-clock ;;
		*instructions*) ev=cycles ;;
		esac
		if [ -n "$ev" ] && ! perf record -e "$ev" -o "$BENCH_TMP/perf-test.data" true \
		    >/dev/null 2>&1; then
			ev=""
		fi
	fi
	if [ -n "$ev" ]; then
		PROFILE_TOOL="perf record -e $ev (sampling the wrapd process, user and kernel)"
		[ "$ev" = cpu-clock ] &&
			PROFILE_TOOL="$PROFILE_TOOL; hardware counters are not available here (perf stat -e instructions: <not supported>), so the timer-based cpu-clock event was used"
		# bulk: one upload connection through wrapd
		if peer_start wrapd "$(free_port)" "$B_SINK" 2>>"$RAW"; then
			perf record -e "$ev" -p "$PEER_PID" -o "$BENCH_TMP/perf-bulk.data" \
			    -- sleep "$PROFILE_SECS" >>"$RAW" 2>&1 &
			perf_pid=$!
			sleep 0.3
			lg upload --connect "127.0.0.1:$PEER_PORT" --bytes 64G \
			    --seconds "$PROFILE_SECS" >/dev/null
			wait "$perf_pid"
			peer_stop
			prof_perf_report "$BENCH_TMP/perf-bulk.data" "$BENCH_TMP/prof-bulk.txt"
		fi
		# connection rate: connect, 64 bytes each way, close
		if peer_start wrapd "$(free_port)" "$B_ECHO" 2>>"$RAW"; then
			perf record -e "$ev" -p "$PEER_PID" -o "$BENCH_TMP/perf-cr.data" \
			    -- sleep "$PROFILE_SECS" >>"$RAW" 2>&1 &
			perf_pid=$!
			sleep 0.3
			lg connrate --connect "127.0.0.1:$PEER_PORT" --threads 4 \
			    --seconds "$PROFILE_SECS" --count 2000000 --src "$SRC_RANGE" >/dev/null
			wait "$perf_pid"
			peer_stop
			prof_perf_report "$BENCH_TMP/perf-cr.data" "$BENCH_TMP/prof-cr.txt"
		fi
	fi

	# strace -c: which system calls, and how many, one connection costs
	# (2000 connections; strace slows wrapd a lot, the counts stay exact).
	if command -v strace >/dev/null; then
		local real=$WRAPD st=$BENCH_TMP/strace.out
		cat >"$BENCH_TMP/wrapd-strace" <<-EOF
		#!/bin/sh
		exec strace -f -c -o $st "$real" "\$@"
		EOF
		chmod +x "$BENCH_TMP/wrapd-strace"
		WRAPD=$BENCH_TMP/wrapd-strace
		if peer_start wrapd "$(free_port)" "$B_ECHO" 2>>"$RAW"; then
			line=$(lg connrate --connect "127.0.0.1:$PEER_PORT" --threads 2 \
			    --seconds 30 --count 2000 --src "$SRC_RANGE")
			STRACE_CONNS=$(kv "$line" ok)
			peer_stop
			sleep 0.5
			if [ -s "$st" ] && [ "${STRACE_CONNS:-0}" -gt 0 ]; then
				# calls and errors per connection, most frequent first
				awk -v n="$STRACE_CONNS" '
				    $1 ~ /^[0-9.]+$/ && NF >= 5 {
					calls = $4; errs = (NF == 6 ? $5 : 0); name = $NF
					if (name == "total") { tot = calls; next }
					printf "%-16s %8.2f %8.2f\n", name, calls / n, errs / n
				    }
				    END { if (tot) printf "%-16s %8.2f\n", "TOTAL", tot / n }' "$st" |
				    sort -k2,2 -n -r | head -20 >"$BENCH_TMP/prof-strace.txt"
				PROFILE_TOOL="${PROFILE_TOOL:+$PROFILE_TOOL; }strace -c -f over $STRACE_CONNS connections"
			fi
		fi
		WRAPD=$real
	fi

	# callgrind: exact user-space instruction counts for a bounded
	# connection-rate run (valgrind slows wrapd ~50x; the count bounds it).
	if command -v valgrind >/dev/null; then
		local real=$WRAPD cg=$BENCH_TMP/callgrind.out
		cat >"$BENCH_TMP/wrapd-callgrind" <<-EOF
		#!/bin/sh
		exec valgrind --tool=callgrind --callgrind-out-file=$cg -q "$real" "\$@"
		EOF
		chmod +x "$BENCH_TMP/wrapd-callgrind"
		WRAPD=$BENCH_TMP/wrapd-callgrind
		if peer_start wrapd "$(free_port)" "$B_ECHO" 2>>"$RAW"; then
			sleep 1
			line=$(lg connrate --connect "127.0.0.1:$PEER_PORT" --threads 2 \
			    --seconds 20 --count 2000 --src "$SRC_RANGE")
			CALLGRIND_CONNS=$(kv "$line" ok)
			peer_stop
			sleep 0.5
			if [ -s "$cg" ]; then
				callgrind_annotate --inclusive=no "$cg" 2>/dev/null |
				    grep -E '^ *[0-9][0-9,]* ' >"$BENCH_TMP/prof-cg-all.txt"
				# the totals line, then the top functions
				CALLGRIND_PER_CONN=$(awk -v n="${CALLGRIND_CONNS:-0}" '
				    /PROGRAM TOTALS/ { gsub(",", "", $1);
				    if (n > 0) printf "%.0f", $1 / n; exit }' \
				    "$BENCH_TMP/prof-cg-all.txt")
				head -22 "$BENCH_TMP/prof-cg-all.txt" |
				    sed 's#\[/usr/lib/x86_64-linux-gnu/#[#; s#\[/.*/build/bench/proxy/#[#' \
				    >"$BENCH_TMP/prof-cg.txt"
				PROFILE_TOOL="${PROFILE_TOOL:+$PROFILE_TOOL; }valgrind --tool=callgrind over $CALLGRIND_CONNS connections"
			fi
		else
			log "wrapd under valgrind did not start"
		fi
		WRAPD=$real
	fi
}
