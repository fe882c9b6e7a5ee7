#!/usr/bin/env bash
# e2e_dead_zone.sh WRAPD SRCDIR - the real wrapd, with a rule that needs the
# client's name, while the reverse zone of one client network never answers:
# clients of other networks must still be decided correctly, and at once.
# (The end-to-end library of tests/e2e does the set-up and the clean-up.)
#
# wrapd, the backend, the clients and fake_dns.py run in a private network
# namespace whose /etc/hosts and resolv.conf are the test's (`ip netns exec`
# bind-mounts /etc/netns/<ns>/*).  The DNS server holds every query of the
# dead zone 127.0.1.0/24 until the test creates the release file; glibc
# would wait 30 s for it, wrapd 20 s (timeouts.lookup).
#
#   127.0.1.1-40  the flood: 40 clients at once, more than libuv's 32
#                 slow-I/O threads (pool of 64): 7 look-ups are made (the
#                 cap of one network), held at the server; the 33 others
#                 are not made, and those clients are denied at once
#   127.0.0.2     a.good.test from the hosts file       allow (.good.test)
#   127.0.0.16    dnsgood.test from the DNS server      allow (dnsgood.test)
#   127.0.0.3     liar.test -> 127.0.0.9: paranoid     deny  (ALL)
# Ordering by events (the server's log, the clients' outcomes), no clocks.
. "$(dirname "$0")/../e2e/lib.sh"
e2e_require_root_netns

DNS="$SRCDIR/tests/lookup/fake_dns.py"
FLOOD=40 # > 32, libuv's slow-I/O share of the default pool of 64
CAP=7    # one network's cap with that pool (lookup.h, struct lookup_caps)

e2e_netns
NS=$E2E_NS
mkdir -p "/etc/netns/$NS"
printf '127.0.0.1 localhost\n127.0.0.2 a.good.test\n' >"/etc/netns/$NS/hosts"
printf 'nameserver 127.0.0.1\noptions timeout:30 attempts:1\n' \
	>"/etc/netns/$NS/resolv.conf"
printf 'hosts: files dns\n' >"/etc/netns/$NS/nsswitch.conf"

e2e_port P
e2e_port B
e2e_write "$W/hosts.allow" <<EOF
dz: .good.test dnsgood.test
EOF
e2e_write "$W/hosts.deny" <<EOF
dz: ALL
EOF
e2e_write "$W/wrapd.yaml" <<EOF
rules: { allow: $W/hosts.allow, deny: $W/hosts.deny }
log: { syslog: false, stderr: true, format: text }
services:
  - name: dz
    listen: ["127.0.0.1:$P"]
    backend: "127.0.0.1:$B"
    timeouts: { connect: 5s, idle: 60s, lookup: 20s }
EOF

: >"$W/dns.log"
e2e_bg dns ip netns exec "$NS" "$PY" "$DNS" 127.0.0.1 53 300 \
	--release "$W/release" --log "$W/dns.log"
DPID=$E2E_LAST_PID
for i in $(seq 100); do
	ip netns exec "$NS" ss -Hlun 'sport = :53' | grep -q . && break
	kill -0 "$DPID" 2>/dev/null || e2e_fail "fake DNS server exited"
	sleep 0.1
done
e2e_echo_backend backend "127.0.0.1:$B" "$NS"
# The pool size wrapd chooses itself (64), whatever our environment says.
e2e_bg wrapd ip netns exec "$NS" env -u UV_THREADPOOL_SIZE "$WRAPD" \
	--config "$W/wrapd.yaml"
WPID=$E2E_LAST_PID
e2e_wait_listen "$P" "$NS" "$WPID"

# The flood: every client at once, each line "ADDRESS OUTCOME" when decided.
e2e_write "$W/flood.py" <<'EOF'
import socket, sys, threading
out, n, port = sys.argv[1], int(sys.argv[2]), int(sys.argv[3].rsplit(":", 1)[1])
lock = threading.Lock()

def client(src):
    s = socket.socket()
    s.settimeout(60)
    try:
        s.bind((src, 0))
        s.connect(("127.0.0.1", port))
        s.sendall(b"flood\n")
        r = "echo" if s.recv(64) else "closed"
    except socket.timeout:
        r = "timeout"
    except ConnectionResetError:
        r = "reset"
    except OSError as e:
        r = "error:%s" % e.strerror
    finally:
        s.close()
    with lock, open(out, "a") as f:
        f.write("%s %s\n" % (src, r))

