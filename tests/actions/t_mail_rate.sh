#!/usr/bin/env bash
# actions.mail_rate: one process-wide bucket for the on_deny report mails.
# 40 denied connections, each from its own source address (127.1.0.x, so
# actions.per_source lets every one through), with mail_rate 3/hour: at
# most 3 mails are sent, and the other 37 are counted "over mail_rate" in
# the "actions skipped" log lines.  sendmail is a stand-in script that
# keeps each message in a file of its own.
#   run: bash tests/actions/t_mail_rate.sh WRAPD SRCDIR
. "${2:-$(dirname "$0")/../..}/tests/e2e/lib.sh"
ACT="$SRCDIR/tests/actions/act.py"

e2e_port P
mkdir -p "$W/mail"
cat >"$W/sendmail" <<EOF
#!/bin/sh
cat >"\$(mktemp "$W/mail/msg.XXXXXX")"
EOF
chmod 755 "$W/sendmail"
e2e_write "$W/hosts.allow" </dev/null
e2e_write "$W/hosts.deny" <<EOF
ALL: ALL
EOF
e2e_write "$W/wrapd.yaml" <<EOF
rules: { allow: $W/hosts.allow, deny: $W/hosts.deny }
log: { syslog: false, stderr: true }
actions: { max_running: 64, per_source: 100/min, mail_rate: 3/hour, sendmail: $W/sendmail }
services:
  - name: smtp
    listen: ["127.0.0.1:$P"]
    backend: "127.0.0.1:9"
    on_deny: { mail: postmaster }
EOF
e2e_bg wrapd "$WRAPD" --config "$W/wrapd.yaml"
e2e_wait_listen "$P" "" "$E2E_LAST_PID"

"$PY" "$ACT" flood --to "127.0.0.1:$P" --src-spread 127.1 --count 40 \
	--parallel 8 --out "$W/flood.json"
e2e_logcheck "$W/wrapd.err" --count 40 service=smtp verdict=deny
# Sum of the "over mail_rate" counts of the summary lines so far.
over_mail() {
	awk '/actions skipped:/ { for (i = 1; i <= NF; i++)
		if ($(i+1) == "over" && $(i+2) == "mail_rate") n += $i }
		END { print n + 0 }' "$W/wrapd.err"
}
for i in $(seq 100); do
	[ "$(over_mail)" -ge 37 ] && [ "$(ls "$W/mail" | wc -l)" -ge 3 ] && break
	sleep 0.1
done
e2e_expect "mails over the rate, counted" "$(over_mail)" 37
e2e_expect "mails sent" "$(ls "$W/mail" | wc -l)" 3
grep -l '^Subject: wrapd: smtp denied 127\.1\.0\.' "$W"/mail/msg.* | wc -l |
	grep -qx 3 || e2e_fail "the 3 mails are not reports of this service"
# Over the rate is not per source: the per_source count stays 0.
grep -qE 'over per_source, [0-9]+ over mail_rate' "$W/wrapd.err" ||
	e2e_fail "no summary line"
grep -E 'actions skipped:' "$W/wrapd.err" | grep -qvE ' 0 over max_running, 0 over per_source,' &&
	e2e_fail "skips other than mail_rate"
exit 0
