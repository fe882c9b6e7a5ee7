#!/usr/bin/env bash
# wrapd audit with listeners this test starts itself, in a private network
# namespace (the host's own sockets do not count there):
#  - a wildcard TCP listener: exposed, flagged, with a proposed services:
#    entry that the real wrapd then runs (after the daemon stops);
#  - a loopback-only listener with a hostile process name: listed, not
#    flagged, the name escaped in the table and valid in JSON;
#  - a backend fronted by a running wrapd: "wrapped", wrapd's own listener
#    "wrapd"; a backend on the wildcard address: "bypass", flagged;
#  - a UDP socket: listed, exposed, never flagged (wrapd cannot front UDP);
#  - exit status 1 while something is flagged, 0 when nothing is.
. "$(dirname "$0")/../e2e/lib.sh"
e2e_require_root_netns
OPS="$(cd "$(dirname "$0")" && pwd)/ops.py"
e2e_netns
NS=$E2E_NS
PRE=(ip netns exec "$NS")

listener() { # NAME PROTO ADDR PORT COMM
	e2e_bg "$1" "${PRE[@]}" "$PY" "$OPS" listen --proto "$2" --addr "$3" \
		--port "$4" --comm "$5" --ready "$W/$1.ready"
	e2e_wait_file "$W/$1.ready" "$E2E_LAST_PID"
}
audit() { # OUT [ARGS...]: run wrapd audit in the namespace, set RC
	local out=$1
	shift
	"${PRE[@]}" "$WRAPD" audit "$@" >"$W/$out" 2>"$W/$out.err"
	RC=$?
}
jcheck() { "$PY" "$OPS" audit-json "$@" >&2 || e2e_fail "audit --json: $*"; }

# Ports are fixed: the namespace is ours alone.
EXPOSED=2201 LOOP=2202 BACK=2203 FRONT=2204 LEAK=2205 LEAKFRONT=2206 UDP=2207

e2e_write "$W/hosts.allow" <<<"ALL: ALL"
e2e_write "$W/hosts.deny" <<<"ALL: ALL"
e2e_write "$W/wrapd.yaml" <<YAML
rules: { allow: $W/hosts.allow, deny: $W/hosts.deny }
log: { syslog: false, stderr: true }
services:
  - name: front
    listen: ["0.0.0.0:$FRONT"]
    backend: "127.0.0.1:$BACK"
  - name: leaky
    listen: ["0.0.0.0:$LEAKFRONT"]
    backend: "127.0.0.1:$LEAK"
YAML

# --- nothing listens: nothing to report, exit 0 (a missing default
# configuration means nothing is wrapped, not an error)
[ -e /etc/wrapd/wrapd.yaml ] && e2e_skip "/etc/wrapd/wrapd.yaml exists"
audit empty.out --json
[ "$RC" = 0 ] || e2e_fail "empty namespace: exit $RC, want 0"
[ "$(cat "$W/empty.out")" = "[]" ] || e2e_fail "empty namespace: $(cat "$W/empty.out")"
e2e_log "ok: an empty namespace lists nothing, exit 0"

listener exposed tcp 0.0.0.0 $EXPOSED exposed-daemon
EXPOSED_PID=$E2E_LAST_PID
listener loop tcp 127.0.0.1 $LOOP '\x1b[31m\xff x\\'
listener back tcp 127.0.0.1 $BACK back-daemon
listener leak tcp 0.0.0.0 $LEAK leak-daemon
LEAK_PID=$E2E_LAST_PID
listener udp udp 0.0.0.0 $UDP udp-daemon
e2e_bg wrapd "${PRE[@]}" "$WRAPD" --config "$W/wrapd.yaml"
WPID=$E2E_LAST_PID
e2e_wait_listen $LEAKFRONT "$NS" "$WPID"

# --- everything at once: exit 1
audit all.json --config "$W/wrapd.yaml" --json
[ "$RC" = 1 ] || e2e_fail "exposed listener: exit $RC, want 1"
jcheck "$W/all.json" \
	tcp:$EXPOSED:exposed=true tcp:$EXPOSED:wrapped=false \
	tcp:$EXPOSED:status=exposed tcp:$EXPOSED:process.name=exposed-daemon \
	tcp:$EXPOSED:process.pid="$EXPOSED_PID" \
	tcp:$EXPOSED:proposal.daemon=exposed-daemon \
	tcp:$LOOP:exposed=false tcp:$LOOP:wrapped=false tcp:$LOOP:status=loopback \
	tcp:$BACK:exposed=false tcp:$BACK:wrapped=true tcp:$BACK:service=front \
	tcp:$BACK:status=wrapped tcp:$BACK:proposal=null \
	tcp:$FRONT:wrapd=true tcp:$FRONT:status=wrapd tcp:$FRONT:exposed=true \
	tcp:$LEAK:status=bypass tcp:$LEAK:service=leaky tcp:$LEAK:exposed=true \
	udp:$UDP:exposed=true udp:$UDP:wrapped=false udp:$UDP:proposal=null \
	udp:$UDP:process.name=udp-daemon