ts = [threading.Thread(target=client, args=("127.0.1.%d" % i,))
      for i in range(1, n + 1)]
for t in ts:
    t.start()
for t in ts:
    t.join()
EOF
: >"$W/flood.out"
e2e_bg flood ip netns exec "$NS" "$PY" "$W/flood.py" "$W/flood.out" "$FLOOD" \
	"127.0.0.1:$P"
FPID=$E2E_LAST_PID

held() { grep -c '^held .*\.1\.0\.127\.in-addr\.arpa$' "$W/dns.log" || true; }
decided() { grep -c . "$W/flood.out" || true; }
denied() { grep -Ec ' (closed|reset)$' "$W/flood.out" || true; }

# Settled: every flood client is either decided or has its query held.
for i in $(seq 300); do
	[ $(($(held) + $(decided))) -ge "$FLOOD" ] && break
	sleep 0.1
done
h=$(held)
d=$(decided)
[ "$h" = "$CAP" ] ||
	e2e_fail "flood: $h queries held at the server, want $CAP (the cap of one network); $d clients decided"
[ "$d" = $((FLOOD - CAP)) ] && [ "$(denied)" = "$d" ] ||
	e2e_fail "flood: want $((FLOOD - CAP)) clients denied at once, got: $(sort "$W/flood.out" | tr '\n' ' ')"
grep -q '^released' "$W/dns.log" && e2e_fail "DNS released early"
e2e_log "ok: flood of $FLOOD: $h look-ups held at the server, $d clients denied at once"
e2e_logcheck "$W/wrapd.err" --count "$d" 'client~^127\.0\.1\.' name=unknown verdict=deny
grep -q 'name look-ups not made' "$W/wrapd.err" || e2e_fail "no warning about look-ups not made"

# Meanwhile, the other networks: their own names, at once.
cl() { e2e_client "$NS" -- --src "$1" --to "127.0.0.1:$P" --send "$2"; }
e2e_expect "127.0.0.2 a.good.test (hosts file)" "$(cl 127.0.0.2 good-two)" echo
e2e_expect "127.0.0.16 dnsgood.test (DNS)" "$(cl 127.0.0.16 dns-sixteen)" echo
r=$(cl 127.0.0.3 liar-three)
case $r in closed | reset) e2e_log "ok: 127.0.0.3 (paranoid) -> $r" ;;
*) e2e_fail "127.0.0.3 (paranoid): got '$r', want closed or reset" ;; esac
L="$W/wrapd.err"
e2e_logcheck "$L" --count 1 client=127.0.0.2 name=a.good.test verdict=grant 'rule$=hosts.allow:1'
e2e_logcheck "$L" --count 1 client=127.0.0.16 name=dnsgood.test verdict=grant 'rule$=hosts.allow:1'
e2e_logcheck "$L" --count 1 client=127.0.0.3 name=paranoid verdict=deny 'rule$=hosts.deny:1'
# ... while the flood's look-ups were still held.
[ "$(decided)" = $((FLOOD - CAP)) ] || e2e_fail "a held flood client was decided early"
grep -q '^released' "$W/dns.log" && e2e_fail "DNS released early"
e2e_log "ok: other networks decided while $CAP look-ups were held"

# Release the dead zone: the held ones are answered (NXDOMAIN), denied.
touch "$W/release"
e2e_wait_exit "$FPID"
[ "$(decided)" = "$FLOOD" ] && [ "$(denied)" = "$FLOOD" ] ||
	e2e_fail "flood: want all $FLOOD denied, got: $(sort "$W/flood.out" | tr '\n' ' ')"
e2e_logcheck "$L" --count "$FLOOD" 'client~^127\.0\.1\.' name=unknown verdict=deny
[ "$(grep -c '^accept ' "$W/backend.log")" = 2 ] || e2e_fail "backend: want 2 accepts"
grep -q flood "$W/backend.log" && e2e_fail "denied data reached the backend"
e2e_log "ok: all $FLOOD flood clients denied, backend saw only the 2 granted"

e2e_stop_wrapd "$WPID"
