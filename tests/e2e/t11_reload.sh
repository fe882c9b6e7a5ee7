#!/usr/bin/env bash
# Scenario 11: reload while traffic flows.
# A load of short echo connections from 127.0.0.2 (always allowed) runs
# while the rules are rewritten and SIGHUP is sent several times, once with
# a broken config and once with a rules file with an error: both must keep
# the old set.  127.0.0.4's verdict flips
# with the rules.  A long connection opened before the first reload keeps
# working after the last.  No allowed connection may fail.
. "$(dirname "$0")/lib.sh"

e2e_port P
e2e_port B
rules_deny4() {
	e2e_write "$W/hosts.allow" <<EOF
rel: 127.0.0.2
EOF
}
rules_allow4() {
	e2e_write "$W/hosts.allow" <<EOF
rel: 127.0.0.2
rel: 127.0.0.4
EOF
}
good_config() {
	e2e_write "$W/wrapd.yaml" <<EOF
rules: { allow: $W/hosts.allow, deny: $W/hosts.deny }
log: { syslog: false, stderr: true, format: text }
services:
  - name: rel
    listen: ["127.0.0.1:$P"]
    backend: "127.0.0.1:$B"
EOF
}
broken_config() {
	e2e_write "$W/wrapd.yaml" <<EOF
rules: { allow: $W/hosts.allow, deny: $W/hosts.deny }
log: { syslog: false, stderr: true, format: text }
services:
  - name: rel
    listen: ["127.0.0.1:$P"
    backend: "127.0.0.1:$B"
    no_such_key: [
EOF
}
e2e_write "$W/hosts.deny" <<EOF
rel: ALL
EOF
rules_deny4
good_config

e2e_echo_backend backend "127.0.0.1:$B"
e2e_bg wrapd "$WRAPD" --config "$W/wrapd.yaml"
WPID=$E2E_LAST_PID
e2e_wait_listen "$P" "" "$WPID"

# The long connection: one echo now, one after all the reloads.
e2e_bg long "$PY" "$HELPER" client --src 127.0.0.2 --to "127.0.0.1:$P" \
	--send long-first --wait-file "$W/long.go" --ready "$W/long.ready" \
	--send2 long-second --timeout 120
LPID=$E2E_LAST_PID
e2e_wait_file "$W/long.ready" "$LPID"

probe() { e2e_client -- --src 127.0.0.4 --to "127.0.0.1:$P" --send probe-four; }
# until_verdict WANT(echo|denied) WHY: bounded wait for a reload to show.
until_verdict() {
	local i r
	for i in $(seq 100); do
		r=$(probe)
		case $1:$r in echo:echo | denied:closed | denied:reset) e2e_log "ok: $2: 127.0.0.4 -> $r"; return 0 ;; esac
		sleep 0.1
	done
	e2e_fail "$2: 127.0.0.4 still gets '$r', want $1"
}
until_verdict denied "initial rules"

e2e_bg load "$PY" "$HELPER" load --src 127.0.0.2 --to "127.0.0.1:$P" \
	--count 20000 --min-count 500 --parallel 4 --out "$W/load.result" \
	--stop-file "$W/load.stop"
LOADPID=$E2E_LAST_PID

hup() { kill -HUP "$WPID" || e2e_fail "wrapd is gone"; }
for round in 1 2; do
	rules_allow4
	hup
	until_verdict echo "reload $round: 127.0.0.4 allowed"
	rules_deny4
	hup
	until_verdict denied "reload $round: 127.0.0.4 denied again"
done

# A broken config (and new rules with it): the old set stays in force.
rules_allow4
broken_config
before=$(grep -c 'wrapd\.yaml' "$W/wrapd.err")
hup
for i in $(seq 300); do
	[ "$(grep -c 'wrapd\.yaml' "$W/wrapd.err")" -gt "$before" ] && break
	sleep 0.1
done
[ "$(grep -c 'wrapd\.yaml' "$W/wrapd.err")" -gt "$before" ] ||
	e2e_fail "no error naming wrapd.yaml after reloading a broken config"
grep -E 'wrapd\.yaml:[0-9]+' "$W/wrapd.err" >/dev/null ||
	e2e_fail "the config error has no file:line"
e2e_log "ok: broken config reported: $(grep -E 'wrapd\.yaml:[0-9]+' "$W/wrapd.err" | head -1)"
r=$(probe)
case $r in closed | reset) e2e_log "ok: old rules kept after the broken reload" ;;
*) e2e_fail "after a broken reload 127.0.0.4 got '$r': the new rules were taken" ;; esac
kill -0 "$WPID" 2>/dev/null || e2e_fail "wrapd died on a broken config"

good_config
hup
until_verdict echo "reload after fixing the config"

# A rules file with an error (an unknown option): the old set stays too,
# although the new file would deny 127.0.0.4.
e2e_write "$W/hosts.allow" <<EOF
rel: 127.0.0.2
# 127.0.0.4 is gone from this version
rel: 127.0.0.9: no_such_option
EOF
hup
e2e_wait_grep 'hosts\.allow:3:[0-9]+' "$W/wrapd.err"
e2e_log "ok: bad rules reported: $(grep -E 'hosts\.allow:3:[0-9]+' "$W/wrapd.err" | head -1)"
e2e_expect "127.0.0.4 after a reload with bad rules (old set kept)" "$(probe)" echo
kill -0 "$WPID" 2>/dev/null || e2e_fail "wrapd died on bad rules"
rules_allow4
hup

touch "$W/load.stop"
e2e_wait_exit "$LOADPID"
read -r summary <"$W/load.result"
e2e_log "load: $summary"
case $summary in
ok=*" fail=0") ;;
*) e2e_fail "connections failed during reloads: $(cat "$W/load.result")" ;;
esac
ok=${summary#ok=}
ok=${ok%% *}
[ "$ok" -ge 500 ] || e2e_fail "only $ok load connections"

touch "$W/long.go"
e2e_wait_exit "$LPID"
e2e_expect "long connection across the reloads" "$(cat "$W/long.out")" echo
grep -q 'data .* long-first' "$W/backend.log" || e2e_fail "long connection's data missing at the backend"
e2e_logcheck "$W/wrapd.err" --min "$ok" client=127.0.0.2 verdict=grant 'rule$=hosts.allow:1'

e2e_stop_wrapd "$WPID"
