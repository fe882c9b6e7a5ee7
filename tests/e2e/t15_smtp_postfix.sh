#!/usr/bin/env bash
# Scenario 15: SMTP with postfix behind wrapd, the open-relay trap and its
# two fixes.  postfix (lib_postfix.sh) trusts loopback, as Debian's does,
# and listens on loopback of the server namespace only:
#   2525       plain, behind wrapd on port 465: the control.  Through
#              wrapd, every client is
#              127.0.0.1, and postfix relays for the allowed-but-untrusted
#              host (250 for a remote recipient): the trap.
#   2526       smtpd_upstream_proxy_protocol=haproxy, behind wrapd with
#              proxy_protocol v1 (port 25) and v2 (port 2600, behind a
#              "load balancer" with accept_proxy_from)
#   2527       plain, behind wrapd in transparent mode (port 587)
# With PROXY and transparent, mail to a local user is accepted, postfix
# logs the real client (IPv4, and IPv6 from the IPv6-only host), and
# relaying is refused (554) because postfix sees a client it does not
# trust.  The denied host gets wrapd's on_deny.reply (554) and never a
# postfix banner, and a report mail with what its fingerd said (on_deny
# finger and mail).  A PROXY header from a peer outside accept_proxy_from
# is refused: no banner, a reset, reason=proxy-untrusted.
# The same with exim (Debian's exim4-daemon-light, which has no PROXY
# support): it trusts loopback too, and refuses to relay ("550 relay not
# permitted") for the allowed host when wrapd gives it the client in
# transparent mode (port 2528), or when wrapd runs "exim4 -bs" on the
# client's socket (exec, port 2529).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_daemons.sh"
. "$(dirname "$0")/lib_postfix.sh"
. "$SRCDIR/tests/actions/lib_mta.sh"
e2e_require_cmd socat /usr/sbin/in.fingerd
dm_topology
pf_setup
mta_setup
DPY="$E2E_DIR/daemons.py"

pf_start "$NS_S" "127.0.0.1:2525 inet n - n - - smtpd
127.0.0.1:2526 inet n - n - - smtpd -o smtpd_upstream_proxy_protocol=haproxy
[::1]:2526 inet n - n - - smtpd -o smtpd_upstream_proxy_protocol=haproxy
127.0.0.1:2527 inet n - n - - smtpd
[::1]:2527 inet n - n - - smtpd"
dm_transparent_routes 2527

# exim, the Debian way: loopback may relay.
EXIM=/usr/sbin/exim4
if [ -x "$EXIM" ] && getent passwd Debian-exim >/dev/null; then
	mkdir -p "$W/exim/spool" "$W/exim/log"
	chown -R Debian-exim:Debian-exim "$W/exim/spool" "$W/exim/log"
	e2e_write "$W/exim/exim.conf" <<EOF
primary_hostname = mx.wrapd.test
qualify_domain = wrapd.test
domainlist local_domains = wrapd.test
hostlist relay_from_hosts = <; 127.0.0.1 ; ::1
spool_directory = $W/exim/spool
log_file_path = $W/exim/log/%slog
keep_environment =
host_lookup =
rfc1413_hosts =
daemon_smtp_ports = 2528
local_interfaces = <; 127.0.0.1 ; ::1
queue_only = true
acl_smtp_rcpt = acl_rcpt
begin acl
acl_rcpt:
  accept domains = +local_domains
  accept hosts = +relay_from_hosts
  deny message = relay not permitted
begin routers
all:
  driver = accept
  transport = devnull
begin transports
devnull:
  driver = appendfile
  file = /dev/null
