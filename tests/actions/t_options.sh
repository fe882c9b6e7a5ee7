#!/usr/bin/env bash
# Rule options at run time, through the wrapd binary with real sockets and
# real /bin/sh commands: spawn (+ setenv), banners, severity, twist,
# aclexec in both tables (a failing one in hosts.allow rescans hosts.deny;
# in hosts.deny it grants; exit status 200 is a failure like 1, but one
# killed by a signal denies in either table), and on_deny.reply.
#   run: bash tests/actions/t_options.sh WRAPD SRCDIR
. "${2:-$(dirname "$0")/../..}/tests/e2e/lib.sh"
ACT="$SRCDIR/tests/actions/act.py"

talk() { "$PY" "$ACT" talk "$@"; }

e2e_port B
e2e_port P1
e2e_port P2
e2e_port P3
e2e_port P4
e2e_port P5
e2e_port P6
e2e_port P7
e2e_port P8
e2e_port P9
e2e_port P10
e2e_port P12
e2e_port P13
e2e_port P14
e2e_port P15
LONGD=daemon-with-a-rather-long-name-that-repeats-well-0123456789
LONG=$(printf '%%d%.0s' $(seq 200))
mkdir -p "$W/banners"
printf 'Welcome %%d from %%a\n' >"$W/banners/optd"
printf 'Hello %%d\n' >"$W/banners/twistd"

e2e_write "$W/hosts.allow" <<EOF
optd: 127.0.0.1: setenv GREETING hi-%d : spawn echo "spawn %d %a \$GREETING" >> $W/spawn.log : banners $W/banners : severity local0.notice
twistd: 127.0.0.1: banners $W/banners : twist /bin/echo "twisted %d for %a"
axd: 127.0.0.2: aclexec test -e $W/ax-ok
kad: 127.0.0.1: keepalive : linger 5
$LONGD: 127.0.0.1: spawn echo $LONG > $W/long.out
exd: 127.0.0.1: setenv GREETING2 hello-%a
kwd: 127.0.0.1: aclexec false : allow
ax200d: 127.0.0.1: aclexec exit 200
axsigd: 127.0.0.1: aclexec kill -TERM \$\$
fdd: 127.0.0.1: spawn /usr/bin/python3 -c "import os; l = sorted(os.listdir('/proc/self/fd'), key=int); open('$W/fds.out', 'w').write(' '.join(l)); open('$W/fds.links', 'w').write(' '.join(os.readlink('/proc/self/fd/' + f) for f in l if f != '3'))"
EOF
e2e_write "$W/hosts.deny" <<EOF
smtpd: ALL
axd: ALL: spawn echo "deny-rule %a" >> $W/ax.log
axd2: ALL: aclexec false
kwd: ALL
ax200d: ALL: spawn echo "deny-200 %a" >> $W/ax.log
ax200dd: ALL: aclexec exit 200
axsigdd: ALL: aclexec kill -KILL \$\$
EOF
e2e_write "$W/wrapd.yaml" <<EOF
rules: { allow: $W/hosts.allow, deny: $W/hosts.deny }
log: { syslog: false, stderr: true }
actions: { max_running: 8, per_source: 100/min }
services:
  - { name: opt, daemon: optd, listen: ["127.0.0.1:$P1"], backend: "127.0.0.1:$B" }
  - { name: tw, daemon: twistd, listen: ["127.0.0.1:$P2"], backend: "127.0.0.1:$B" }
  - name: smtp
    daemon: smtpd
    listen: ["127.0.0.1:$P3"]
    backend: "127.0.0.1:$B"
    on_deny: { reply: "421 4.7.0 Access denied\r\n" }
  - { name: ax, daemon: axd, listen: ["127.0.0.1:$P4"], backend: "127.0.0.1:$B" }
  - { name: ax2, daemon: axd2, listen: ["127.0.0.1:$P5"], backend: "127.0.0.1:$B" }
  - { name: ka, daemon: kad, listen: ["127.0.0.1:$P6"], backend: "127.0.0.1:$B" }
  - { name: fd, daemon: fdd, listen: ["127.0.0.1:$P7"], backend: "127.0.0.1:$B" }
  - { name: long, daemon: $LONGD, listen: ["127.0.0.1:$P8"], backend: "127.0.0.1:$B" }
  - name: ex
    daemon: exd
    listen: ["127.0.0.1:$P9"]
    exec: ["/bin/sh", "-c", "echo got-\$GREETING2"]
  - { name: kw, daemon: kwd, listen: ["127.0.0.1:$P10"], backend: "127.0.0.1:$B" }
  - { name: a200, daemon: ax200d, listen: ["127.0.0.1:$P12"], backend: "127.0.0.1:$B" }
  - { name: asig, daemon: axsigd, listen: ["127.0.0.1:$P13"], backend: "127.0.0.1:$B" }
  - { name: a200d, daemon: ax200dd, listen: ["127.0.0.1:$P14"], backend: "127.0.0.1:$B" }
  - { name: asigd, daemon: axsigdd, listen: ["127.0.0.1:$P15"], backend: "127.0.0.1:$B" }
