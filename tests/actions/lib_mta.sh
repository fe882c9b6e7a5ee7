# lib_mta.sh - a private exim4 (Debian's exim4-daemon-light) behind a
# sendmail wrapper, delivering every message into $W/mail/inbox.  Sourced
# after tests/e2e/lib.sh.  No daemon runs: `exim -odi` delivers in the
# foreground of each sendmail call, so nothing is left to stop.
#   mta_setup      -> sets MTA_SENDMAIL (the wrapper) and MTA_INBOX
mta_setup() {
	e2e_require_cmd /usr/sbin/exim4
	getent passwd Debian-exim >/dev/null || e2e_skip "no Debian-exim user"
	mkdir -p "$W/mta/spool" "$W/mta/log" "$W/mail"
	chown Debian-exim:Debian-exim "$W/mta/spool" "$W/mta/log"
	chmod 1777 "$W/mail"
	cat >"$W/mta/exim.conf" <<EOF
primary_hostname = wrapd-test.invalid
qualify_domain = wrapd-test.invalid
spool_directory = $W/mta/spool
log_file_path = $W/mta/log/%slog
keep_environment =
never_users =
host_lookup =
rfc1413_hosts =
begin routers
all:
  driver = accept
  transport = inbox
begin transports
inbox:
  driver = appendfile
  file = $W/mail/inbox
  user = Debian-exim
  group = Debian-exim
  mode = 0644
  envelope_to_add
  return_path_add
EOF
	chmod 644 "$W/mta/exim.conf"
	MTA_SENDMAIL="$W/mta/sendmail"
	MTA_INBOX="$W/mail/inbox"
	printf '#!/bin/sh\nexec /usr/sbin/exim4 -C %s -odi "$@"\n' \
		"$W/mta/exim.conf" >"$MTA_SENDMAIL"
	chmod 755 "$MTA_SENDMAIL"
}
