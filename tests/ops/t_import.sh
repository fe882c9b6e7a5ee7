#!/usr/bin/env bash
# wrapd import, on the real files Debian's packages install:
#  a) openbsd-inetd's /etc/inetd.conf (with fingerd's tcpd line), plus
#     lines written as update-inetd writes them (tabs, "#<off>#") and odd
#     ones (continuation, user.group, tcp6, wait.max, internal, UDP, RPC,
#     an unknown service, control bytes, too few fields); the output loads
#     with wrapd's configuration loader, and the real wrapd runs it in a
#     private network namespace: a finger query reaches the real in.fingerd
#     through tcpd's daemon name.
#  b) xinetd's package, unpacked (it conflicts with openbsd-inetd):
#     /etc/xinetd.d (all disabled or internal: nothing to convert, exit 1)
#     and the sample.conf it ships (instances, bind, redirect, only_from
#     with trailing-zero and CIDR forms, access_times with its last
#     minute, nice noted with file:line); plus a directory of our own
#     with only_from/no_access written by --rules into new files, which
#     wrapd then enforces.
#  c) a missing file, usage errors, --rules never writing over a file.
#  Every wrapd.yaml written loads, and wrapd check --config finds no error.
. "$(dirname "$0")/../e2e/lib.sh"
e2e_require_root_netns
e2e_require_cmd /usr/sbin/in.fingerd /usr/sbin/tcpd
OPS="$(cd "$(dirname "$0")" && pwd)/ops.py"
LOADER=${WRAPD_OPS_CONF_LOAD:?the ctest sets WRAPD_OPS_CONF_LOAD}
[ -f /etc/inetd.conf ] || e2e_skip "no /etc/inetd.conf (openbsd-inetd, contrib/install-deps.sh)"
grep -q '^finger.*/usr/sbin/tcpd' /etc/inetd.conf ||
	e2e_skip "/etc/inetd.conf has no tcpd finger line (fingerd's postinst writes it)"
e2e_netns
NS=$E2E_NS
PRE=(ip netns exec "$NS")
FPORT=7979 XPORT=7980

imp() { # OUT KIND [ARGS...]: wrapd import, stdout to OUT, stderr to OUT.err
	local out=$1
	shift
	"$WRAPD" import "$@" >"$W/$out" 2>"$W/$out.err"
	RC=$?
}
has() { grep -qF -- "$1" "$W/$2" || e2e_fail "no '$1' in $2: $(cat "$W/$2")"; }
loads() {
	"$LOADER" "$W/$1" >"$W/$1.load" 2>&1 || e2e_fail "$1 does not load: $(cat "$W/$1.load")"
	e2e_log "ok: $1 loads with wrapd's configuration loader ($(cat "$W/$1.load"))"
	# and wrapd check --config finds no error in it (warnings may be)
	"$WRAPD" check --config "$W/$1" >"$W/$1.check" 2>&1 ||
		e2e_fail "wrapd check --config $1: exit $?: $(cat "$W/$1.check")"
	e2e_log "ok: wrapd check --config $1: $(tail -1 "$W/$1.check")"
}