EOF

e2e_echo_backend echo "127.0.0.1:$B"
e2e_bg wrapd "$WRAPD" --config "$W/wrapd.yaml"
WPID=$E2E_LAST_PID
for p in $P1 $P2 $P3 $P4 $P5 $P6 $P7 $P8 $P9 $P10 $P12 $P13 $P14 $P15; do e2e_wait_listen "$p" "" "$WPID"; done

# banners, then the relayed echo; spawn ran with setenv's variable.
e2e_expect "banner + echo" \
	"$(talk --to "127.0.0.1:$P1" --send ping --shut)" \
	"b'Welcome optd from 127.0.0.1\\r\\nping\\n'"
e2e_wait_grep '^spawn optd 127\.0\.0\.1 hi-optd$' "$W/spawn.log"
# severity local0.notice: the connection's line is a notice, not info.
e2e_wait_grep 'notice: conn=[0-9]+ service=opt .*verdict=grant' "$W/wrapd.err"

# twist: banner first, then the command owns the socket.
e2e_expect "twist" "$(talk --to "127.0.0.1:$P2")" \
	"b'Hello twistd\\r\\ntwisted twistd for 127.0.0.1\\n'"
e2e_logcheck "$W/wrapd.err" service=tw verdict=twist

# on_deny.reply, then close.
e2e_expect "reply on deny" "$(talk --to "127.0.0.1:$P3")" \
	"b'421 4.7.0 Access denied\\r\\n'"

# aclexec fails in hosts.allow: the rule did not match; hosts.deny decides
# (and its spawn runs).
# (closed, or reset: the client's unread bytes make close() send RST)
got=$(talk --src 127.0.0.2 --to "127.0.0.1:$P4" --send x --shut)
case $got in "b''" | "b'<reset>'") e2e_log "ok: aclexec false -> $got" ;;
*) e2e_fail "aclexec false -> deny table: got $got" ;; esac
e2e_wait_grep '^deny-rule 127\.0\.0\.2$' "$W/ax.log"
e2e_logcheck "$W/wrapd.err" service=ax verdict=deny 'rule$=hosts.deny:2'
touch "$W/ax-ok"
e2e_expect "aclexec true -> allow" \
	"$(talk --src 127.0.0.2 --to "127.0.0.1:$P4" --send y --shut)" "b'y\\n'"
# An allow keyword after a failing aclexec still grants (libwrap's allow
# jumps out before the aclexec status is looked at).
e2e_expect "aclexec false : allow" \
	"$(talk --to "127.0.0.1:$P10" --send k --shut)" "b'k\\n'"
# A failing aclexec in hosts.deny grants.
e2e_expect "aclexec false in deny table -> grant" \
	"$(talk --to "127.0.0.1:$P5" --send z --shut)" "b'z\\n'"

