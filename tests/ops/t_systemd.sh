#!/usr/bin/env bash
# The systemd units in contrib/systemd:
#  a) systemd-analyze verify accepts wrapd.service, wrapd.socket and
#     wrapd@NAME.socket (with a port drop-in), with no warning about our
#     files (an unknown key or value is only a warning to systemd, and
#     fails here); the sandbox's own messages are ignored;
#  b) there is no systemd as PID 1 here, so the sockets are passed the way
#     the units pass them, by systemd-socket-activate: one fd named as
#     wrapd.socket's FileDescriptorName=, one named as wrapd@NAME.socket's
#     (the instance), each reaching the wrapd.yaml service of that name;
#     Type=notify: READY=1 arrives on NOTIFY_SOCKET, and ExecReload's
#     SIGHUP gives RELOADING=1 then READY=1 again.
. "$(dirname "$0")/../e2e/lib.sh"
e2e_require_cmd systemd-analyze systemd-socket-activate
OPS="$(cd "$(dirname "$0")" && pwd)/ops.py"
U="$SRCDIR/contrib/systemd"

# --- a) systemd-analyze verify, on copies whose ExecStart is this build's
# wrapd (verify checks that the program exists)
V="$W/units"
mkdir -p "$V/wrapd@alpha.socket.d"
sed "s|/usr/sbin/wrapd|$WRAPD|g" "$U/wrapd.service" >"$V/wrapd.service"
cp "$U/wrapd.socket" "$U/wrapd@.socket" "$V/"
printf '[Socket]\nListenStream=127.0.0.1:7981\n' >"$V/wrapd@alpha.socket.d/port.conf"
grep -q '^Type=notify$' "$V/wrapd.service" || e2e_fail "wrapd.service is not Type=notify"
grep -q '^ExecReload=/bin/kill -HUP \$MAINPID$' "$V/wrapd.service" || e2e_fail "ExecReload"
for unit in wrapd.service wrapd.socket wrapd@alpha.socket; do
	(cd "$V" && systemd-analyze verify --man=no "./$unit") >"$W/verify-$unit.log" 2>&1
	rc=$?
	# Our files' problems name the file (FILE:LINE: ...) or the unit.
	if [ "$rc" != 0 ] || grep -E "(wrapd[^ ]*\.(service|socket))(:[0-9]+)?: " "$W/verify-$unit.log" |
		grep -vE "Command .* is not executable: No such file" | grep -q .; then
		e2e_fail "systemd-analyze verify $unit (exit $rc): $(cat "$W/verify-$unit.log")"
	fi
	e2e_log "ok: systemd-analyze verify $unit"
done
# The test can fail: a misspelt key is caught.
sed 's/^PrivateTmp=/PrivateTemp=/' "$V/wrapd.service" >"$V/broken.service"
(cd "$V" && systemd-analyze verify --man=no ./broken.service) >"$W/verify-broken.log" 2>&1
grep -q "broken.service:[0-9]*: Unknown key" "$W/verify-broken.log" ||
	e2e_fail "a misspelt key went unnoticed: $(cat "$W/verify-broken.log")"

# --- b) the units' socket names, under systemd-socket-activate
SOCKNAME=$(sed -n 's/^FileDescriptorName=//p' "$U/wrapd.socket")
[ -n "$SOCKNAME" ] || e2e_fail "wrapd.socket has no FileDescriptorName="
grep -q '^FileDescriptorName=%i$' "$U/wrapd@.socket" || e2e_fail "wrapd@.socket does not name its fd %i"
INSTANCE=alpha
e2e_port P1
e2e_port P2
e2e_port B1
e2e_port B2
e2e_echo_backend b1 "127.0.0.1:$B1"
e2e_echo_backend b2 "127.0.0.1:$B2"
e2e_write "$W/hosts.allow" <<<"ALL: 127.0.0.2"
e2e_write "$W/hosts.deny" <<<"ALL: ALL"
e2e_write "$W/wrapd.yaml" <<YAML
rules: { allow: $W/hosts.allow, deny: $W/hosts.deny }
log: { syslog: false }
services:
  - name: $SOCKNAME
    listen: ["systemd"]
    backend: "127.0.0.1:$B1"
  - name: $INSTANCE
    listen: ["systemd"]
    backend: "127.0.0.1:$B2"
YAML
SE=()
for v in ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS; do
	[ -n "${!v:-}" ] && SE+=(-E "$v")
done
e2e_bg notify "$PY" "$OPS" notify --socket "$W/notify.sock" --out "$W/notify.log"
e2e_wait_file "$W/notify.sock" "$E2E_LAST_PID"
# The command line of wrapd.service's ExecStart, with this test's file.
e2e_bg wrapd systemd-socket-activate "${SE[@]+"${SE[@]}"}" -E NOTIFY_SOCKET="$W/notify.sock" \
	-l "127.0.0.1:$P1" -l "127.0.0.1:$P2" --fdname="$SOCKNAME:$INSTANCE" \
	"$WRAPD" --config "$W/wrapd.yaml"
WPID=$E2E_LAST_PID
e2e_wait_listen "$P2" "" "$WPID"
e2e_expect "wrapd.socket's fd ($SOCKNAME)" \
	"$(e2e_client -- --src 127.0.0.2 --to "127.0.0.1:$P1" --send to-first)" echo
e2e_wait_grep '^READY=1' "$W/notify.log"
e2e_log "ok: READY=1 (Type=notify)"
e2e_expect "wrapd@$INSTANCE.socket's fd" \
	"$(e2e_client -- --src 127.0.0.2 --to "127.0.0.1:$P2" --send to-second)" echo
grep -q 'data .* to-first' "$W/b1.log" || e2e_fail "$SOCKNAME's backend missed its client"
grep -q 'data .* to-second' "$W/b2.log" || e2e_fail "$INSTANCE's backend missed its client"
e2e_logcheck "$W/wrapd.err" --count 1 service="$SOCKNAME" client=127.0.0.2 verdict=grant
e2e_logcheck "$W/wrapd.err" --count 1 service="$INSTANCE" client=127.0.0.2 verdict=grant
# ExecReload: /bin/kill -HUP $MAINPID
/bin/kill -HUP "$WPID"
e2e_wait_grep '^RELOADING=1' "$W/notify.log"
for i in $(seq 300); do
	[ "$(grep -c '^READY=1' "$W/notify.log")" -ge 2 ] && break
	sleep 0.1
done
[ "$(grep -c '^READY=1' "$W/notify.log")" -ge 2 ] || e2e_fail "no READY=1 after the reload: $(cat "$W/notify.log")"
e2e_log "ok: SIGHUP gives RELOADING=1 then READY=1"
e2e_stop_wrapd "$WPID"
e2e_wait_grep '^STOPPING=1' "$W/notify.log"
