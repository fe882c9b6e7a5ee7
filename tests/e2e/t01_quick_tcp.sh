#!/usr/bin/env bash
# Scenario 1: quick mode in front of a TCP backend.  127.0.0.2 and ::1 are
# allowed by hosts.allow, 127.0.0.3 is denied by hosts.deny.  The allowed
# clients get their echo; the denied one never reaches the backend (the
# backend's own accept log proves it); wrapd logs one line per connection
# with the verdict and the rule's file:line.
. "$(dirname "$0")/lib.sh"

e2e_port P
e2e_port B
e2e_write "$W/hosts.allow" <<EOF
# scenario 1
e2e: 127.0.0.2 [::1]
EOF
e2e_write "$W/hosts.deny" <<EOF
e2e: ALL
EOF

e2e_echo_backend backend "127.0.0.1:$B"
e2e_bg wrapd "$WRAPD" --listen "127.0.0.1:$P" --listen "[::1]:$P" \
	--backend "127.0.0.1:$B" --daemon e2e --no-syslog \
	--allow "$W/hosts.allow" --deny "$W/hosts.deny"
WPID=$E2E_LAST_PID
e2e_wait_listen "$P" "" "$WPID"

r=$(e2e_client -- --src 127.0.0.3 --to "127.0.0.1:$P" --send "denied-one")
case $r in closed | reset) e2e_log "ok: denied 127.0.0.3 -> $r" ;;
*) e2e_fail "denied client 127.0.0.3: got '$r', want closed or reset" ;; esac

r=$(e2e_client -- --src 127.0.0.2 --to "127.0.0.1:$P" --send "allowed-one")
e2e_expect "allowed 127.0.0.2" "$r" echo
r=$(e2e_client -- --src ::1 --to "[::1]:$P" --send "allowed-six")
e2e_expect "allowed ::1" "$r" echo
r=$(e2e_client -- --src 127.0.0.3 --to "127.0.0.1:$P" --send "denied-two")
case $r in closed | reset) e2e_log "ok: denied 127.0.0.3 -> $r" ;;
*) e2e_fail "denied client 127.0.0.3: got '$r', want closed or reset" ;; esac
# A last allowed connection: wrapd handles it after the denied one, so a
# backend connection wrongly made for the denied client would show by now.
r=$(e2e_client -- --src 127.0.0.2 --to "127.0.0.1:$P" --send "allowed-two")
e2e_expect "allowed 127.0.0.2 again" "$r" echo

e2e_logcheck "$W/wrapd.err" --count 2 client=127.0.0.2 verdict=grant 'rule$=hosts.allow:2'
e2e_logcheck "$W/wrapd.err" --count 1 client=::1 verdict=grant 'rule$=hosts.allow:2'
e2e_logcheck "$W/wrapd.err" --count 2 client=127.0.0.3 verdict=deny 'rule$=hosts.deny:1'
# The line names the service/daemon and carries a duration and byte counts.
e2e_logcheck "$W/wrapd.err" --count 2 client=127.0.0.2 service=e2e in=12 out=12 'ms~^[0-9]+$'

n=$(e2e_backend_count "data " "$W/backend.log")
[ "$n" = 3 ] || e2e_fail "backend saw $n connections with data, want 3"
n=$(grep -c '^accept ' "$W/backend.log")
[ "$n" = 3 ] || e2e_fail "backend accepted $n connections, want 3 (denied ones must never reach it)"
n=$(e2e_backend_count denied "$W/backend.log")
[ "$n" = 0 ] || e2e_fail "denied client's data reached the backend"
e2e_log "ok: backend accepted exactly the 3 allowed connections"

# The oracles predict what the proxy did: wrapd match, and libwrap itself.
for c in 127.0.0.2 127.0.0.3 ::1; do
	e2e_match_agrees "$W/wrapd.err" e2e "$c" "" --allow "$W/hosts.allow" --deny "$W/hosts.deny"
	e2e_libwrap_agrees "$W/wrapd.err" e2e "$c" "$W/hosts.allow" "$W/hosts.deny"
done

e2e_stop_wrapd "$WPID"