# Exit status 200 is the command's answer, not a signal: in hosts.allow
# the rule did not match (hosts.deny decides, and its spawn runs); in
# hosts.deny it grants.
got=$(talk --to "127.0.0.1:$P12" --send x --shut)
case $got in "b''" | "b'<reset>'") e2e_log "ok: aclexec exit 200 -> $got" ;;
*) e2e_fail "aclexec exit 200 -> deny table: got $got" ;; esac
e2e_wait_grep '^deny-200 127\.0\.0\.1$' "$W/ax.log"
e2e_logcheck "$W/wrapd.err" service=a200 verdict=deny 'rule$=hosts.deny:5'
e2e_expect "aclexec exit 200 in deny table -> grant" \
	"$(talk --to "127.0.0.1:$P14" --send w --shut)" "b'w\\n'"
# Killed by a signal it said nothing: deny in both tables (in hosts.allow
# no rescan, which would grant here: hosts.deny has no rule for it).
got=$(talk --to "127.0.0.1:$P13" --send x --shut)
case $got in "b''" | "b'<reset>'") e2e_log "ok: aclexec killed (allow) -> $got" ;;
*) e2e_fail "aclexec killed in hosts.allow: got $got" ;; esac
e2e_logcheck "$W/wrapd.err" service=asig verdict=deny reason='aclexec killed'
got=$(talk --to "127.0.0.1:$P15" --send x --shut)
case $got in "b''" | "b'<reset>'") e2e_log "ok: aclexec killed (deny) -> $got" ;;
*) e2e_fail "aclexec killed in hosts.deny: got $got" ;; esac
e2e_logcheck "$W/wrapd.err" service=asigd verdict=deny reason='aclexec killed'

# keepalive: wrapd's end of the client connection runs a keepalive timer.
"$PY" "$ACT" hold --to "127.0.0.1:$P6" --ready "$W/held" --release "$W/release" \
	>"$W/hold.out" &
HPID=$!
E2E_PIDS+=("$HPID")
e2e_wait_file "$W/held" "$HPID"
ss -tnoH state established "( sport = :$P6 )" >"$W/ss.out"
# While that client (and its backend connection) is open, a spawned
# command sees fds 0-2 only (3 is its own listdir): no listening socket,
# no other client's connection.
talk --to "127.0.0.1:$P7" --send fd --shut >/dev/null
e2e_wait_file "$W/fds.out"
touch "$W/release"
e2e_expect "fds of a spawned command" "$(cat "$W/fds.out")" "0 1 2 3"
grep -q 'timer:(keepalive' "$W/ss.out" || e2e_fail "no keepalive: $(cat "$W/ss.out")"
e2e_log "ok: keepalive on the client socket"
# setenv reaches a daemon wrapd execs for the connection.
e2e_expect "setenv for exec" "$(talk --to "127.0.0.1:$P9")" \
	"b'got-hello-127.0.0.1\\n'"

# setenv with "=" in the name (setenv(3) fails, libwrap denies) is an
# error in the rules, which wrapd refuses to start or reload with
# (tests/proxy/rules_load_test.py start_strict); the verdict itself is
# tested in tests/acl/test_acl_options.c.

# An expansion longer than libwrap's buffer: libwrap exits; wrapd denies.
got=$(talk --to "127.0.0.1:$P8")
case $got in "b''" | "b'<reset>'") e2e_log "ok: expansion too long -> $got" ;;
*) e2e_fail "expansion too long: got $got" ;; esac
e2e_logcheck "$W/wrapd.err" service=long verdict=deny reason='expansion too long'
[ -e "$W/long.out" ] && e2e_fail "the over-long command ran"
grep -qE 'actions skipped|actions: (keepalive|linger)' "$W/wrapd.err" &&
	e2e_fail "unexpected action warning"
exit 0
