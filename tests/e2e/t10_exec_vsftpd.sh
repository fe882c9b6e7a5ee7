#!/usr/bin/env bash
# Scenario 10: exec delivery.  wrapd runs vsftpd (listen=NO, inetd style)
# once per allowed connection, like tcpd under inetd.  curl from 127.0.0.2
# lists the directory and downloads a text and a binary file in passive
# mode (EPSV and PASV); the data connections go straight to vsftpd.  A
# denied client (127.0.0.3) never sees the FTP banner, and cannot take over
# an allowed client's passive data port. Quick mode (-- PROGRAM) too.
. "$(dirname "$0")/lib.sh"
e2e_require_root
VSFTPD=/usr/sbin/vsftpd
e2e_require_cmd "$VSFTPD" curl
getent passwd ftp >/dev/null || e2e_skip "no ftp user (package vsftpd)"

e2e_port P
e2e_port PM
PMAX=$((PM + 9))
mkdir -p "$W/ftp-root/pub" "$W/empty"
echo "hello from wrapd e2e ftp" >"$W/ftp-root/pub/hello.txt"
head -c 200000 /dev/urandom >"$W/ftp-root/pub/blob.bin"
chmod 555 "$W/ftp-root" "$W/ftp-root/pub" "$W/empty"
chmod 444 "$W/ftp-root/pub/"*
e2e_write "$W/vsftpd.conf" <<EOF
listen=NO
listen_ipv6=NO
anonymous_enable=YES
local_enable=NO
write_enable=NO
no_anon_password=YES
anon_root=$W/ftp-root
secure_chroot_dir=$W/empty
pasv_enable=YES
pasv_min_port=$PM
pasv_max_port=$PMAX
xferlog_enable=NO
syslog_enable=NO
seccomp_sandbox=NO
EOF
e2e_write "$W/hosts.allow" <<EOF
vsftpd: 127.0.0.2
EOF
e2e_write "$W/hosts.deny" <<EOF
ALL: ALL
EOF
e2e_write "$W/wrapd.yaml" <<EOF
rules: { allow: $W/hosts.allow, deny: $W/hosts.deny }
log: { syslog: false, stderr: true, format: text }
services:
  - name: ftp
    daemon: vsftpd
    listen: ["127.0.0.1:$P"]
    exec: ["$VSFTPD", "$W/vsftpd.conf"]
EOF

e2e_bg wrapd "$WRAPD" --config "$W/wrapd.yaml"
WPID=$E2E_LAST_PID
e2e_wait_listen "$P" "" "$WPID"

C=(curl -sS --max-time 30 --interface 127.0.0.2)
got=$("${C[@]}" "ftp://127.0.0.1:$P/pub/hello.txt") || e2e_fail "curl EPSV download failed"
[ "$got" = "hello from wrapd e2e ftp" ] || e2e_fail "EPSV download: got '$got'"
e2e_log "ok: EPSV download through exec'd vsftpd"
got=$("${C[@]}" --disable-epsv "ftp://127.0.0.1:$P/pub/hello.txt") || e2e_fail "curl PASV download failed"
[ "$got" = "hello from wrapd e2e ftp" ] || e2e_fail "PASV download: got '$got'"
e2e_log "ok: PASV download"
list=$("${C[@]}" --list-only "ftp://127.0.0.1:$P/pub/") || e2e_fail "curl listing failed"
echo "$list" | grep -qx 'blob.bin' && echo "$list" | grep -qx 'hello.txt' ||
	e2e_fail "listing: got '$list'"
e2e_log "ok: directory listing"
"${C[@]}" -o "$W/blob.got" "ftp://127.0.0.1:$P/pub/blob.bin" || e2e_fail "binary download failed"
cmp -s "$W/blob.got" "$W/ftp-root/pub/blob.bin" || e2e_fail "binary file differs"
e2e_log "ok: 200 kB binary download identical"

