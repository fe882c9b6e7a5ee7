#!/usr/bin/env bash
# Scenario 14: FTP in forwarding mode (protocol: ftp).  vsftpd runs
# standalone on 127.0.0.1:2121 of the server namespace, wrapd in front of
# it on the server's public addresses.  The allowed host downloads in
# passive (PASV, also through lftp, which connects where the 227 reply
# says) and extended passive mode (EPSV, IPv4 and from the IPv6-only
# host), a 200 kB file byte for byte; active mode is refused with 502; the
# denied host never sees the banner; and while the allowed host waits for
# its data connection, another host of its net and the denied host both
# try the data port first and get nothing, and the client still gets its
# file.  A second service forwards in transparent mode too, with wrapd
# switched to user nobody (keeping CAP_NET_ADMIN in every thread): vsftpd
# logs the real client, for the control and the data connection.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_daemons.sh"
VSFTPD=/usr/sbin/vsftpd
e2e_require_cmd "$VSFTPD" curl
getent passwd ftp >/dev/null || e2e_skip "no ftp user (package vsftpd)"
dm_topology
DPY="$E2E_DIR/daemons.py"

mkdir -p "$W/ftp-root/pub" "$W/empty"
echo "hello from wrapd ftp forwarding" >"$W/ftp-root/pub/hello.txt"
head -c 200000 /dev/urandom >"$W/ftp-root/pub/blob.bin"
chmod 555 "$W/ftp-root" "$W/ftp-root/pub" "$W/empty"
chmod 444 "$W/ftp-root/pub/"*
e2e_write "$W/vsftpd.conf" <<EOF
listen=YES
listen_address=127.0.0.1
listen_port=2121
background=NO
anonymous_enable=YES
local_enable=NO
write_enable=NO
no_anon_password=YES
anon_root=$W/ftp-root
secure_chroot_dir=$W/empty
pasv_enable=YES
pasv_min_port=30000
pasv_max_port=30009
xferlog_enable=YES
vsftpd_log_file=$W/vsftpd.log
syslog_enable=NO
seccomp_sandbox=NO
EOF
e2e_write "$W/hosts.allow" <<EOF
vsftpd: 10.77.1.0/255.255.255.0 [fd77:0:0:3::]/64
EOF
e2e_write "$W/hosts.deny" <<EOF
ALL: ALL
EOF
e2e_write "$W/wrapd.yaml" <<EOF
rules: { allow: $W/hosts.allow, deny: $W/hosts.deny }
log: { syslog: false, stderr: true }
user: nobody
services:
  - name: ftp
    daemon: vsftpd
    listen: ["10.77.1.1:21", "10.77.2.1:21", "[fd77:0:0:3::1]:21"]
    backend: "127.0.0.1:2121"
    protocol: ftp
    timeouts: { ftp_data: 10s }
    on_deny: { reply: "421 Access denied.\r\n" }
  - name: ftp-transparent
    daemon: vsftpd
    listen: ["10.77.1.1:2100"]
    backend: "127.0.0.1:2121"
    protocol: ftp
    transparent: true
EOF
e2e_bg vsftpd ip netns exec "$NS_S" "$VSFTPD" "$W/vsftpd.conf"
e2e_wait_listen 2121 "$NS_S" "$E2E_LAST_PID"
dm_transparent_routes 2121
dm_transparent_routes 30000-30009
e2e_bg wrapd ip netns exec "$NS_S" "$WRAPD" --config "$W/wrapd.yaml"
WPID=$E2E_LAST_PID
e2e_wait_listen 21 "$NS_S" "$WPID"

