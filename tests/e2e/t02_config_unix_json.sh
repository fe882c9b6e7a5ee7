#!/usr/bin/env bash
# Scenario 2: config mode, two services (one with a UNIX socket backend, one
# TCP), rules per daemon name, per-connection log lines in JSON.
#   alpha (daemon in.alpha) -> unix:$W/alpha.sock   allowed from 127.0.0.2
#   beta  (daemon beta)     -> 127.0.0.1:B         allowed from 127.0.0.3
# Each client is denied by the other service.  As root, wrapd is also told
# to run as user nobody after binding, and must.
. "$(dirname "$0")/lib.sh"

e2e_port PA
e2e_port PB
e2e_port B
e2e_write "$W/hosts.allow" <<EOF
in.alpha: 127.0.0.2
beta: 127.0.0.3
EOF
e2e_write "$W/hosts.deny" <<EOF
# deny the rest
ALL: ALL
EOF
USERLINE=""
[ "$(id -u)" = 0 ] && USERLINE="user: nobody"
e2e_write "$W/wrapd.yaml" <<EOF
rules: { allow: $W/hosts.allow, deny: $W/hosts.deny }
$USERLINE
log: { syslog: false, stderr: true, format: json }
services:
  - name: alpha
    daemon: in.alpha
    listen: ["127.0.0.1:$PA"]
    backend: "unix:$W/alpha.sock"
  - name: beta
    listen: ["127.0.0.1:$PB"]
    backend: "127.0.0.1:$B"
    timeouts: { connect: 5s, idle: 60s, lookup: 5s }
    max_connections: 64
EOF

e2e_echo_backend alpha "unix:$W/alpha.sock"
e2e_echo_backend beta "127.0.0.1:$B"
e2e_bg wrapd "$WRAPD" --config "$W/wrapd.yaml"
WPID=$E2E_LAST_PID
e2e_wait_listen "$PA" "" "$WPID"
e2e_wait_listen "$PB" "" "$WPID"

denied() {
	case $1 in closed | reset) e2e_log "ok: $2 -> $1" ;;
	*) e2e_fail "$2: got '$1', want closed or reset" ;; esac
}
denied "$(e2e_client -- --src 127.0.0.3 --to "127.0.0.1:$PA" --send x-alpha-from-3)" \
	"127.0.0.3 to alpha"
denied "$(e2e_client -- --src 127.0.0.2 --to "127.0.0.1:$PB" --send x-beta-from-2)" \
	"127.0.0.2 to beta"
e2e_expect "127.0.0.2 to alpha" \
	"$(e2e_client -- --src 127.0.0.2 --to "127.0.0.1:$PA" --send ok-alpha-from-2)" echo
e2e_expect "127.0.0.3 to beta" \
	"$(e2e_client -- --src 127.0.0.3 --to "127.0.0.1:$PB" --send ok-beta-from-3)" echo

J=(--json --strict-json)
e2e_logcheck "$W/wrapd.err" "${J[@]}" --count 1 service=alpha client=127.0.0.2 \
	verdict=grant 'rule$=hosts.allow:1'
e2e_logcheck "$W/wrapd.err" "${J[@]}" --count 1 service=beta client=127.0.0.3 \
	verdict=grant 'rule$=hosts.allow:2'
e2e_logcheck "$W/wrapd.err" "${J[@]}" --count 1 service=alpha client=127.0.0.3 \
	verdict=deny 'rule$=hosts.deny:2'
e2e_logcheck "$W/wrapd.err" "${J[@]}" --count 1 service=beta client=127.0.0.2 \
	verdict=deny 'rule$=hosts.deny:2'
# Every per-connection JSON line carries the fields the contract names.
/usr/bin/python3 - "$W/wrapd.err" <<'EOF' || e2e_fail "JSON log lines lack fields"
import json, sys
n = 0
for line in open(sys.argv[1], errors="replace"):
    i = line.find("{")
    if i < 0 or '"verdict"' not in line:
        continue
    d = json.loads(line[i:])
    n += 1
    for want in ("service", "client", "name", "user", "verdict", "rule",
                 "in", "out", "ms", "reason"):
        if want not in d:
            sys.exit("missing %r in %s" % (want, line.strip()))
    for k in ("in", "out", "ms"):
        if not isinstance(d[k], int) or d[k] < 0:
            sys.exit("%r is not a count in %s" % (k, line.strip()))
    # Bytes each way: "ok-alpha-from-2\n" (16) and "ok-beta-from-3\n" (15)
    # echoed; nothing for a denied connection.
    want = {("alpha", "grant"): 16, ("beta", "grant"): 15}.get(
        (d["service"], d["verdict"]), 0)
    if d["in"] != want or d["out"] != want:
        sys.exit("byte counts: want %d each way in %s" % (want, line.strip()))
if n != 4:
    sys.exit("want 4 JSON connection lines, found %d" % n)
EOF
e2e_log "ok: JSON lines have service, client, name, user, verdict, rule, in, out, ms, reason"

[ "$(grep -c '^accept ' "$W/alpha.log")" = 1 ] || e2e_fail "alpha backend: want 1 accept"
[ "$(grep -c '^accept ' "$W/beta.log")" = 1 ] || e2e_fail "beta backend: want 1 accept"
grep -q 'data unix ok-alpha-from-2' "$W/alpha.log" || e2e_fail "alpha backend did not get the data"
grep -q 'x-' "$W/alpha.log" "$W/beta.log" && e2e_fail "denied data reached a backend"
e2e_log "ok: each backend saw only its allowed client"

# Checked after serving: wrapd drops privileges some time after binding.
if [ -n "$USERLINE" ]; then
	uids=$(awk '/^Uid:/ {print $2, $3, $4, $5}' "/proc/$WPID/status")
	[ "$uids" = "65534 65534 65534 65534" ] ||
		e2e_fail "user: nobody - wrapd runs with uids '$uids'"
	e2e_log "ok: wrapd runs as nobody (uids $uids)"
fi
e2e_stop_wrapd "$WPID"
