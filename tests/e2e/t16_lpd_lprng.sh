#!/usr/bin/env bash
# Scenario 16: LPD with LPRng behind wrapd in transparent mode.  lpd runs
# on 127.0.0.1:5515 of the server namespace, in a private mount namespace
# (Debian's LPRng always reads /etc/lprng/lpd.conf: a private one is
# bind-mounted over it, and a private /etc/hosts with this host's name).
# Its lpd.perms accept only the allowed net, from a reserved port:
#   REJECT SERVICE=X NOT REMOTEIP=10.77.1.0/24
#   REJECT SERVICE=X NOT PORT=1-1023
# Through wrapd in transparent mode, lpq and lpr from the allowed host (as
# root: ports 721-731) work, because lpd sees the real address and the
# client's own reserved port; the same client as an ordinary user (an
# unreserved port) is refused by lpd, as it would be without wrapd; the
# denied host is refused by wrapd.  The control, plain forwarding, shows
# the problem: lpd sees 127.0.0.1 with an ephemeral port, and refuses
# everyone (a permissive lpd.perms would accept everyone instead).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_daemons.sh"
e2e_require_cmd /usr/sbin/lpd lpq lpr unshare setpriv
getent group lp >/dev/null || e2e_skip "no lp group (package lprng)"
dm_topology

L="$W/lpd"
mkdir -p "$L/spool/lp" "$L/out"
: >"$L/out/lp.out"
chown -R daemon:lp "$L/spool" "$L/out"
e2e_write "$L/printcap" <<EOF
lp:
  :lp=$L/out/lp.out
  :sd=$L/spool/lp
  :sh:mx=0
EOF
e2e_write "$L/lpd.perms" <<EOF
REJECT SERVICE=X NOT REMOTEIP=10.77.1.0/24
REJECT SERVICE=X NOT PORT=1-1023
DEFAULT ACCEPT
EOF
e2e_write "$L/lpd.conf" <<EOF
lpd_listen_port=127.0.0.1%5515
printcap_path=$L/printcap
perms_path=$L/lpd.perms
lockfile=$L/lpd.lock
unix_socket_path=off
EOF
printf '127.0.0.1 localhost %s\n' "$(hostname)" >"$L/hosts"
# The clients read lpd.conf too (for /etc/printcap, which may not exist).
: >"$L/client.printcap"
printf 'printcap_path=%s\n' "$L/client.printcap" >"$L/client.conf"
chmod 644 "$L"/printcap "$L"/lpd.perms "$L"/lpd.conf "$L"/hosts "$L"/client.*
e2e_bg lpd ip netns exec "$NS_S" unshare -m sh -c '
	mount --bind "$1/lpd.conf" /etc/lprng/lpd.conf &&
	mount --bind "$1/hosts" /etc/hosts &&
	exec /usr/sbin/lpd -F' sh "$L"
e2e_wait_listen 5515 "$NS_S" "$E2E_LAST_PID"
dm_transparent_routes 5515

# lp NS CMD... - an LPRng client in namespace NS, with the private
# client configuration.
lp() {
	local ns=$1
	shift
	timeout 30 ip netns exec "$ns" unshare -m sh -c '
		mount --bind "$1" /etc/lprng/lpd.conf && shift && exec "$@"' \
		sh "$L/client.conf" "$@"
}

e2e_write "$W/hosts.allow" <<EOF
lpd: 10.77.1.0/255.255.255.0
EOF
e2e_write "$W/hosts.deny" <<EOF
ALL: ALL
EOF
e2e_write "$W/wrapd.yaml" <<EOF
rules: { allow: $W/hosts.allow, deny: $W/hosts.deny }
log: { syslog: false, stderr: true }
services:
  - name: printer
    daemon: lpd
    listen: ["10.77.1.1:515", "10.77.2.1:515"]
    backend: "127.0.0.1:5515"
    transparent: true
  - name: printer-plain
    daemon: lpd
    listen: ["10.77.1.1:1515"]
    backend: "127.0.0.1:5515"
EOF
e2e_bg wrapd ip netns exec "$NS_S" "$WRAPD" --config "$W/wrapd.yaml"
WPID=$E2E_LAST_PID
e2e_wait_listen 1515 "$NS_S" "$WPID"

# The allowed host, as root (reserved ports): lpq and lpr.
out=$(lp "$NS_A" lpq -P lp@10.77.1.1%515 2>&1) || e2e_fail "lpq from the allowed host: $out"
case $out in *"lp@"*) ;; *) e2e_fail "lpq: no queue status in '$out'" ;; esac
case $out in *"permission"* | *"no connect"*) e2e_fail "lpq refused: $out" ;; esac
e2e_log "ok: lpq from the allowed host (lpd saw 10.77.1.2 on a reserved port)"
echo "printed through wrapd $$" >"$W/job.txt"
out=$(lp "$NS_A" lpr -P lp@10.77.1.1%515 "$W/job.txt" 2>&1) || e2e_fail "lpr: $out"
for i in $(seq 300); do
	grep -q "printed through wrapd $$" "$L/out/lp.out" && break
	sleep 0.1
done
grep -q "printed through wrapd $$" "$L/out/lp.out" || e2e_fail "the job was not printed"
e2e_log "ok: lpr from the allowed host: the job was printed"

# The same host as an ordinary user: an unreserved port, refused by lpd.
out=$(lp "$NS_A" setpriv --reuid=65534 --regid=65534 --clear-groups \
	lpq -P lp@10.77.1.1%515 2>&1)
case $out in *"no connect permissions"* | *"permission"*) ;;
*) e2e_fail "lpq from an unreserved port: want lpd's refusal, got '$out'" ;; esac
e2e_log "ok: from an unreserved port, lpd's own check refuses (wrapd kept the port)"

# The denied host: wrapd refuses it.
out=$(lp "$NS_B" lpq -P lp@10.77.2.1%515 2>&1)
case $out in *"Printer: lp@"*"Queue"* | *"no entries"*) e2e_fail "denied host got the queue: $out" ;; esac
e2e_logcheck "$W/wrapd.err" --count 1 service=printer client=10.77.2.2 verdict=deny
e2e_log "ok: the denied host is refused by wrapd"

# The control: plain forwarding hides the client from lpd.perms.
out=$(lp "$NS_A" lpq -P lp@10.77.1.1%1515 2>&1)
case $out in *"no connect permissions"* | *"permission"*) ;;
*) e2e_fail "plain forwarding: want lpd's refusal, got '$out'" ;; esac
e2e_log "ok: control: plain forwarding, lpd sees 127.0.0.1 and refuses"
e2e_logcheck "$W/wrapd.err" --count 3 service=printer client=10.77.1.2 verdict=grant
e2e_stop_wrapd "$WPID"

# Without the capability, transparent mode is an error at start, not a
# failure per connection (quick mode's --transparent).
ip netns exec "$NS_S" setpriv --reuid=65534 --regid=65534 --clear-groups \
	--inh-caps=-all --bounding-set=-all "$WRAPD" --listen 10.77.1.1:2515 \
	--backend 127.0.0.1:5515 --daemon lpd --transparent --no-syslog \
	--allow "$W/hosts.allow" --deny "$W/hosts.deny" >"$W/nocap.out" 2>"$W/nocap.err" &&
	e2e_fail "wrapd without CAP_NET_ADMIN started in transparent mode"
grep -q 'transparent: cannot make a transparent socket' "$W/nocap.err" ||
	e2e_fail "no clear error without the capability: $(cat "$W/nocap.err")"
e2e_log "ok: without CAP_NET_ADMIN, --transparent stops the start with the reason"