r=$("$PY" "$HELPER" banner --src 127.0.0.3 --to "127.0.0.1:$P")
case $r in closed | reset) e2e_log "ok: 127.0.0.3 gets no banner ($r)" ;;
*) e2e_fail "127.0.0.3 (denied): got '$r', want no FTP banner" ;; esac
r=$("$PY" "$HELPER" banner --first-line --src 127.0.0.2 --to "127.0.0.1:$P")
case $r in "data:b'220"*) e2e_log "ok: 127.0.0.2 gets the banner" ;;
*) e2e_fail "127.0.0.2: got '$r', want a 220 banner" ;; esac
curl -sS --max-time 30 --interface 127.0.0.3 "ftp://127.0.0.1:$P/pub/hello.txt" \
	>"$W/denied.out" 2>&1 && e2e_fail "curl from 127.0.0.3 succeeded"
grep -q 'hello from' "$W/denied.out" && e2e_fail "denied curl got the file"

e2e_logcheck "$W/wrapd.err" --count 5 client=127.0.0.2 verdict=grant 'rule$=hosts.allow:1'
e2e_logcheck "$W/wrapd.err" --count 2 client=127.0.0.3 verdict=deny 'rule$=hosts.deny:1'

e2e_stop_wrapd "$WPID"

# Quick mode's form of the same: wrapd ... -- PROGRAM ARGS (daemon name
# defaults to the program's base name, here "vsftpd").
e2e_port PQ
e2e_bg wrapdq "$WRAPD" --listen "127.0.0.1:$PQ" --no-syslog \
	--allow "$W/hosts.allow" --deny "$W/hosts.deny" -- "$VSFTPD" "$W/vsftpd.conf"
WPIDQ=$E2E_LAST_PID
e2e_wait_listen "$PQ" "" "$WPIDQ"
got=$("${C[@]}" "ftp://127.0.0.1:$PQ/pub/hello.txt") || e2e_fail "quick mode: curl download failed"
[ "$got" = "hello from wrapd e2e ftp" ] || e2e_fail "quick mode download: got '$got'"
e2e_log "ok: quick mode -- vsftpd: download"
r=$("$PY" "$HELPER" banner --src 127.0.0.3 --to "127.0.0.1:$PQ")
case $r in closed | reset) e2e_log "ok: quick mode: 127.0.0.3 gets no banner ($r)" ;;
*) e2e_fail "quick mode: 127.0.0.3 (denied): got '$r', want no FTP banner" ;; esac
e2e_logcheck "$W/wrapdq.err" --count 1 client=127.0.0.2 service=vsftpd verdict=grant 'rule$=hosts.allow:1'
e2e_logcheck "$W/wrapdq.err" --count 1 client=127.0.0.3 verdict=deny 'rule$=hosts.deny:1'
e2e_stop_wrapd "$WPIDQ"

# Because the socket itself is handed over, vsftpd sees the real peer and
# its own data-connection check works: a denied client that grabs the
# passive port 127.0.0.2 asked for gets nothing ("425 Security: Bad IP").
# (With a plain relay in front of a standalone vsftpd, the control peer is
# 127.0.0.1, and an attacker whose data connection also arrives from
# 127.0.0.1, e.g. through forwarded passive ports, gets the whole file.
# The same helper sees that as attacker=<file size>; see legacy-daemons.md,
# "FTP data-port hijack".)
e2e_bg wrapd2 "$WRAPD" --config "$W/wrapd.yaml"
WPID2=$E2E_LAST_PID
e2e_wait_listen "$P" "" "$WPID2"
r=$("$PY" "$HELPER" ftp-hijack --to "127.0.0.1:$P" --victim-src 127.0.0.2 \
	--attacker-src 127.0.0.3 --file pub/blob.bin) || e2e_fail "ftp-hijack helper failed"
case $r in
"attacker=0 victim=425") e2e_log "ok: passive-port hijack from 127.0.0.3 refused by vsftpd ($r)" ;;
*) e2e_fail "passive-port hijack: $r (want attacker=0 victim=425)" ;;
esac
e2e_stop_wrapd "$WPID2"
