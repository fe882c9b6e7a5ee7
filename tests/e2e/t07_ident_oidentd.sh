#!/usr/bin/env bash
# Scenario 7: rules by ident user, answered by a real oidentd.
# In a private network namespace (port 113 is free there): oidentd, wrapd,
# the backend and the clients.  Rules: nobody@ALL allowed, ALL denied.
# The same client program run as user nobody is allowed, as user daemon
# denied; wrapd's log names the user it was told.
. "$(dirname "$0")/lib.sh"
e2e_require_root_netns
e2e_require_cmd oidentd setpriv
getent passwd oident >/dev/null || e2e_skip "no oident user (package oidentd)"

e2e_netns
NS=$E2E_NS
P=8007
B=9007
e2e_write "$W/hosts.allow" <<EOF
ident: nobody@ALL
EOF
e2e_write "$W/hosts.deny" <<EOF
ident: ALL
EOF
e2e_write "$W/oidentd.conf" <<EOF
default {
	default {
		deny spoof
		deny spoof_all
		deny spoof_privport
		deny random
		deny random_numeric
		deny numeric
		deny hide
		deny forward
	}
}
EOF
chmod 644 "$W/oidentd.conf"

e2e_bg oidentd ip netns exec "$NS" oidentd -i -S -C "$W/oidentd.conf" \
	-p 113 -u oident -g oident
e2e_wait_listen 113 "$NS" "$E2E_LAST_PID"
e2e_echo_backend backend "127.0.0.1:$B" "$NS"
e2e_bg wrapd ip netns exec "$NS" "$WRAPD" --listen "127.0.0.1:$P" \
	--backend "127.0.0.1:$B" --daemon ident --no-syslog \
	--allow "$W/hosts.allow" --deny "$W/hosts.deny"
WPID=$E2E_LAST_PID
e2e_wait_listen "$P" "$NS" "$WPID"

as_user() {
	local uid=$1
	shift
	ip netns exec "$NS" setpriv --reuid="$uid" --regid="$uid" --clear-groups \
		"$PY" "$HELPER" client "$@"
}
e2e_expect "client as nobody" \
	"$(as_user 65534 --src 127.0.0.2 --to "127.0.0.1:$P" --send as-nobody)" echo
r=$(as_user 1 --src 127.0.0.2 --to "127.0.0.1:$P" --send as-daemon)
case $r in closed | reset) e2e_log "ok: client as daemon -> $r" ;;
*) e2e_fail "client as daemon: got '$r', want closed or reset" ;; esac
e2e_expect "client as nobody, again" \
	"$(as_user 65534 --src 127.0.0.2 --to "127.0.0.1:$P" --send as-nobody-2)" echo

e2e_logcheck "$W/wrapd.err" --count 2 client=127.0.0.2 user=nobody verdict=grant 'rule$=hosts.allow:1'
e2e_logcheck "$W/wrapd.err" --count 1 client=127.0.0.2 user=daemon verdict=deny 'rule$=hosts.deny:1'
[ "$(grep -c '^accept ' "$W/backend.log")" = 2 ] || e2e_fail "backend: want 2 accepts"
grep -q as-daemon "$W/backend.log" && e2e_fail "denied data reached the backend"
e2e_log "ok: backend saw only nobody's connections"

e2e_stop_wrapd "$WPID"
