#!/usr/bin/env bash
# Scenario 3: one dual-stack [::] listener.  An IPv4 client arrives as a
# v4-mapped address (::ffff:127.0.0.2) and must be matched by the IPv4
# rules: 127.0.0.2 allowed, everything else (127.0.0.3, ::1) denied.
# Runs in a private network namespace, so [::] covers only its loopback.
. "$(dirname "$0")/lib.sh"
e2e_require_root_netns

e2e_netns
NS=$E2E_NS
P=8003
B=9003
e2e_write "$W/hosts.allow" <<EOF
dual: 127.0.0.2
EOF
e2e_write "$W/hosts.deny" <<EOF
dual: ALL
EOF

e2e_echo_backend backend "127.0.0.1:$B" "$NS"
e2e_bg wrapd ip netns exec "$NS" "$WRAPD" --listen "[::]:$P" \
	--backend "127.0.0.1:$B" --daemon dual --no-syslog \
	--allow "$W/hosts.allow" --deny "$W/hosts.deny"
WPID=$E2E_LAST_PID
e2e_wait_listen "$P" "$NS" "$WPID"

e2e_expect "127.0.0.2 via [::]" \
	"$(e2e_client "$NS" -- --src 127.0.0.2 --to "127.0.0.1:$P" --send v4-allowed)" echo
r=$(e2e_client "$NS" -- --src 127.0.0.3 --to "127.0.0.1:$P" --send v4-denied)
case $r in closed | reset) e2e_log "ok: 127.0.0.3 -> $r" ;;
*) e2e_fail "127.0.0.3: got '$r', want closed or reset" ;; esac
r=$(e2e_client "$NS" -- --src ::1 --to "[::1]:$P" --send v6-denied)
case $r in closed | reset) e2e_log "ok: ::1 -> $r" ;;
*) e2e_fail "::1: got '$r', want closed or reset" ;; esac
e2e_expect "127.0.0.2 again" \
	"$(e2e_client "$NS" -- --src 127.0.0.2 --to "127.0.0.1:$P" --send v4-allowed-2)" echo

# The v4-mapped peer is matched (and reported) as 127.0.0.2 by the IPv4 rule.
e2e_logcheck "$W/wrapd.err" --count 2 client=127.0.0.2 verdict=grant 'rule$=hosts.allow:1'
e2e_logcheck "$W/wrapd.err" --count 1 client=127.0.0.3 verdict=deny 'rule$=hosts.deny:1'
e2e_logcheck "$W/wrapd.err" --count 1 client=::1 verdict=deny 'rule$=hosts.deny:1'
# Debian's libwrap, asked about the v4-mapped form, agrees (it normalises).
e2e_libwrap_agrees "$W/wrapd.err" dual 127.0.0.2 "$W/hosts.allow" "$W/hosts.deny" ::ffff:127.0.0.2
e2e_libwrap_agrees "$W/wrapd.err" dual 127.0.0.3 "$W/hosts.allow" "$W/hosts.deny" ::ffff:127.0.0.3
[ "$(grep -c '^accept ' "$W/backend.log")" = 2 ] ||
	e2e_fail "backend accepted $(grep -c '^accept ' "$W/backend.log") connections, want 2"
grep -q denied "$W/backend.log" && e2e_fail "denied data reached the backend"
e2e_log "ok: backend saw only the 2 allowed connections"

e2e_stop_wrapd "$WPID"
