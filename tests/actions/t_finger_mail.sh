#!/usr/bin/env bash
# on_deny's built-in finger and mail, with real peers, and hostile input:
#   netns S: wrapd (its /etc/hosts, private to S, gives the client a host
#            name full of shell metacharacters), exim4 via sendmail -t
#   netns C: the client, a real fingerd (in.fingerd under socat), and an
#            ident server answering with hostile user names (act.py)
# Checks: the client gets on_deny.reply; the report reaches the mailbox
# with the right Subject (no header can be injected), the ident user and
# what fingerd said; a spawn rule writing %n %u %c gets the sanitised forms;
# no canary file that an injected command would create exists.
#   run: bash tests/actions/t_finger_mail.sh WRAPD SRCDIR
. "${2:-$(dirname "$0")/../..}/tests/e2e/lib.sh"
. "$SRCDIR/tests/actions/lib_mta.sh"
ACT="$SRCDIR/tests/actions/act.py"
e2e_require_root_netns
e2e_require_cmd socat /usr/sbin/in.fingerd
mta_setup

e2e_netns
S=$E2E_NS
e2e_netns
C=$E2E_NS
ip -n "$S" link add vs type veth peer name vc netns "$C" || e2e_fail veth
ip -n "$S" addr add 10.99.0.1/24 dev vs
ip -n "$C" addr add 10.99.0.2/24 dev vc
ip -n "$C" addr add 10.99.0.3/24 dev vc
ip -n "$S" link set vs up
ip -n "$C" link set vc up

# Every injected command would create one of these (a short path: names
# and users are cut at 127 bytes, and a cut name no longer verifies).
CAN="/tmp/wac$$"
E2E_CLEANUP+=("rm -f $CAN-*")
NAME="evil;touch\${IFS}$CAN-n1;\$(touch\${IFS}$CAN-n2)|\`id\`&x"
USER1="x;touch\${IFS}$CAN-u1;\$(touch\${IFS}$CAN-u2)\`id\`|&<>'\"\\"
mkdir -p "/etc/netns/$S"
printf '127.0.0.1 localhost\n10.99.0.2 %s\n' "$NAME" >"/etc/netns/$S/hosts"
printf 'nameserver 127.0.0.1\n' >"/etc/netns/$S/resolv.conf"
printf '%s' "$USER1" >"$W/ident-user"

e2e_bg fingerd ip netns exec "$C" socat \
	TCP-LISTEN:79,bind=10.99.0.2,reuseaddr,fork EXEC:/usr/sbin/in.fingerd
e2e_bg identd ip netns exec "$C" "$PY" "$ACT" identd \
	--listen 10.99.0.2:113 --user-file "$W/ident-user" --ready "$W/identd.ready"
e2e_wait_file "$W/identd.ready" "$E2E_LAST_PID"
e2e_wait_listen 79 "$C"
# A hostile finger server on the client's second address: terminal escape
# sequences, 8-bit bytes, a lone ".", and far more than 64 KiB.
"$PY" -c 'import sys; sys.stdout.buffer.write(b"Login: \x1b[2J\x1b]0;owned\x07\xff\r\n.\r\n" + b"z" * 200000)' \
	>"$W/finger-hostile"
e2e_bg hfingerd ip netns exec "$C" "$PY" "$ACT" fingerd \
	--listen 10.99.0.3:79 --reply-file "$W/finger-hostile" --ready "$W/hf.ready"
e2e_wait_file "$W/hf.ready" "$E2E_LAST_PID"

e2e_write "$W/hosts.allow" </dev/null
e2e_write "$W/hosts.deny" <<EOF
smtpd: ALL: spawn echo "n=%n u=%u c=%c" >> $W/spawn.log
fod: ALL
EOF
e2e_write "$W/wrapd.yaml" <<EOF
rules: { allow: $W/hosts.allow, deny: $W/hosts.deny }
log: { syslog: false, stderr: true }
actions: { max_running: 8, per_source: 100/min, sendmail: $MTA_SENDMAIL }
services:
  - name: smtp
    daemon: smtpd
    listen: ["10.99.0.1:25"]
    backend: "127.0.0.1:9"
    timeouts: { lookup: 10s }
    on_deny:
      reply: "421 4.7.0 Access denied\r\n"
      finger: true
      mail: admin
  - name: fo
    daemon: fod
    listen: ["10.99.0.1:2600"]
    backend: "127.0.0.1:9"
    on_deny: { finger: true }
EOF
e2e_bg wrapd ip netns exec "$S" "$WRAPD" --config "$W/wrapd.yaml"
e2e_wait_listen 25 "$S" "$E2E_LAST_PID"
e2e_wait_listen 2600 "$S" "$E2E_LAST_PID"

sanitize() { "$PY" -c 'import re,sys; print(re.sub(r"[^0-9A-Za-z!@%\-_=+:,./]", "_", sys.argv[1]))' "$1"; }

