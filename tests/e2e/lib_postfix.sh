# lib_postfix.sh - a private postfix 3.7 for the tests, never installed:
# Debian's package (it conflicts with exim4-daemon-light, which the action
# tests use) is unpacked into $W, and runs in a private mount namespace
# (unshare -m) where its libraries appear at /usr/lib/postfix (an overlay
# of /usr/lib), and where /etc/passwd and /etc/group are private copies
# with its postfix and postdrop accounts.  Its configuration, queue, data
# and log are under $W/pf.  Nothing is delivered: accepted mail is put on
# hold and every transport is discard.  Sourced after lib.sh.
#
#   pf_setup        unpack (the .deb from contrib/install-deps.sh's cache,
#                   else `apt-get download`), accounts, main.cf
#   pf_start NS MASTER_CF_LINES  start master in network namespace NS
#   PF_LOG          postfix's log file

PF_DEB_CACHE=/var/cache/wrapd-tests

pf_deb() {
	local d
	for d in "$PF_DEB_CACHE"/postfix_*.deb; do
		[ -f "$d" ] && { echo "$d"; return 0; }
	done
	mkdir -p "$W/deb"
	(cd "$W/deb" && timeout 120 apt-get download postfix >/dev/null 2>&1) || return 1
	for d in "$W"/deb/postfix_*.deb; do
		[ -f "$d" ] && { echo "$d"; return 0; }
	done
	return 1
}

pf_setup() {
	local deb
	e2e_require_cmd dpkg-deb unshare swaks
	deb=$(pf_deb) || e2e_skip "no postfix package (contrib/install-deps.sh downloads it)"
	PF_ROOT="$W/pf-root"
	PF="$W/pf"
	dpkg-deb -x "$deb" "$PF_ROOT" || e2e_fail "dpkg-deb -x $deb"
	mkdir -p "$PF/etc" "$PF/spool" "$PF/data"
	chown 64990:64990 "$PF/data"
	cp /etc/passwd "$PF/passwd" && cp /etc/group "$PF/group" || e2e_fail "copy passwd"
	echo "postfix:x:64990:64990::/nonexistent:/usr/sbin/nologin" >>"$PF/passwd"
	printf 'postfix:x:64990:\npostdrop:x:64991:\n' >>"$PF/group"
	PF_LOG="$PF/maillog"
	e2e_write "$PF/etc/main.cf" <<EOF
compatibility_level = 3.6
config_directory = $PF/etc
queue_directory = $PF/spool
data_directory = $PF/data
command_directory = $PF_ROOT/usr/sbin
daemon_directory = $PF_ROOT/usr/lib/postfix/sbin
meta_directory = $PF_ROOT/etc/postfix
shlib_directory = /usr/lib/postfix
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.wrapd.test
mydomain = wrapd.test
myorigin = wrapd.test
mydestination = wrapd.test, mx.wrapd.test
# The trap: like Debian's default, trust loopback (and only it).
mynetworks = 127.0.0.0/8 [::1]/128
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_data_restrictions = check_client_access static:HOLD
local_recipient_maps =
alias_maps =
alias_database =
default_transport = discard
local_transport = discard
relay_transport = discard
inet_interfaces = loopback-only
inet_protocols = all
maillog_file = $PF/maillog
maillog_file_prefixes = $PF
smtpd_peername_lookup = no
smtp_dns_support_level = disabled
biff = no
EOF
}

# pf_start NS LINES - postfix's master in the foreground in network
# namespace NS, with LINES (the smtpd lines of master.cf); returns when
# postfix logs that it is ready.
pf_start() {
	local ns=$1 lines=$2
	e2e_write "$PF/etc/master.cf" <<EOF
$lines
cleanup   unix n - n - 0 cleanup
qmgr      unix n - n 300 1 qmgr
rewrite   unix - - n - - trivial-rewrite
bounce    unix - - n - 0 bounce
defer     unix - - n - 0 bounce
trace     unix - - n - 0 bounce
verify    unix - - n - 1 verify
flush     unix n - n 1000? 0 flush
proxymap  unix - - n - - proxymap
showq     unix n - n - - showq
error     unix - - n - - error
retry     unix - - n - - error
discard   unix - - n - - discard
anvil     unix - - n - 1 anvil
scache    unix - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
EOF
	: >"$PF_LOG"
	e2e_bg postfix ip netns exec "$ns" unshare -m sh -c '
		mount --bind "$1/passwd" /etc/passwd &&
		mount --bind "$1/group" /etc/group &&
		mount -t overlay overlay -o "lowerdir=$2/usr/lib:/usr/lib" /usr/lib &&
		"$2/usr/sbin/postfix" -c "$1/etc" check &&
		exec "$2/usr/lib/postfix/sbin/master" -c "$1/etc" -d' sh "$PF" "$PF_ROOT"
	PF_PID=$E2E_LAST_PID
	e2e_wait_grep 'daemon started' "$PF_LOG"
}
