#!/usr/bin/env bash
# services[].user and group (inetd's user field), through the wrapd binary:
#   idn:  exec /usr/bin/id as user nobody          -> nobody, no other group
#   idg:  exec id as user nobody, group daemon     -> gid daemon
#   idr:  exec id with no user                     -> root (wrapd's own)
#   spd:  backend service as nobody: spawn, aclexec and twist run as nobody
#   ovd:  as nobody, but the rule says "user daemon": spawn runs as daemon
# and the errors: an unknown user or group (file:line:col), a service user
# other than the one wrapd drops to, the quick-mode flags.
#   run: bash tests/actions/t_exec_user.sh WRAPD SRCDIR
. "${2:-$(dirname "$0")/../..}/tests/e2e/lib.sh"
ACT="$SRCDIR/tests/actions/act.py"
e2e_require_root
getent passwd nobody >/dev/null && getent group daemon >/dev/null ||
	e2e_skip "needs user nobody and group daemon"

talk() { "$PY" "$ACT" talk "$@"; }
e2e_port B
e2e_port P1
e2e_port P2
e2e_port P3
e2e_port P4
e2e_port P5
e2e_port P6
# The commands write here as nobody or daemon.
mkdir -p "$W/out"
chmod 1777 "$W/out"
NOBODY="uid=65534(nobody) gid=65534($(getent group 65534 | cut -d: -f1))"

e2e_write "$W/hosts.allow" <<EOF
spd: ALL: aclexec test "\$(id -u)" = 65534 : spawn echo "spawn \$(id -u) \$(id -g)" > $W/out/spawn.id
twd: ALL: twist echo "twist \$(id -u) \$(id -g)"
ovd: ALL: user daemon : spawn echo "rule-user \$(id -u) \$(id -g)" > $W/out/ov.id
idn idg idr: ALL
EOF
# If aclexec ran as root it would fail, and this would deny.
e2e_write "$W/hosts.deny" <<EOF
ALL: ALL
EOF
e2e_write "$W/wrapd.yaml" <<EOF
rules: { allow: $W/hosts.allow, deny: $W/hosts.deny }
log: { syslog: false, stderr: true }
services:
  - { name: idn, listen: ["127.0.0.1:$P1"], exec: ["/usr/bin/id"], user: nobody }
  - { name: idg, listen: ["127.0.0.1:$P2"], exec: ["/usr/bin/id"], user: nobody, group: daemon }
  - { name: idr, listen: ["127.0.0.1:$P3"], exec: ["/usr/bin/id"] }
  - { name: sp, daemon: spd, listen: ["127.0.0.1:$P4"], backend: "127.0.0.1:$B", user: nobody }
  - { name: tw, daemon: twd, listen: ["127.0.0.1:$P5"], backend: "127.0.0.1:$B", user: nobody }
  - { name: ov, daemon: ovd, listen: ["127.0.0.1:$P6"], backend: "127.0.0.1:$B", user: nobody }
EOF
e2e_echo_backend echo "127.0.0.1:$B"
e2e_bg wrapd "$WRAPD" --config "$W/wrapd.yaml"
WPID=$E2E_LAST_PID
for p in $P1 $P2 $P3 $P4 $P5 $P6; do e2e_wait_listen "$p" "" "$WPID"; done

e2e_expect "exec as nobody" "$(talk --to "127.0.0.1:$P1")" \
	"b'$NOBODY groups=65534($(getent group 65534 | cut -d: -f1))\\n'"
e2e_expect "exec as nobody, group daemon" "$(talk --to "127.0.0.1:$P2")" \
	"b'uid=65534(nobody) gid=1(daemon) groups=1(daemon)\\n'"
case $(talk --to "127.0.0.1:$P3") in
"b'uid=0(root) gid=0(root)"*) e2e_log "ok: exec without user runs as wrapd (root)" ;;
*) e2e_fail "exec without user: $(talk --to "127.0.0.1:$P3")" ;;
esac
# aclexec (as nobody) kept the match, so the spawn ran, as nobody too.
e2e_expect "aclexec as nobody -> grant" \
	"$(talk --to "127.0.0.1:$P4" --send hi --shut)" "b'hi\\n'"
e2e_wait_file "$W/out/spawn.id"
e2e_expect "spawn as nobody" "$(cat "$W/out/spawn.id")" "spawn 65534 65534"
e2e_expect "twist as nobody" "$(talk --to "127.0.0.1:$P5")" "b'twist 65534 65534\\n'"
talk --to "127.0.0.1:$P6" --send x --shut >/dev/null
e2e_wait_file "$W/out/ov.id"
e2e_expect "the rule's user option wins" "$(cat "$W/out/ov.id")" "rule-user 1 1"

# Config errors name file:line:col, and wrapd does not start.
bad() {
	local name=$1 want=$2 out
	shift 2
	e2e_write "$W/$name.yaml"
	out=$("$WRAPD" --config "$W/$name.yaml" --no-syslog 2>&1)
	rc=$?
	[ "$rc" = 1 ] || e2e_fail "$name: exit $rc: $out"
	case $out in *"$want"*) e2e_log "ok: $name: $out" ;;
	*) e2e_fail "$name: got '$out', want '$want'" ;; esac
}
bad nouser "$W/nouser.yaml:5:11: user \"wrapd-no-such-user\": no such user" <<EOF
services:
  - name: a
    listen: ["127.0.0.1:$P1"]
    exec: ["/usr/bin/id"]
    user: wrapd-no-such-user
EOF
bad nogroup "$W/nogroup.yaml:6:12: group \"wrapd-no-such-group\": no such group" <<EOF
services:
  - name: a
    listen: ["127.0.0.1:$P1"]
    exec: ["/usr/bin/id"]
    user: nobody
    group: wrapd-no-such-group
EOF
bad drop "drops to user \"daemon\" (user:) and then cannot switch" <<EOF
user: daemon
services:
  - name: a
    listen: ["127.0.0.1:$P1"]
    exec: ["/usr/bin/id"]
    user: nobody
EOF

# Quick mode: --exec-user and --exec-group.
e2e_stop_wrapd "$WPID"
e2e_bg quick "$WRAPD" --listen "127.0.0.1:$P1" --allow "$W/hosts.allow" \
	--deny /dev/null --daemon idn --exec-user nobody --exec-group daemon \
	-- /usr/bin/id -u
e2e_wait_listen "$P1" "" "$E2E_LAST_PID"
e2e_expect "quick --exec-user" "$(talk --to "127.0.0.1:$P1")" "b'65534\\n'"
out=$("$WRAPD" --listen "127.0.0.1:$P2" --no-syslog --exec-user wrapd-no-such-user \
	-- /usr/bin/id 2>&1)
rc=$?
[ "$rc" = 2 ] && case $out in *'--exec-user: user "wrapd-no-such-user": no such user'*) true ;; *) false ;; esac ||
	e2e_fail "quick unknown user: exit $rc: $out"
out=$("$WRAPD" --config "$W/wrapd.yaml" --exec-user nobody 2>&1)
[ $? = 2 ] || e2e_fail "--exec-user with --config: $out"
exit 0
