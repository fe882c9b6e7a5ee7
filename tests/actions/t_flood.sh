#!/usr/bin/env bash
# A flood of denied connections with a spawn rule, through wrapd:
#  1. 3000 denied connections, each from its own address (127.1.Y.Z), with
#     actions.max_running 4: the spawned commands record how many of them
#     run at once (under flock); never more than 4 run, every connection is
#     either spawned for or counted as skipped "over max_running", and
#     allowed clients (127.0.0.1) running alongside are all served.
#  2. 50 denied connections from one address with per_source 6/min: 6 are
#     admitted, 44 counted "over per_source".
# Bounded: connection counts are fixed; every wait has a 30 s bound.
#   run: bash tests/actions/t_flood.sh WRAPD SRCDIR
. "${2:-$(dirname "$0")/../..}/tests/e2e/lib.sh"
ACT="$SRCDIR/tests/actions/act.py"
e2e_require_cmd flock

N=${WRAPD_ACTIONS_FLOOD:-3000}
e2e_port B
e2e_port P
cat >"$W/slowcmd" <<EOF
#!/bin/sh
# Count running copies: start/stop lines with the count, under a lock.
exec 9>>"$W/lock"
flock 9
n=\$((\$(cat "$W/cur" 2>/dev/null || echo 0) + 1))
echo \$n >"$W/cur"
echo "start \$n \$1" >>"$W/events"
flock -u 9
sleep 0.2
flock 9
n=\$((\$(cat "$W/cur") - 1))
echo \$n >"$W/cur"
echo "stop \$n" >>"$W/events"
flock -u 9
EOF
chmod 755 "$W/slowcmd"
e2e_write "$W/hosts.allow" <<EOF
floodd: 127.0.0.1
EOF
e2e_write "$W/hosts.deny" <<EOF
floodd: ALL: spawn $W/slowcmd %a
EOF
e2e_write "$W/wrapd.yaml" <<EOF
rules: { allow: $W/hosts.allow, deny: $W/hosts.deny }
log: { syslog: false, stderr: true }
actions: { max_running: 4, per_source: 6/min }
services:
  - name: flood
    daemon: floodd
    listen: ["127.0.0.1:$P"]
    backend: "127.0.0.1:$B"
    max_connections: 4096
EOF
e2e_echo_backend echo "127.0.0.1:$B"
e2e_bg wrapd "$WRAPD" --config "$W/wrapd.yaml"
WPID=$E2E_LAST_PID
e2e_wait_listen "$P" "" "$WPID"

# Sum of "actions skipped" lines so far: prints RUNNING RATE.
skipped() {
	awk '/actions skipped:/ { for (i = 1; i <= NF; i++) {
		if ($(i+1) == "over" && $(i+2) == "max_running,") r += $i;
		if ($(i+1) == "over" && $(i+2) ~ /^per_source,?$/) s += $i } }
		END { print r + 0, s + 0 }' "$W/wrapd.err"
}
# Wait until every started command has stopped and the counts add up.
settle() {
	local want=$1 i starts stops sr sp
	for i in $(seq 300); do
		starts=$(grep -c '^start' "$W/events" 2>/dev/null || true)
		stops=$(grep -c '^stop' "$W/events" 2>/dev/null || true)
		read -r sr sp <<<"$(skipped)"
		[ "$starts" = "$stops" ] && [ $((starts + sr + sp)) -ge "$want" ] &&
			return 0
		sleep 0.1
	done
	e2e_fail "counts never settled: starts=$starts stops=$stops skipped=$sr/$sp want $want"
}

# Phase 1: the flood, and allowed clients at the same time.
"$PY" "$ACT" flood --to "127.0.0.1:$P" --src-spread 127.1 --count "$N" \
	--parallel 16 --out "$W/flood.json" &
FPID=$!
E2E_PIDS+=("$FPID")
"$PY" "$ACT" flood --to "127.0.0.1:$P" --src 127.0.0.1 --send ok \
	--count 200 --parallel 4 --out "$W/allowed.json"
e2e_wait_exit "$FPID"
e2e_expect "allowed clients during the flood" "$(cat "$W/allowed.json")" \
	'{"echo": 200}'
grep -q '"closed"' "$W/flood.json" || e2e_fail "flood: $(cat "$W/flood.json")"
settle "$N"
starts=$(grep -c '^start' "$W/events")
max=$(awk '$1 == "start" && $2 > m { m = $2 } END { print m + 0 }' "$W/events")
read -r sr sp <<<"$(skipped)"
e2e_log "flood: $starts spawned, $sr skipped over max_running, $sp over per_source, at most $max at once; $(cat "$W/flood.json")"
[ "$max" -ge 1 ] && [ "$max" -le 4 ] || e2e_fail "concurrency $max not in 1..4"
[ "$sr" -ge 1 ] || e2e_fail "the cap was never reached"
[ "$sp" = 0 ] || e2e_fail "per_source skipped $sp of single-connection sources"
[ $((starts + sr)) = "$N" ] || e2e_fail "spawned $starts + skipped $sr != $N"

# Phase 2: one source, 50 connections, 6/min.
"$PY" "$ACT" flood --to "127.0.0.1:$P" --src 127.0.0.3 --count 50 \
	--parallel 1 --out "$W/one.json"
settle $((N + 50))
read -r sr2 sp2 <<<"$(skipped)"
starts2=$(grep -c '^start' "$W/events")
e2e_expect "per_source skips" "$sp2" 44
e2e_expect "admitted from one source" $((starts2 - starts + sr2 - sr)) 6
grep -c '127\.0\.0\.3' "$W/events" | grep -qx $((starts2 - starts)) ||
	e2e_fail "phase 2 commands were not for 127.0.0.3"
exit 0