# --- a) inetd
cp /etc/inetd.conf "$W/inetd.conf"
n0=$(wc -l <"$W/inetd.conf")
finger_line=$(grep -n '^finger' "$W/inetd.conf" | cut -d: -f1)
T=$'\t'
{
	echo "#:OTHER: lines as update-inetd --add writes them"
	echo "127.0.0.1:$FPORT${T}stream${T}tcp${T}nowait${T}nobody${T}/usr/sbin/tcpd${T}/usr/sbin/in.fingerd"
	echo "#<off># ftp${T}stream${T}tcp${T}nowait${T}root${T}/usr/sbin/tcpd${T}/usr/sbin/in.ftpd"
	echo "discard${T}dgram${T}udp${T}wait${T}root${T}internal"
	echo "echo${T}stream${T}tcp${T}nowait${T}root${T}internal"
	echo "rstatd/1-5${T}dgram${T}rpc/udp${T}wait${T}root${T}/usr/sbin/rpc.rstatd"
	echo "auth${T}stream${T}tcp6${T}wait.50${T}nobody.nogroup${T}/usr/sbin/in.identd in.identd -l"
	echo "telnet${T}stream${T}tcp4${T}nowait${T}nobody:nogroup${T}/usr/sbin/tcpd"
	echo "${T}in.telnetd${T}-h"
	echo "nosuchservice stream tcp nowait root /bin/true true"
	echo "this is no entry"
	printf 'daytime\tstream\ttcp\tnowait\troot\t/bin/date date \033[2J\n'
} >>"$W/inetd.conf"
imp inetd.yaml inetd "$W/inetd.conf"
[ "$RC" = 0 ] || e2e_fail "import inetd: exit $RC: $(cat "$W/inetd.yaml.err")"
has '- name: "finger"' inetd.yaml
has 'daemon: "in.fingerd"' inetd.yaml
has 'exec: ["/usr/sbin/in.fingerd"]' inetd.yaml
has 'listen: ["[::]:79"]' inetd.yaml
has "# from $W/inetd.conf:$finger_line" inetd.yaml
has "listen: [\"127.0.0.1:$FPORT\"]" inetd.yaml
has '- name: "auth"' inetd.yaml
has 'listen: ["[::]:113"]' inetd.yaml
has 'exec: ["/usr/sbin/in.identd", "-l"]' inetd.yaml
has 'group: "nogroup"' inetd.yaml
has 'max_connections: 1' inetd.yaml
has 'exec: ["/usr/sbin/in.telnetd", "-h"]' inetd.yaml
has 'daemon: "in.telnetd"' inetd.yaml
has 'listen: ["0.0.0.0:23"]' inetd.yaml
L() { echo "$W/inetd.conf:$((n0 + $1)): note: $2"; }
has "$(L 3 'disabled by update-inetd')" inetd.yaml.err
has "$(L 4 'discard: dgram/udp: wrapd serves TCP streams only: skipped')" inetd.yaml.err
has "$(L 5 "echo: inetd's internal services are not mapped: skipped")" inetd.yaml.err
has "$(L 6 'rstatd/1-5: RPC services are not mapped: skipped')" inetd.yaml.err
has "$(L 7 'auth: "wait" becomes max_connections: 1')" inetd.yaml.err
has "$(L 7 'auth: "wait.50": the rate .max (per minute) is not mapped')" inetd.yaml.err
has "$(L 10 'service "nosuchservice" has no TCP port')" inetd.yaml.err
has "$(L 11 'an entry needs 6 fields, this one has 4: skipped')" inetd.yaml.err
has "$(L 12 'field 8 has control or non-ASCII bytes: skipped')" inetd.yaml.err
grep -q $'\033' "$W/inetd.yaml" "$W/inetd.yaml.err" && e2e_fail "a control byte reached the output"
grep -q daytime "$W/inetd.yaml" && e2e_fail "the hostile daytime line was converted"
loads inetd.yaml
e2e_log "ok: inetd.conf converted, every skipped line noted with file:line"

# The real wrapd runs it (in the namespace: ports 79, 113, 23 are free
# there); the finger query goes through wrapd to tcpd's program.
e2e_write "$W/hosts.allow" <<<"in.fingerd: 127.0.0.2"
e2e_write "$W/hosts.deny" <<<"ALL: ALL"
{
	printf 'rules: { allow: %s, deny: %s }\nlog: { syslog: false }\n' \
		"$W/hosts.allow" "$W/hosts.deny"
	cat "$W/inetd.yaml"
} | e2e_write "$W/inetd-run.yaml"
e2e_bg wrapd-inetd "${PRE[@]}" "$WRAPD" --config "$W/inetd-run.yaml"
WPID=$E2E_LAST_PID
e2e_wait_listen $FPORT "$NS" "$WPID"
out=$("${PRE[@]}" "$PY" "$OPS" finger --src 127.0.0.2 --to "127.0.0.1:$FPORT")
case $out in
reply:*) e2e_log "ok: in.fingerd answered through wrapd: $out" ;;
*) e2e_fail "finger from 127.0.0.2: $out" ;;
esac
out=$("${PRE[@]}" "$PY" "$OPS" finger --src 127.0.0.3 --to "127.0.0.1:$FPORT")
case $out in closed | reset) e2e_log "ok: 127.0.0.3 denied: $out" ;;
*) e2e_fail "finger from 127.0.0.3: $out, want closed or reset" ;; esac
e2e_logcheck "$W/wrapd-inetd.err" --count 1 service=$FPORT client=127.0.0.2 verdict=grant
e2e_stop_wrapd "$WPID"

