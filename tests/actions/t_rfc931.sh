#!/usr/bin/env bash
# rfc931 and %u with a real oidentd, in a private network namespace (port
# 113 is free there).  The client runs as user nobody.
#   rfcd:  ALL: rfc931 5           -> the look-up is forced: the log names
#                                     the user though no pattern needs it
#   spawnd: ALL: spawn echo %u ...  -> the spawned command gets the user
#   plaind: ALL                    -> no option: no look-up, user unknown (-)
#   uhd: nobody@127.0.0.2: spawn %c -> user@host pattern; %c = user@host;
#                                     as user daemon the deny rule runs
#   run: bash tests/actions/t_rfc931.sh WRAPD SRCDIR
. "${2:-$(dirname "$0")/../..}/tests/e2e/lib.sh"
ACT="$SRCDIR/tests/actions/act.py"
e2e_require_root_netns
e2e_require_cmd oidentd setpriv
getent passwd oident >/dev/null || e2e_skip "no oident user (package oidentd)"

e2e_netns
NS=$E2E_NS
B=9100
e2e_write "$W/hosts.allow" <<EOF
rfcd: ALL: rfc931 5
spawnd: ALL: spawn echo "user=%u" >> $W/u.log
plaind: ALL
uhd: nobody@127.0.0.2: spawn echo "c=%c" >> $W/c.log
EOF
e2e_write "$W/hosts.deny" <<EOF
uhd: ALL: spawn echo "denied c=%c" >> $W/c.log
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
e2e_write "$W/wrapd.yaml" <<EOF
rules: { allow: $W/hosts.allow, deny: $W/hosts.deny }
log: { syslog: false, stderr: true }
services:
  - { name: rfc, daemon: rfcd, listen: ["127.0.0.1:9101"], backend: "127.0.0.1:$B" }
  - { name: sp, daemon: spawnd, listen: ["127.0.0.1:9102"], backend: "127.0.0.1:$B" }
  - { name: plain, daemon: plaind, listen: ["127.0.0.1:9103"], backend: "127.0.0.1:$B" }
  - { name: uh, daemon: uhd, listen: ["127.0.0.1:9104"], backend: "127.0.0.1:$B" }
EOF
e2e_bg oidentd ip netns exec "$NS" oidentd -i -S -C "$W/oidentd.conf" \
	-p 113 -u oident -g oident
e2e_wait_listen 113 "$NS" "$E2E_LAST_PID"
e2e_echo_backend backend "127.0.0.1:$B" "$NS"
e2e_bg wrapd ip netns exec "$NS" "$WRAPD" --config "$W/wrapd.yaml"
WPID=$E2E_LAST_PID
for p in 9101 9102 9103 9104; do e2e_wait_listen "$p" "$NS" "$WPID"; done

as_nobody() {
	ip netns exec "$NS" setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$PY" "$ACT" talk --src 127.0.0.2 "$@"
}
for p in 9101 9102 9103 9104; do
	e2e_expect "client on $p" "$(as_nobody --to "127.0.0.1:$p" --send hi --shut)" \
		"b'hi\\n'"
done
e2e_logcheck "$W/wrapd.err" --count 1 service=rfc user=nobody verdict=grant
e2e_logcheck "$W/wrapd.err" --count 1 service=sp user=nobody verdict=grant
e2e_logcheck "$W/wrapd.err" --count 1 service=plain user=- verdict=grant
e2e_wait_file "$W/u.log"
e2e_expect "spawn %u" "$(cat "$W/u.log")" "user=nobody"
# user@host matched by oidentd's answer; %c is user@host.
e2e_wait_file "$W/c.log"
e2e_expect "spawn %c" "$(cat "$W/c.log")" "c=nobody@127.0.0.2"
# The same client as user daemon: the deny table's spawn runs.
r=$(ip netns exec "$NS" setpriv --reuid=1 --regid=1 --clear-groups \
	"$PY" "$ACT" talk --src 127.0.0.2 --to 127.0.0.1:9104)
case $r in "b''" | "b'<reset>'") e2e_log "ok: as daemon -> $r" ;;
*) e2e_fail "as daemon: $r" ;; esac
e2e_wait_grep '^denied c=daemon@127\.0\.0\.2$' "$W/c.log"
exit 0
