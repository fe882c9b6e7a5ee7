#!/usr/bin/env bash
# Scenario 5: rules by host name, with names from a hosts file the test
# controls.  wrapd and the backend run in a private network namespace whose
# /etc/hosts, /etc/host.conf and /etc/resolv.conf are the test's own
# (`ip netns exec` bind-mounts /etc/netns/<ns>/* over /etc/*).
#
#   127.0.0.2  a.good.test         allow  .good.test          (hosts.allow:2)
#   127.0.0.8  c.other.test        allow  KNOWN EXCEPT ...    (hosts.allow:3)
#   127.0.0.4  liar.good.test, but liar.good.test -> 127.0.0.99 only
#                                  deny   PARANOID            (hosts.deny:1)
#   127.0.0.3  b.bad.test          deny   ALL                 (hosts.deny:2)
#   127.0.0.7  no name needed      allow  127.0.0.7           (hosts.allow:1)
#   127.0.0.6  not in hosts: its reverse query goes to a DNS server (ours)
#              that holds it until the test says so
#   127.0.0.9  the same, on a second service whose lookup deadline is 1s:
#              wrapd decides with the name unknown while the query is held
#
# While 127.0.0.6's look-up is held, 127.0.0.7 and the names from the hosts
# file must be served: ordering by events, no clocks.
. "$(dirname "$0")/lib.sh"
e2e_require_root_netns

e2e_netns
NS=$E2E_NS
mkdir -p "/etc/netns/$NS"
cat >"/etc/netns/$NS/hosts" <<EOF
127.0.0.1 localhost
127.0.0.2 a.good.test
127.0.0.3 b.bad.test
127.0.0.99 liar.good.test
127.0.0.4 liar.good.test
127.0.0.8 c.other.test
EOF
# "multi off": a name gives only its first line, so liar.good.test does not
# confirm 127.0.0.4.
echo "multi off" >"/etc/netns/$NS/host.conf"
printf 'nameserver 127.0.0.53\noptions timeout:30 attempts:1\n' \
	>"/etc/netns/$NS/resolv.conf"

P=8005
P2=8006
B=9005
e2e_write "$W/hosts.allow" <<EOF
names: 127.0.0.7
names: .good.test
names: KNOWN EXCEPT .bad.test
EOF
e2e_write "$W/hosts.deny" <<EOF
names: PARANOID
names: ALL
EOF
e2e_write "$W/wrapd.yaml" <<EOF
rules: { allow: $W/hosts.allow, deny: $W/hosts.deny }
log: { syslog: false, stderr: true, format: text }
services:
  - name: names
    listen: ["127.0.0.1:$P"]
    backend: "127.0.0.1:$B"
    timeouts: { connect: 5s, idle: 60s, lookup: 40s }
  - name: names-deadline
    daemon: names
    listen: ["127.0.0.1:$P2"]
    backend: "127.0.0.1:$B"
    timeouts: { connect: 5s, idle: 60s, lookup: 1s }
EOF

e2e_bg dns ip netns exec "$NS" "$PY" "$HELPER" dns --listen 127.0.0.53 \
	--log "$W/dns.log" --ready "$W/dns.ready" --release "$W/dns.release"
e2e_wait_file "$W/dns.ready" "$E2E_LAST_PID"
e2e_echo_backend backend "127.0.0.1:$B" "$NS"
e2e_bg wrapd ip netns exec "$NS" "$WRAPD" --config "$W/wrapd.yaml"
WPID=$E2E_LAST_PID
e2e_wait_listen "$P" "$NS" "$WPID"
e2e_wait_listen "$P2" "$NS" "$WPID"

# The slow client: its name is not in the hosts file.
ip netns exec "$NS" "$PY" "$HELPER" client --src 127.0.0.6 --to "127.0.0.1:$P" --send slow-six \
	>"$W/slow.result" 2>&1 &
SLOW=$!
E2E_PIDS+=("$SLOW")
# ... shown to be pending by the DNS server's log, not by a clock.
e2e_wait_grep '^query 6\.0\.0\.127\.in-addr\.arpa' "$W/dns.log"
e2e_log "ok: 127.0.0.6's reverse look-up is held at the DNS server"