# --- b) xinetd, from its package
XI="$W/xinetd"
mkdir -p "$XI"
# A machine whose package lists are old or missing updates them once.
if (cd "$XI" && apt-get download xinetd >"$W/apt.log" 2>&1) ||
	{ timeout 300 apt-get update -qq >>"$W/apt.log" 2>&1 &&
		(cd "$XI" && apt-get download xinetd >>"$W/apt.log" 2>&1); }; then
	dpkg-deb -x "$XI"/xinetd_*.deb "$XI/root" || e2e_fail "dpkg-deb -x xinetd"
	imp xd.yaml xinetd "$XI/root/etc/xinetd.d"
	[ "$RC" = 1 ] || e2e_fail "Debian's xinetd.d (all disabled): exit $RC, want 1"
	has "$XI/root/etc/xinetd.d/daytime:7: note: daytime: disabled (disable = yes): skipped" xd.yaml.err
	has "no TCP service to convert" xd.yaml.err
	gzip -dc "$XI/root/usr/share/doc/xinetd/examples/sample.conf.gz" >"$W/sample.conf" ||
		e2e_fail "xinetd's sample.conf.gz"
	imp sample.yaml xinetd "$W/sample.conf"
	[ "$RC" = 0 ] || e2e_fail "sample.conf: exit $RC: $(cat "$W/sample.yaml.err")"
	S="$W/sample.conf"
	line_of() { grep -n "$1" "$S" | head -1 | cut -d: -f1; }
	has '- name: "ftp"' sample.yaml
	has 'exec: ["/usr/etc/in.ftpd", "-l"]' sample.yaml
	has 'max_connections: 4' sample.yaml
	has 'max_connections: 25' sample.yaml
	has 'listen: ["127.0.0.1:23"]' sample.yaml
	has 'listen: ["192.231.139.175:23"]' sample.yaml
	has 'backend: "128.138.202.20:23"' sample.yaml
	# xinetd's windows include their last minute: 8:59 ends at 09:00
	has 'access_times: ["02:00-09:00", "12:00-24:00"]' sample.yaml
	has "$S:$(line_of 'nice'): note: ftp: nice is not mapped" sample.yaml.err
	has "tftp: disabled by the defaults' disabled/enabled list: skipped" sample.yaml.err
	has "comsat: dgram: wrapd serves TCP streams only: skipped" sample.yaml.err
	has "rstatd: internal, RPC and TCPMUX services are not mapped: skipped" sample.yaml.err
	has "ftp: 128.138.193. 128.138.204. 128.138.209. 128.138.243. localhost 192.231.139.0/255.255.255.0" sample.yaml.err
	has "systat: 128.138.209." sample.yaml.err
	loads sample.yaml
	e2e_log "ok: xinetd's own files: xinetd.d noted as disabled, sample.conf converted"
else
	e2e_log "note: apt-get download xinetd failed (no Debian archive?): $(tail -1 "$W/apt.log"); the package's files were not tested"
	e2e_softfail "apt-get download xinetd failed"
fi

