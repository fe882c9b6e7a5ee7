#!/usr/bin/env bash
# Scenario 6: clients on a separate test host.  Two network namespaces
# joined by a veth pair (addresses exist only inside them):
#   server ns: 10.99.1.1/24, fd99::1/64 - wrapd, backend on its loopback
#   client ns: 10.99.1.2, 10.99.1.3, fd99::2
# 10.99.1.2 and fd99::2 are allowed, 10.99.1.3 denied.
. "$(dirname "$0")/lib.sh"
e2e_require_root_netns

e2e_netns
S=$E2E_NS
e2e_netns
C=$E2E_NS
ip -n "$S" link add e2e-s0 type veth peer name e2e-c0 netns "$C" ||
	e2e_fail "veth pair"
ip -n "$S" addr add 10.99.1.1/24 dev e2e-s0
ip -n "$S" addr add fd99::1/64 dev e2e-s0 nodad
ip -n "$C" addr add 10.99.1.2/24 dev e2e-c0
ip -n "$C" addr add 10.99.1.3/24 dev e2e-c0
ip -n "$C" addr add fd99::2/64 dev e2e-c0 nodad
ip -n "$S" link set e2e-s0 up
ip -n "$C" link set e2e-c0 up

P=8006
B=9006
e2e_write "$W/hosts.allow" <<EOF
veth: 10.99.1.2 [fd99::2]
EOF
e2e_write "$W/hosts.deny" <<EOF
veth: ALL
EOF
e2e_echo_backend backend "127.0.0.1:$B" "$S"
e2e_bg wrapd ip netns exec "$S" "$WRAPD" --listen "10.99.1.1:$P" \
	--listen "[fd99::1]:$P" --backend "127.0.0.1:$B" --daemon veth --no-syslog \
	--allow "$W/hosts.allow" --deny "$W/hosts.deny"
WPID=$E2E_LAST_PID
e2e_wait_listen "$P" "$S" "$WPID"

e2e_expect "10.99.1.2 from the client host" \
	"$(e2e_client "$C" -- --src 10.99.1.2 --to "10.99.1.1:$P" --send host-two)" echo
e2e_expect "fd99::2 from the client host" \
	"$(e2e_client "$C" -- --src fd99::2 --to "[fd99::1]:$P" --send host-six)" echo
r=$(e2e_client "$C" -- --src 10.99.1.3 --to "10.99.1.1:$P" --send denied-three)
case $r in closed | reset) e2e_log "ok: 10.99.1.3 -> $r" ;;
*) e2e_fail "10.99.1.3: got '$r', want closed or reset" ;; esac
e2e_expect "10.99.1.2 again" \
	"$(e2e_client "$C" -- --src 10.99.1.2 --to "10.99.1.1:$P" --send host-two-b)" echo

e2e_logcheck "$W/wrapd.err" --count 2 client=10.99.1.2 verdict=grant 'rule$=hosts.allow:1'
e2e_logcheck "$W/wrapd.err" --count 1 client=fd99::2 verdict=grant 'rule$=hosts.allow:1'
e2e_logcheck "$W/wrapd.err" --count 1 client=10.99.1.3 verdict=deny 'rule$=hosts.deny:1'
[ "$(grep -c '^accept ' "$W/backend.log")" = 3 ] || e2e_fail "backend: want 3 accepts"
grep -q denied "$W/backend.log" && e2e_fail "denied data reached the backend"
e2e_log "ok: backend saw only the allowed connections"

e2e_stop_wrapd "$WPID"