EOF
	chmod 644 "$W/exim/exim.conf"
	e2e_bg exim ip netns exec "$NS_S" "$EXIM" -C "$W/exim/exim.conf" -bdf
	e2e_wait_listen 2528 "$NS_S" "$E2E_LAST_PID"
	dm_transparent_routes 2528
	EXIM_SERVICES="
  - name: smtp-exim
    daemon: smtpd
    listen: [\"10.77.1.1:2528\"]
    backend: \"127.0.0.1:2528\"
    transparent: true
  - name: smtp-exim-exec
    daemon: smtpd
    listen: [\"10.77.1.1:2529\"]
    exec: [\"$EXIM\", \"-C\", \"$W/exim/exim.conf\", \"-bs\"]"
fi

# The denied host runs a finger server and an ident server (oidentd), as
# on_deny.finger and the deny rule's rfc931 option ask them.
e2e_bg fingerd ip netns exec "$NS_B" socat \
	TCP-LISTEN:79,bind=10.77.2.2,reuseaddr,fork EXEC:/usr/sbin/in.fingerd
e2e_wait_listen 79 "$NS_B"
if command -v oidentd >/dev/null && getent passwd oident >/dev/null; then
	printf 'default {\n\tdefault {\n\t\tdeny hide\n\t}\n}\n' >"$W/oidentd.conf"
	chmod 644 "$W/oidentd.conf"
	e2e_bg oidentd ip netns exec "$NS_B" oidentd -i -S -C "$W/oidentd.conf" \
		-a 10.77.2.2 -p 113 -u oident -g oident
	e2e_wait_listen 113 "$NS_B" "$E2E_LAST_PID"
	IDENT=1
fi

e2e_write "$W/hosts.allow" <<EOF
smtpd: 10.77.1.0/255.255.255.0 [fd77:0:0:3::]/64 10.77.1.9
EOF
e2e_write "$W/hosts.deny" <<EOF
smtpd: 10.77.2.0/255.255.255.0: rfc931 5
ALL: ALL
EOF
PUB='["10.77.1.1:PORT", "10.77.2.1:PORT", "[fd77:0:0:3::1]:PORT"]'
e2e_write "$W/wrapd.yaml" <<EOF
rules: { allow: $W/hosts.allow, deny: $W/hosts.deny }
log: { syslog: false, stderr: true }
actions: { sendmail: $MTA_SENDMAIL }
services:
  # The trap, kept to show it (wrapd warns about it at start).
  - name: smtp-plain
    daemon: smtpd
    listen: ${PUB//PORT/465}
    backend: "127.0.0.1:2525"
  # postfix reads the client from a PROXY header.
  - name: smtp
    daemon: smtpd
    listen: ${PUB//PORT/25}
    backend: "127.0.0.1:2526"
    proxy_protocol: v1
    on_deny:
      reply: "554 5.7.1 Access denied\r\n"
      finger: true
      mail: postmaster
  # postfix sees the client's own address (IP_TRANSPARENT).
  - name: submission
    daemon: smtpd
    listen: ${PUB//PORT/587}
    backend: "127.0.0.1:2527"
    transparent: true
  # wrapd behind a load balancer (10.77.1.3), postfix behind wrapd.
  - name: smtp-lb
    daemon: smtpd
    listen: ["10.77.1.1:2600"]
    backend: "127.0.0.1:2526"
    proxy_protocol: v2
    accept_proxy_from: ["10.77.1.3/32"]
    on_deny: { reply: "554 5.7.1 Access denied\r\n" }${EXIM_SERVICES:-}
EOF
e2e_bg wrapd ip netns exec "$NS_S" "$WRAPD" --config "$W/wrapd.yaml"
WPID=$E2E_LAST_PID
e2e_wait_listen 2600 "$NS_S" "$WPID"
e2e_wait_grep 'ready:' "$W/wrapd.err"
n=$(grep -c 'warning: service ".*": a mail service forwarded to' "$W/wrapd.err")
grep -q 'warning: service "smtp-plain": a mail service forwarded to' "$W/wrapd.err" && [ "$n" = 1 ] ||
	e2e_fail "want one warning, for smtp-plain (the trap), got $n"
e2e_log "ok: wrapd warns about the trap (and only about it) at start"

# swaks_rcpt NS SERVER PORT TO [ARGS] - one SMTP session, its transcript
# in $W/swaks.out (also kept as swaks-N.log); prints the reply to RCPT TO.
SW=0
swaks_rcpt() {
	local ns=$1 server=$2 port=$3 to=$4
	shift 4
	dm_in "$ns" swaks --server "$server" --port "$port" --timeout 10 \
		--helo client.test --from probe@example.com --to "$to" "$@" \
		>"$W/swaks.out" 2>&1
	SW=$((SW + 1))
	cp "$W/swaks.out" "$W/swaks-$SW.log"
	awk '/^ -> RCPT TO/{getline; print; exit}' "$W/swaks.out"
}
relay=victim@example.org
local=postmaster@wrapd.test

# 1. The control: plain forwarding, postfix trusts 127.0.0.1 and relays.
r=$(swaks_rcpt "$NS_A" 10.77.1.1 465 "$relay" --quit-after RCPT)
case $r in "<-  250 "*) e2e_log "ok: the trap: plain forwarding relays for 10.77.1.2 ($r)" ;;
*) e2e_fail "control run: want postfix to relay (250), got '$r'" ;; esac
grep -q 'connect from unknown\[127.0.0.1\]' "$PF_LOG" || e2e_fail "postfix did not see 127.0.0.1"

# 2. PROXY v1 and 3. transparent: local mail accepted, relay refused.
for p in 25 587; do
	r=$(swaks_rcpt "$NS_A" 10.77.1.1 $p "$local")
	case $r in "<-  250 "*) ;; *) e2e_fail "port $p: local mail: RCPT got '$r'" ;; esac
	grep -q '^<-  250 .*queued as' "$W/swaks.out" || e2e_fail "port $p: mail not queued"
	r=$(swaks_rcpt "$NS_A" 10.77.1.1 $p "$relay" --quit-after RCPT)
	case $r in "<** 554 "*"Relay access denied"*) ;;
	*) e2e_fail "port $p: relay: want 554, got '$r'" ;; esac
	e2e_log "ok: port $p: local mail accepted, relay refused ($r)"