# Our own xinetd.d: a tcpd-wrapped finger with every mapped attribute.
D="$W/xinetd.d"
mkdir -p "$D" "$W/rules"
cat >"$D/finger" <<XI
# default: on
service finger
{
	disable		= no
	socket_type	= stream
	protocol	= tcp
	wait		= no
	user		= nobody
	flags		= IPv4 NAMEINARGS
	server		= /usr/sbin/tcpd
	server_args	= /usr/sbin/in.fingerd
	port		= $XPORT
	bind		= 127.0.0.1
	only_from	= 127.0.0.0/8
	only_from	+= 10.{1,2}
	no_access	= 127.0.0.3
	per_source	= 2
	instances	= 5
	access_times	= 0:00-23:59
	banner		= /etc/issue.net
	no_such_key	= 1
}
XI
printf 'service broken\n{\n\tsocket_type = stream\n' >"$D/broken"
printf 'service ignored\n{\n}\n' >"$D/finger.dpkg-old"
printf 'service ignored2\n{\n}\n' >"$D/finger~"
imp own.yaml xinetd "$D" --rules "$W/rules"
[ "$RC" = 0 ] || e2e_fail "own xinetd.d: exit $RC: $(cat "$W/own.yaml.err")"
has 'daemon: "in.fingerd"' own.yaml
has "listen: [\"127.0.0.1:$XPORT\"]" own.yaml
has 'per_source: { connections: 2 }' own.yaml
has 'max_connections: 5' own.yaml
has "allow: \"$W/rules/hosts.allow\"" own.yaml
has 'access_times: ["00:00-24:00"]' own.yaml
has "$D/finger:20: note: finger: banner is not mapped" own.yaml.err
has "$D/finger:21: note: finger: no_such_key is not mapped" own.yaml.err
has "$D/broken:3: note: the last section has no closing '}'" own.yaml.err
grep -q ignored "$W/own.yaml" "$W/own.yaml.err" && e2e_fail "files with '.' or '~' were read"
has "in.fingerd: 127.0.0.0/255.0.0.0 10.1. 10.2. EXCEPT 127.0.0.3" rules/hosts.allow
has "in.fingerd: ALL" rules/hosts.deny
loads own.yaml
# --rules never writes over a file, and leaves nothing half-written
cp "$W/rules/hosts.allow" "$W/allow.before"
imp again.yaml xinetd "$D" --rules "$W/rules"
[ "$RC" = 1 ] || e2e_fail "--rules over existing files: exit $RC, want 1"
has "File exists" again.yaml.err
cmp -s "$W/rules/hosts.allow" "$W/allow.before" || e2e_fail "--rules changed an existing file"
[ -s "$W/again.yaml" ] && e2e_fail "a wrapd.yaml was printed although the rules were not written"
# the real wrapd enforces the converted only_from / no_access
{
	printf 'log: { syslog: false }\n'
	cat "$W/own.yaml"
} | e2e_write "$W/own-run.yaml"
e2e_bg wrapd-xinetd "${PRE[@]}" "$WRAPD" --config "$W/own-run.yaml"
WPID=$E2E_LAST_PID
e2e_wait_listen $XPORT "$NS" "$WPID"
out=$("${PRE[@]}" "$PY" "$OPS" finger --src 127.0.0.2 --to "127.0.0.1:$XPORT")
case $out in reply:*) e2e_log "ok: only_from 127.0.0.0/8 lets 127.0.0.2 in: $out" ;;
*) e2e_fail "finger from 127.0.0.2 (only_from): $out" ;; esac
out=$("${PRE[@]}" "$PY" "$OPS" finger --src 127.0.0.3 --to "127.0.0.1:$XPORT")
case $out in closed | reset) e2e_log "ok: no_access 127.0.0.3 is refused: $out" ;;
*) e2e_fail "finger from 127.0.0.3 (no_access): $out" ;; esac
e2e_logcheck "$W/wrapd-xinetd.err" --count 1 client=127.0.0.3 verdict=deny 'rule$=hosts.deny:3'
e2e_stop_wrapd "$WPID"

# --- c) errors
imp missing.yaml inetd "$W/no-such-inetd.conf"
[ "$RC" = 1 ] || e2e_fail "missing inetd.conf: exit $RC, want 1"
has "no-such-inetd.conf: No such file or directory" missing.yaml.err
imp missing.yaml xinetd "$W/no-such-dir"
[ "$RC" = 1 ] || e2e_fail "missing xinetd dir: exit $RC, want 1"
imp usage.yaml
[ "$RC" = 2 ] || e2e_fail "no kind: exit $RC, want 2"
imp usage.yaml rinetd
[ "$RC" = 2 ] || e2e_fail "unknown kind: exit $RC, want 2"
imp usage.yaml inetd a b
[ "$RC" = 2 ] || e2e_fail "two paths: exit $RC, want 2"
imp usage.yaml inetd --bogus
[ "$RC" = 2 ] || e2e_fail "--bogus: exit $RC, want 2"
e2e_log "ok: missing inputs exit 1, usage errors 2"