# The hostile name arrives byte for byte (U+FFFD where it is not UTF-8).
"$PY" - "$W/all.json" "$LOOP" <<'PYEOF' || e2e_fail "hostile name in JSON"
import json, sys
rows = json.load(open(sys.argv[1], encoding="utf-8"))
name = [r for r in rows if r["port"] == int(sys.argv[2])][0]["process"]["name"]
assert name == "\x1b[31m\ufffd x\\", repr(name)
PYEOF
e2e_log "ok: --json: exposed, loopback, wrapped, wrapd, bypass and UDP rows"

# --- the table: the same verdicts, the name escaped, the proposal printed
audit all.txt --config "$W/wrapd.yaml"
[ "$RC" = 1 ] || e2e_fail "table: exit $RC, want 1"
grep -q $'\x1b' "$W/all.txt" && e2e_fail "an escape byte reached the table"
grep -qF '\x1b[31m\xff\x20x\x5c' "$W/all.txt" ||
	e2e_fail "hostile name not escaped: $(grep " $LOOP " "$W/all.txt")"
grep -Eq "^tcp +0\.0\.0\.0 +$EXPOSED +exposed-daemon\[$EXPOSED_PID\] +exposed" "$W/all.txt" ||
	e2e_fail "no exposed row in the table"
grep -Eq "^tcp +0\.0\.0\.0 +$LEAK .* bypass " "$W/all.txt" || e2e_fail "no bypass row"
grep -Eq "^udp +0\.0\.0\.0 +$UDP .* exposed +UDP" "$W/all.txt" || e2e_fail "no UDP row"
e2e_log "ok: the table, the hostile name escaped"

# --- the proposal runs: stop the daemon, give wrapd the proposed entry
sed -n '/^services:/,$p' "$W/all.txt" >"$W/proposal.yaml"
grep -q "listen: \[\"0.0.0.0:$EXPOSED\"\]" "$W/proposal.yaml" ||
	e2e_fail "proposal does not listen on 0.0.0.0:$EXPOSED: $(cat "$W/proposal.yaml")"
grep -q "daemon: exposed-daemon " "$W/proposal.yaml" || e2e_fail "proposal's daemon name"
[ "$(grep -c '^  - name:' "$W/proposal.yaml")" = 1 ] ||
	e2e_fail "want exactly one proposal: $(cat "$W/proposal.yaml")"
{
	printf 'rules: { allow: %s, deny: %s }\nlog: { syslog: false }\n' \
		"$W/hosts.allow" "$W/hosts.deny"
	cat "$W/proposal.yaml"
} | e2e_write "$W/proposed.yaml"
e2e_kill "$EXPOSED_PID"
e2e_wait_unlisten $EXPOSED "$NS"
e2e_bg proposed "${PRE[@]}" "$WRAPD" --config "$W/proposed.yaml"
PROPOSED_PID=$E2E_LAST_PID
e2e_wait_listen $EXPOSED "$NS" "$PROPOSED_PID"
e2e_log "ok: wrapd runs the proposed entry"
e2e_stop_wrapd "$PROPOSED_PID"

# --- the bypass alone still fails; without it, exit 0 (UDP does not count)
audit leak.json --config "$W/wrapd.yaml" --json
[ "$RC" = 1 ] || e2e_fail "bypassable backend: exit $RC, want 1"
e2e_kill "$LEAK_PID"
e2e_wait_unlisten $LEAK "$NS"
audit clean.json --config "$W/wrapd.yaml" --json
[ "$RC" = 0 ] || e2e_fail "nothing exposed: exit $RC, want 0: $(cat "$W/clean.json")"
jcheck "$W/clean.json" udp:$UDP:exposed=true tcp:$BACK:wrapped=true
e2e_log "ok: exit 0 with only wrapped, loopback, wrapd and UDP sockets"

# --- usage and configuration errors
audit usage.out --bogus
[ "$RC" = 2 ] || e2e_fail "--bogus: exit $RC, want 2"
audit usage.out extra-arg
[ "$RC" = 2 ] || e2e_fail "extra argument: exit $RC, want 2"
audit missing.out --config "$W/nonexistent.yaml"
[ "$RC" = 1 ] || e2e_fail "missing --config file: exit $RC, want 1"
printf 'services:\n  - name: x\n    listen: [oops\n' >"$W/broken.yaml"
audit broken.out --config "$W/broken.yaml"
[ "$RC" = 1 ] || e2e_fail "broken config: exit $RC, want 1"
grep -q "broken.yaml:[0-9]*:[0-9]*:" "$W/broken.out.err" ||
	e2e_fail "no file:line:col for a broken config: $(cat "$W/broken.out.err")"
e2e_log "ok: usage 2, missing or broken configuration 1 with file:line:col"
e2e_stop_wrapd "$WPID"