done
n=$(grep -c 'NOQUEUE: reject: RCPT from unknown\[10.77.1.2\]: 554 5.7.1 <victim@example.org>: Relay access denied' "$PF_LOG")
[ "$n" = 2 ] || e2e_fail "postfix logged $n relay refusals for 10.77.1.2, want 2"
n=$(grep -c ': connect from unknown\[10.77.1.2\]' "$PF_LOG")
[ "$n" = 4 ] || e2e_fail "postfix logged $n sessions from 10.77.1.2, want 4"
e2e_log "ok: postfix logs the real client 10.77.1.2 (PROXY and transparent)"

# The IPv6-only host, both ways.
for p in 25 587; do
	r=$(swaks_rcpt "$NS_C" fd77:0:0:3::1 $p "$relay" --quit-after RCPT)
	case $r in "<** 554 "*) ;; *) e2e_fail "IPv6 port $p: relay: got '$r'" ;; esac
done
n=$(grep -c 'reject: RCPT from unknown\[fd77:0:0:3::2\]' "$PF_LOG")
[ "$n" = 2 ] || e2e_fail "postfix logged $n refusals for fd77:0:0:3::2, want 2"
e2e_log "ok: IPv6-only host: postfix sees fd77:0:0:3::2 and refuses to relay"

# 4. The denied host: wrapd's reply, never postfix's banner; the report.
for p in 25 587; do
	r=$(dm_in "$NS_B" "$PY" "$DPY" proxy-send --to 10.77.2.1:$p --header "")
	case $p:$r in 25:"data:554 5.7.1 Access denied" | 587:closed | 587:reset) ;;
	*) e2e_fail "denied host, port $p: got '$r'" ;; esac
done
e2e_log "ok: the denied host never gets a postfix banner"
grep -q 'unknown\[10.77.2.2\]' "$PF_LOG" && e2e_fail "postfix saw the denied host"
for i in $(seq 300); do
	grep -q 'finger' "$MTA_INBOX" 2>/dev/null && break
	sleep 0.1