cl() { e2e_client "$NS" -- --src "$1" --to "127.0.0.1:$P" --send "$2"; }
e2e_expect "127.0.0.7 (address rule) while a look-up hangs" "$(cl 127.0.0.7 fast-seven)" echo
e2e_expect "127.0.0.2 a.good.test" "$(cl 127.0.0.2 good-two)" echo
e2e_expect "127.0.0.8 c.other.test (KNOWN)" "$(cl 127.0.0.8 known-eight)" echo
r=$(cl 127.0.0.4 liar-four)
case $r in closed | reset) e2e_log "ok: 127.0.0.4 (PARANOID) -> $r" ;;
*) e2e_fail "127.0.0.4 (PARANOID): got '$r', want closed or reset" ;; esac
r=$(cl 127.0.0.3 bad-three)
case $r in closed | reset) e2e_log "ok: 127.0.0.3 b.bad.test -> $r" ;;
*) e2e_fail "127.0.0.3 b.bad.test: got '$r', want closed or reset" ;; esac

# The lookup deadline: 127.0.0.9's query is never answered while it waits;
# wrapd decides at its 1s deadline with the name unknown.
r=$(e2e_client "$NS" -- --src 127.0.0.9 --to "127.0.0.1:$P2" --send deadline-nine)
case $r in closed | reset) e2e_log "ok: 127.0.0.9 decided at the lookup deadline -> $r" ;;
*) e2e_fail "127.0.0.9 (lookup deadline): got '$r', want closed or reset" ;; esac
grep -q '^query 9\.0\.0\.127\.in-addr\.arpa' "$W/dns.log" || e2e_fail "no DNS query for 127.0.0.9"
grep -q '^answered' "$W/dns.log" && e2e_fail "DNS answered early"
e2e_logcheck "$W/wrapd.err" --count 1 service=names-deadline client=127.0.0.9 name=unknown \
	verdict=deny 'rule$=hosts.deny:2'

# The slow one is still waiting: it could not have finished before its
# query is answered.
kill -0 "$SLOW" 2>/dev/null || e2e_fail "slow client finished while its look-up was held: $(cat "$W/slow.result")"
[ -s "$W/slow.result" ] && e2e_fail "slow client has a result already: $(cat "$W/slow.result")"
grep -q '^answered' "$W/dns.log" && e2e_fail "DNS answered early"
e2e_log "ok: 127.0.0.6 still pending after the others were served"

touch "$W/dns.release"
e2e_wait_exit "$SLOW"
r=$(cat "$W/slow.result")
case $r in closed | reset) e2e_log "ok: 127.0.0.6 (name unknown) -> $r" ;;
*) e2e_fail "127.0.0.6 (unknown): got '$r', want closed or reset" ;; esac

L="$W/wrapd.err"
e2e_logcheck "$L" --count 1 client=127.0.0.7 verdict=grant 'rule$=hosts.allow:1'
e2e_logcheck "$L" --count 1 client=127.0.0.2 verdict=grant 'rule$=hosts.allow:2' name=a.good.test
e2e_logcheck "$L" --count 1 client=127.0.0.8 verdict=grant 'rule$=hosts.allow:3' name=c.other.test
e2e_logcheck "$L" --count 1 client=127.0.0.4 name=paranoid verdict=deny 'rule$=hosts.deny:1'
e2e_logcheck "$L" --count 1 client=127.0.0.3 name=b.bad.test verdict=deny 'rule$=hosts.deny:2'
e2e_logcheck "$L" --count 1 client=127.0.0.6 name=unknown verdict=deny 'rule$=hosts.deny:2'
# The slow line comes after the fast ones: wrapd served them meanwhile.
"$PY" - "$L" <<'EOF' || e2e_fail "log order: 127.0.0.6 should be last"
import re, sys
order = [m.group(1) for l in open(sys.argv[1]) if "verdict" in l
         for m in [re.search(r'client[=":]+\[?(?:::ffff:)?(127\.0\.0\.\d+)', l)] if m]
sys.exit(0 if order and order[-1] == "127.0.0.6" and order.index("127.0.0.6") == len(order) - 1 else 1)
EOF
[ "$(grep -c '^accept ' "$W/backend.log")" = 3 ] || e2e_fail "backend: want 3 accepts"
grep -Eq 'liar|bad-three|slow-six' "$W/backend.log" && e2e_fail "denied data reached the backend"
e2e_log "ok: backend saw only the 3 allowed connections"

# The oracle, run in the same namespace (same hosts file, same held-then-
# NXDOMAIN DNS), predicts every verdict the proxy logged.
for c in 127.0.0.7 127.0.0.2 127.0.0.8 127.0.0.4 127.0.0.3 127.0.0.6 127.0.0.9; do
	e2e_match_agrees "$L" names "$c" "$NS" --allow "$W/hosts.allow" --deny "$W/hosts.deny"
done

e2e_stop_wrapd "$WPID"
