#!/usr/bin/env bash
# Scenario 12: SIGTERM drains.  a) A connection in flight when SIGTERM arrives
# keeps working to its end; the listener closes at once, so new connections
# are refused; wrapd exits 0 once the last connection is done.
# b) With a short --drain-timeout, a connection still open is closed at the
#    deadline and wrapd exits 0 all the same.
. "$(dirname "$0")/lib.sh"

e2e_port P
e2e_port B
e2e_write "$W/hosts.allow" <<EOF
drain: 127.0.0.2
EOF
e2e_write "$W/hosts.deny" <<EOF
drain: ALL
EOF
e2e_echo_backend backend "127.0.0.1:$B"
e2e_bg wrapd "$WRAPD" --listen "127.0.0.1:$P" --backend "127.0.0.1:$B" \
	--daemon drain --no-syslog --allow "$W/hosts.allow" --deny "$W/hosts.deny"
WPID=$E2E_LAST_PID
e2e_wait_listen "$P" "" "$WPID"

e2e_bg long "$PY" "$HELPER" client --src 127.0.0.2 --to "127.0.0.1:$P" \
	--send before-term --wait-file "$W/long.go" --ready "$W/long.ready" \
	--send2 after-term
LPID=$E2E_LAST_PID
e2e_wait_file "$W/long.ready" "$LPID"

kill -TERM "$WPID"
e2e_wait_unlisten "$P"
r=$(e2e_client -- --src 127.0.0.2 --to "127.0.0.1:$P" --send too-late)
e2e_expect "new connection after SIGTERM" "$r" refused
kill -0 "$WPID" 2>/dev/null || e2e_fail "wrapd exited with a connection in flight"
e2e_log "ok: wrapd still running for the connection in flight"

touch "$W/long.go"
e2e_wait_exit "$LPID"
e2e_expect "connection in flight across SIGTERM" "$(cat "$W/long.out")" echo
grep -q 'data .* before-term' "$W/backend.log" || e2e_fail "backend missed the data"
e2e_wait_exit "$WPID"
[ "$E2E_EXIT" = 0 ] || e2e_fail "wrapd exit status $E2E_EXIT after drain, want 0"
e2e_log "ok: wrapd exited 0 after the drain"
e2e_logcheck "$W/wrapd.err" --count 1 client=127.0.0.2 verdict=grant 'rule$=hosts.allow:1'

# b) The deadline: with --drain-timeout 1s, a connection that stays open
# is closed by wrapd, which then still exits 0.
e2e_port P2
e2e_bg wrapd2 "$WRAPD" --listen "127.0.0.1:$P2" --backend "127.0.0.1:$B" \
	--daemon drain --no-syslog --allow "$W/hosts.allow" --deny "$W/hosts.deny" \
	--drain-timeout 1s
WPID2=$E2E_LAST_PID
e2e_wait_listen "$P2" "" "$WPID2"
e2e_bg stuck "$PY" "$HELPER" client --src 127.0.0.2 --to "127.0.0.1:$P2" \
	--send stuck-first --wait-file "$W/stuck.go" --ready "$W/stuck.ready" \
	--send2 stuck-second
SPID=$E2E_LAST_PID
e2e_wait_file "$W/stuck.ready" "$SPID"
kill -TERM "$WPID2"
e2e_wait_exit "$WPID2"
[ "$E2E_EXIT" = 0 ] || e2e_fail "b) wrapd exit status $E2E_EXIT at the drain deadline, want 0"
e2e_log "ok: b) wrapd closed the stuck connection at the deadline and exited 0"
touch "$W/stuck.go"
e2e_wait_exit "$SPID"
r=$(cat "$W/stuck.out")
case $r in closed | reset) e2e_log "ok: b) the stuck client sees its connection gone ($r)" ;;
*) e2e_fail "b) stuck client: got '$r', want closed or reset" ;; esac
e2e_logcheck "$W/wrapd2.err" --count 1 client=127.0.0.2 verdict=grant in=12 out=12