done
grep -q '10.77.2.2' "$MTA_INBOX" || e2e_fail "no report mail about 10.77.2.2"
e2e_logcheck "$W/wrapd.err" --count 1 client=10.77.2.2 service=smtp verdict=deny
e2e_log "ok: on_deny finger and mail: the report reached the mailbox"
if [ -n "${IDENT:-}" ]; then
	e2e_logcheck "$W/wrapd.err" --count 1 client=10.77.2.2 service=smtp user=root verdict=deny
	e2e_log "ok: the denied host's oidentd named its user (rfc931)"
fi

# 5. Behind a load balancer: its header decides; others' headers do not.
hdr='PROXY TCP4 10.77.1.9 10.77.1.1 40000 2600\r\n'
r=$(dm_in "$NS_A" "$PY" "$DPY" proxy-send --to 10.77.1.1:2600 --src 10.77.1.3 --header "$hdr")
case $r in "data:220 mx.wrapd.test"*) ;; *) e2e_fail "balancer's client: got '$r'" ;; esac
e2e_logcheck "$W/wrapd.err" --count 1 service=smtp-lb client=10.77.1.9 verdict=grant
grep -q 'service=smtp-lb client=10.77.1.9:40000 ' "$W/wrapd.err" ||
	e2e_fail "the log does not have the header's client port"
e2e_wait_grep 'connect from unknown\[10.77.1.9\]' "$PF_LOG"
e2e_log "ok: a header from the balancer: decided and passed on as 10.77.1.9"
r=$(dm_in "$NS_A" "$PY" "$DPY" proxy-send --to 10.77.1.1:2600 --src 10.77.1.3 \
	--header 'PROXY TCP4 10.77.2.9 10.77.1.1 40001 2600\r\n')
[ "$r" = "data:554 5.7.1 Access denied" ] || e2e_fail "balancer's denied client: got '$r'"
r=$(dm_in "$NS_A" "$PY" "$DPY" proxy-send --to 10.77.1.1:2600 --src 10.77.1.2 --header "$hdr")
case $r in reset | closed) ;; *) e2e_fail "untrusted peer's header: got '$r'" ;; esac
e2e_logcheck "$W/wrapd.err" --count 1 service=smtp-lb client=10.77.1.2 reason=proxy-untrusted
r=$(dm_in "$NS_A" "$PY" "$DPY" proxy-send --to 10.77.1.1:2600 --src 10.77.1.3 \
	--header 'EHLO no.header.example\r\n')
case $r in reset | closed) ;; *) e2e_fail "balancer without a header: got '$r'" ;; esac
e2e_logcheck "$W/wrapd.err" --count 1 service=smtp-lb reason=proxy-header-bad
e2e_log "ok: an untrusted peer's PROXY header, and a missing one, are refused"
n=$(grep -c ': connect from unknown\[10.77.1.9\]' "$PF_LOG")
[ "$n" = 1 ] || e2e_fail "postfix saw 10.77.1.9 $n times, want 1"

# 6. exim: transparent and exec both show it the client.
if [ -n "${EXIM_SERVICES:-}" ]; then
	for p in 2528 2529; do
		r=$(swaks_rcpt "$NS_A" 10.77.1.1 $p "$relay" --quit-after RCPT)
		case $r in "<** 550 relay not permitted"*) ;;
		*) e2e_fail "exim, port $p: relay: want 550, got '$r'" ;; esac
		r=$(swaks_rcpt "$NS_A" 10.77.1.1 $p "$local" --quit-after RCPT)
		case $r in "<-  250 "*) ;; *) e2e_fail "exim, port $p: local: got '$r'" ;; esac
	done
	n=$(grep -c 'H=(client.test) \[10.77.1.2\].*relay not permitted' "$W/exim/log/rejectlog" 2>/dev/null)
	[ "$n" -ge 2 ] || e2e_fail "exim logged $n relay refusals for [10.77.1.2], want 2"
	e2e_log "ok: exim (no PROXY support) sees 10.77.1.2 in transparent and exec mode, refuses to relay"
fi
e2e_stop_wrapd "$WPID"