e2e_expect "denied client gets the reply" \
	"$(ip netns exec "$C" "$PY" "$ACT" talk --to 10.99.0.1:25)" \
	"b'421 4.7.0 Access denied\\r\\n'"

# The spawn saw only sanitised expansions.
e2e_wait_file "$W/spawn.log"
want="n=$(sanitize "$NAME") u=$(sanitize "$USER1") c=$(sanitize "$USER1@$NAME")"
e2e_expect "spawn %n %u %c" "$(head -n 1 "$W/spawn.log")" "$want"

# The report: one message, the Subject names service and client.
e2e_wait_grep 'finger @client' "$MTA_INBOX"
grep -c '^Subject:' "$MTA_INBOX" | grep -qx 1 || e2e_fail "not one Subject"
grep -qxF "Subject: wrapd: smtp denied $NAME [10.99.0.2]" "$MTA_INBOX" ||
	e2e_fail "Subject: $(grep '^Subject' "$MTA_INBOX")"
grep -qxF "Envelope-to: admin@wrapd-test.invalid" "$MTA_INBOX" ||
	e2e_fail "recipient"
grep -qxF "User:      $USER1" "$MTA_INBOX" || e2e_fail "User line"
grep -qE '^Rule: +.*/hosts\.deny:1$' "$MTA_INBOX" || e2e_fail "Rule line"
grep -qE '^Port: +[0-9]+$' "$MTA_INBOX" || e2e_fail "Port line"
# What fingerd says to a direct query is in the body.
direct=$(ip netns exec "$S" sh -c "printf '\r\n' | socat -t5 - TCP:10.99.0.2:79" |
	tr -d '\r' | grep -m1 .)
[ -n "$direct" ] || e2e_fail "fingerd said nothing directly"
grep -qF -- "$direct" "$MTA_INBOX" || e2e_fail "finger output '$direct' not in mail"
e2e_log "ok: mail has Subject, user, rule, finger output '$direct'"

# An 8 KiB ident answer with newlines and escapes: still one safe line.
"$PY" -c 'import sys; sys.stdout.buffer.write(b"y;touch${IFS}'"$CAN"'-u3\x1b[2J\r\nBcc: z@x\n" + b"$(id)" * 2000)' \
	>"$W/ident-user"
ip netns exec "$C" "$PY" "$ACT" talk --to 10.99.0.1:25 >/dev/null
for i in $(seq 300); do
	[ "$(grep -c 'finger @client' "$MTA_INBOX")" = 2 ] && break
	sleep 0.1
done
[ "$(wc -l <"$W/spawn.log")" = 2 ] || e2e_fail "second spawn line missing"
tail -n 1 "$W/spawn.log" | grep -qxE 'n=[0-9A-Za-z!@%_=+:,./-]+ u=[0-9A-Za-z!@%_=+:,./-]* c=[0-9A-Za-z!@%_=+:,./-]+' ||
	e2e_fail "unsafe spawn line: $(tail -n 1 "$W/spawn.log" | head -c 300)"
grep -c '^Subject:' "$MTA_INBOX" | grep -qx 2 || e2e_fail "Subject count"
grep -q '^Bcc:' "$MTA_INBOX" && e2e_fail "a Bcc header got in"

# The hostile finger answer: cleaned, cut, and the lone "." did not end
# the message early (-oi).
ip netns exec "$C" "$PY" "$ACT" talk --src 10.99.0.3 --to 10.99.0.1:25 >/dev/null
for i in $(seq 300); do
	[ "$(grep -c 'finger @client' "$MTA_INBOX")" = 3 ] && break
	sleep 0.1
done
grep -qxF 'Subject: wrapd: smtp denied 10.99.0.3' "$MTA_INBOX" ||
	e2e_fail "third Subject: $(grep '^Subject' "$MTA_INBOX" | tail -n 1)"
grep -qF 'Login: \033[2J\033]0;owned\007\377' "$MTA_INBOX" ||
	e2e_fail "escapes not shown as \\ooo"
LC_ALL=C grep -q "$(printf '\033')" "$MTA_INBOX" && e2e_fail "raw ESC in the mail"
z=$(tr -cd z <"$MTA_INBOX" | wc -c)
[ "$z" -gt 60000 ] && [ "$z" -le 65536 ] || e2e_fail "finger bytes kept: $z"
e2e_log "ok: hostile finger answer cleaned and cut ($z of 200000 bytes)"

# finger without mail: the answer goes to the log, escaped.
ip netns exec "$C" "$PY" "$ACT" talk --to 10.99.0.1:2600 >/dev/null
e2e_wait_grep 'actions: finger client=10\.99\.0\.2 said=".*No one logged on' "$W/wrapd.err"

ls "$CAN"-* 2>/dev/null && e2e_fail "an injected command ran"
e2e_log "ok: no canary"
exit 0