want="hello from wrapd ftp forwarding"
C=(dm_in "$NS_A" curl -sS --max-time 20)
got=$("${C[@]}" ftp://10.77.1.1/pub/hello.txt) || e2e_fail "EPSV download failed"
[ "$got" = "$want" ] || e2e_fail "EPSV download: got '$got'"
e2e_log "ok: EPSV download from the allowed host"
got=$("${C[@]}" --disable-epsv --no-ftp-skip-pasv-ip ftp://10.77.1.1/pub/hello.txt) ||
	e2e_fail "PASV download (the 227 address used) failed"
[ "$got" = "$want" ] || e2e_fail "PASV download: got '$got'"
e2e_log "ok: PASV download, to the address the 227 reply names"
"${C[@]}" -o "$W/blob.got" ftp://10.77.1.1/pub/blob.bin || e2e_fail "binary download failed"
cmp -s "$W/blob.got" "$W/ftp-root/pub/blob.bin" || e2e_fail "binary file differs"
e2e_log "ok: 200 kB binary download identical"
if command -v lftp >/dev/null; then
	dm_in "$NS_A" lftp -c "set ftp:prefer-epsv no; set ftp:passive-mode on;
		set net:max-retries 1; set net:timeout 10;
		open ftp://10.77.1.1; get pub/hello.txt -o $W/lftp.got" ||
		e2e_fail "lftp PASV download failed"
	[ "$(cat "$W/lftp.got")" = "$want" ] || e2e_fail "lftp got '$(cat "$W/lftp.got")'"
	e2e_log "ok: lftp PASV download (lftp connects where 227 says)"
fi
got=$(dm_in "$NS_C" curl -sS --max-time 20 -g 'ftp://[fd77:0:0:3::1]/pub/hello.txt') ||
	e2e_fail "IPv6 EPSV download failed"
[ "$got" = "$want" ] || e2e_fail "IPv6 download: got '$got'"
e2e_log "ok: EPSV download from the IPv6-only host"

r=$(dm_in "$NS_A" "$PY" "$DPY" ftp-active --to 10.77.1.1:21 --src 10.77.1.2)
[ "$r" = "PORT=502 EPRT=502 NOOP=200" ] || e2e_fail "active mode: $r"
e2e_log "ok: active mode refused by wrapd ($r)"

r=$(dm_in "$NS_B" "$PY" "$DPY" proxy-send --to 10.77.2.1:21 --header "")
[ "$r" = "data:421 Access denied." ] || e2e_fail "denied host: got '$r'"
e2e_log "ok: the denied host gets wrapd's 421, never vsftpd's banner"
dm_in "$NS_B" curl -sS --max-time 10 ftp://10.77.2.1/pub/hello.txt >"$W/denied.out" 2>&1 &&
	e2e_fail "curl from the denied host succeeded"
grep -q 'hello from' "$W/denied.out" && e2e_fail "the denied host got the file"

r=$(dm_in "$NS_A" "$PY" "$DPY" ftp-race --to 10.77.1.1:21 --victim-src 10.77.1.2 \
	--third-src 10.77.1.3 --denied-ns "$NS_B" --file pub/blob.bin) ||
	e2e_fail "ftp-race helper failed"
[ "$r" = "third=0 denied=0 victim=200000" ] || e2e_fail "data port race: $r"
e2e_log "ok: data port race: $r"
grep -q "ftp data port [0-9]*: refused 10.77.1.3 " "$W/wrapd.err" ||
	e2e_fail "no log line for the third host's refusal"
grep -q "ftp data port [0-9]*: refused 10.77.2.2 " "$W/wrapd.err" ||
	e2e_fail "no log line for the denied host's refusal"
grep -q "ftp: data connection conn=" "$W/wrapd.err" || e2e_fail "no data connection logged"
e2e_logcheck "$W/wrapd.err" --count 2 client=10.77.2.2 verdict=deny

grep -q 'CONNECT: Client "10.77.1.2"' "$W/vsftpd.log" &&
	e2e_fail "vsftpd saw 10.77.1.2 before transparent mode"
"${C[@]}" -o "$W/blob-tp.got" ftp://10.77.1.1:2100/pub/blob.bin ||
	e2e_fail "transparent mode: download failed"
cmp -s "$W/blob-tp.got" "$W/ftp-root/pub/blob.bin" || e2e_fail "transparent: file differs"
grep -q 'CONNECT: Client "10.77.1.2"' "$W/vsftpd.log" ||
	e2e_fail "transparent mode: vsftpd did not see 10.77.1.2"
grep -q 'OK DOWNLOAD: Client "10.77.1.2"' "$W/vsftpd.log" ||
	e2e_fail "transparent mode: the data connection did not come from 10.77.1.2"
grep -q 'running as user nobody .*keeping CAP_NET_ADMIN' "$W/wrapd.err" ||
	e2e_fail "wrapd did not switch to nobody keeping CAP_NET_ADMIN"
e2e_log "ok: transparent mode as user nobody: vsftpd logs 10.77.1.2 (control and data)"
e2e_stop_wrapd "$WPID"
