#!/usr/bin/env bash
# Scenario 9: wrapd under a real inetd (openbsd-inetd), in place of tcpd.
#   P1  nowait: one wrapd per connection, connected socket on fd 0
#   P2  wait:   one wrapd gets the listening socket on fd 0 and accepts
#   P3  nowait without a log redirection: inetd puts the socket on fds 0,
#       1 and 2, so whatever wrapd writes to stderr goes to the client;
#       a denied client must still receive nothing.
# inetd.conf takes numeric ports ("127.0.0.1:PORT"), so /etc/services is
# left alone.  inetd runs in the foreground with -d and a private config.
. "$(dirname "$0")/lib.sh"
e2e_require_root
INETD=/usr/sbin/inetd
e2e_require_cmd "$INETD"

# openbsd-inetd may write /run/inetd.pid; remove it only if it is ours.
E2E_CLEANUP+=('[ -n "${IPID:-}" ] && [ "$(cat /run/inetd.pid 2>/dev/null)" = "$IPID" ] && rm -f /run/inetd.pid')

e2e_port B
e2e_port P1
e2e_port P2
e2e_port P3
e2e_write "$W/hosts.allow" <<EOF
inet: 127.0.0.2
EOF
e2e_write "$W/hosts.deny" <<EOF
inet: ALL
EOF
# inetd splits arguments on blanks and knows no quotes or redirections:
# a two-line wrapper sends wrapd's stderr to a log file, keeping the PID.
for m in nowait wait; do
	printf '#!/bin/sh\nexec "%s" "$@" 2>>"%s"\n' "$WRAPD" "$W/$m.log" >"$W/wrapd-$m"
	chmod 755 "$W/wrapd-$m"
	: >"$W/$m.log"
done
ARGS="--listen stdin --backend 127.0.0.1:$B --daemon inet --no-syslog --allow $W/hosts.allow --deny $W/hosts.deny"
e2e_write "$W/inetd.conf" <<EOF
127.0.0.1:$P1 stream tcp nowait root $W/wrapd-nowait wrapd $ARGS
127.0.0.1:$P2 stream tcp wait root $W/wrapd-wait wrapd $ARGS
127.0.0.1:$P3 stream tcp nowait root $WRAPD wrapd $ARGS
EOF

e2e_echo_backend backend "127.0.0.1:$B"
# -E: keep the environment (the sanitizers' options) for the children.
e2e_bg inetd "$INETD" -d -E "$W/inetd.conf"
IPID=$E2E_LAST_PID
e2e_wait_listen "$P1" "" "$IPID"
e2e_wait_listen "$P2" "" "$IPID"
e2e_wait_listen "$P3" "" "$IPID"

denied() {
	case $1 in closed | reset) e2e_log "ok: $2 -> $1" ;;
	*) e2e_fail "$2: got '$1', want closed or reset" ;; esac
}
cl() { e2e_client -- --src "$1" --to "127.0.0.1:$2" --send "$3"; }

# nowait
e2e_expect "nowait: 127.0.0.2" "$(cl 127.0.0.2 "$P1" nowait-allowed-1)" echo
denied "$(cl 127.0.0.3 "$P1" nowait-denied)" "nowait: 127.0.0.3"
e2e_expect "nowait: 127.0.0.2 again" "$(cl 127.0.0.2 "$P1" nowait-allowed-2)" echo
e2e_logcheck "$W/nowait.log" --count 2 client=127.0.0.2 verdict=grant 'rule$=hosts.allow:1'
e2e_logcheck "$W/nowait.log" --count 1 client=127.0.0.3 verdict=deny 'rule$=hosts.deny:1'

# wait: the first connection starts wrapd, which then accepts the rest.
e2e_expect "wait: 127.0.0.2" "$(cl 127.0.0.2 "$P2" wait-allowed-1)" echo
denied "$(cl 127.0.0.3 "$P2" wait-denied)" "wait: 127.0.0.3"
e2e_expect "wait: 127.0.0.2 again" "$(cl 127.0.0.2 "$P2" wait-allowed-2)" echo
e2e_logcheck "$W/wait.log" --count 2 client=127.0.0.2 verdict=grant 'rule$=hosts.allow:1'
e2e_logcheck "$W/wait.log" --count 1 client=127.0.0.3 verdict=deny 'rule$=hosts.deny:1'
n=$(grep -E 'verdict' "$W/wait.log" | grep -oE 'wrapd\[[0-9]+\]' | sort -u | wc -l)
[ "$n" = 0 ] || [ "$n" = 1 ] || e2e_fail "wait: want one wrapd serving all, saw $n"

# nowait, stderr = the client's socket
e2e_expect "nowait/stderr=socket: 127.0.0.2 gets exactly its echo" \
	"$(cl 127.0.0.2 "$P3" bare-allowed)" echo
r=$("$PY" "$HELPER" banner --src 127.0.0.3 --to "127.0.0.1:$P3")
denied "$r" "nowait/stderr=socket: 127.0.0.3 receives nothing (no log text)"

grep -q denied "$W/backend.log" && e2e_fail "denied data reached the backend"
[ "$(grep -c '^accept ' "$W/backend.log")" = 5 ] ||
	e2e_fail "backend: $(grep -c '^accept ' "$W/backend.log") accepts, want 5"
e2e_log "ok: backend saw exactly the 5 allowed connections"
