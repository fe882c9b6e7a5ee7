#!/usr/bin/env bash
# Scenario 8: socket activation without systemd, with systemd-socket-activate.
#  a) LISTEN_FDS, quick mode: --listen systemd; wrapd keeps the listener
#     and serves later connections in the same process.
#  b) LISTEN_FDS with names, config mode: --fdname=alpha:beta maps each fd to
#     the service of that name (and so to its daemon name in the rules).
#  c) --inetd -a: one wrapd per connection, the connection on stdin/stdout
#     (--listen stdin, inetd "nowait").
#  d) -a: one wrapd per connection, the connected socket as fd 3 in
#     LISTEN_FDS (systemd Accept=yes).
. "$(dirname "$0")/lib.sh"
e2e_require_cmd systemd-socket-activate

# systemd-socket-activate clears the environment; keep the sanitizers' knobs.
SE=()
for v in ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS; do
	[ -n "${!v:-}" ] && SE+=(-E "$v")
done

e2e_port B
e2e_port BA
e2e_port BB
e2e_write "$W/hosts.allow" <<EOF
sa: 127.0.0.2
alpha: 127.0.0.2
beta: 127.0.0.3
EOF
e2e_write "$W/hosts.deny" <<EOF
ALL: ALL
EOF
RULES=(--allow "$W/hosts.allow" --deny "$W/hosts.deny")
e2e_echo_backend backend "127.0.0.1:$B"
e2e_echo_backend alpha "127.0.0.1:$BA"
e2e_echo_backend beta "127.0.0.1:$BB"

denied() {
	case $1 in closed | reset) e2e_log "ok: $2 -> $1" ;;
	*) e2e_fail "$2: got '$1', want closed or reset" ;; esac
}
cl() { e2e_client -- --src "$1" --to "127.0.0.1:$2" --send "$3"; }

# --- a) LISTEN_FDS, quick mode
e2e_port PA
e2e_bg sa-listen systemd-socket-activate "${SE[@]+"${SE[@]}"}" -l "127.0.0.1:$PA" \
	"$WRAPD" --listen systemd --backend "127.0.0.1:$B" --daemon sa --no-syslog "${RULES[@]}"
SPID=$E2E_LAST_PID
e2e_wait_listen "$PA" "" "$SPID"
e2e_expect "a) first connection (activates wrapd)" "$(cl 127.0.0.2 "$PA" a-allowed-1)" echo
# systemd-socket-activate has exec'd wrapd: same PID, now the wrapd binary.
[ "$(readlink "/proc/$SPID/exe")" = "$(readlink -f "$WRAPD")" ] ||
	e2e_fail "a) PID $SPID is not wrapd after activation"
denied "$(cl 127.0.0.3 "$PA" a-denied)" "a) 127.0.0.3"
e2e_expect "a) a later connection, same process" "$(cl 127.0.0.2 "$PA" a-allowed-2)" echo
kill -0 "$SPID" 2>/dev/null || e2e_fail "a) wrapd exited"
e2e_logcheck "$W/sa-listen.err" --count 2 client=127.0.0.2 verdict=grant 'rule$=hosts.allow:1'
e2e_logcheck "$W/sa-listen.err" --count 1 client=127.0.0.3 verdict=deny 'rule$=hosts.deny:1'
kill -TERM "$SPID"
e2e_wait_exit "$SPID"
[ "$E2E_EXIT" = 0 ] || e2e_fail "a) wrapd exit status $E2E_EXIT after SIGTERM"

# --- b) named fds, config mode
e2e_port PX
e2e_port PY_
e2e_write "$W/wrapd.yaml" <<EOF
rules: { allow: $W/hosts.allow, deny: $W/hosts.deny }
log: { syslog: false, stderr: true, format: text }
services:
  - name: alpha
    listen: ["systemd"]
    backend: "127.0.0.1:$BA"
  - name: beta
    listen: ["systemd"]
    backend: "127.0.0.1:$BB"
EOF
e2e_bg sa-names systemd-socket-activate "${SE[@]+"${SE[@]}"}" \
	-l "127.0.0.1:$PX" -l "127.0.0.1:$PY_" --fdname=alpha:beta \
	"$WRAPD" --config "$W/wrapd.yaml"
SPID=$E2E_LAST_PID
e2e_wait_listen "$PY_" "" "$SPID"
e2e_expect "b) 127.0.0.2 to alpha's fd" "$(cl 127.0.0.2 "$PX" b-alpha-2)" echo
denied "$(cl 127.0.0.2 "$PY_" b-beta-2-denied)" "b) 127.0.0.2 to beta's fd"
e2e_expect "b) 127.0.0.3 to beta's fd" "$(cl 127.0.0.3 "$PY_" b-beta-3)" echo
denied "$(cl 127.0.0.3 "$PX" b-alpha-3-denied)" "b) 127.0.0.3 to alpha's fd"
grep -q 'data .* b-alpha-2' "$W/alpha.log" || e2e_fail "b) alpha's backend missed alpha's client"
grep -q 'data .* b-beta-3' "$W/beta.log" || e2e_fail "b) beta's backend missed beta's client"
grep -q denied "$W/alpha.log" "$W/beta.log" && e2e_fail "b) denied data reached a backend"
e2e_logcheck "$W/sa-names.err" --count 1 service=alpha client=127.0.0.2 verdict=grant 'rule$=hosts.allow:2'
e2e_logcheck "$W/sa-names.err" --count 1 service=beta client=127.0.0.3 verdict=grant 'rule$=hosts.allow:3'
e2e_logcheck "$W/sa-names.err" --count 1 service=beta client=127.0.0.2 verdict=deny
kill -TERM "$SPID"
e2e_wait_exit "$SPID"

# --- c) --inetd -a: connection on stdin, one wrapd per connection
# --- d) -a: connected socket as LISTEN_FDS fd 3, one wrapd per connection
for mode in inetd accept; do
	e2e_port PC
	if [ $mode = inetd ]; then
		e2e_bg "sa-$mode" systemd-socket-activate "${SE[@]+"${SE[@]}"}" --inetd -a \
			-l "127.0.0.1:$PC" "$WRAPD" --listen stdin \
			--backend "127.0.0.1:$B" --daemon sa --no-syslog "${RULES[@]}"
	else
		e2e_bg "sa-$mode" systemd-socket-activate "${SE[@]+"${SE[@]}"}" -a \
			-l "127.0.0.1:$PC" "$WRAPD" --listen systemd \
			--backend "127.0.0.1:$B" --daemon sa --no-syslog "${RULES[@]}"
	fi
	SPID=$E2E_LAST_PID
	e2e_wait_listen "$PC" "" "$SPID"
	e2e_expect "$mode) 127.0.0.2" "$(cl 127.0.0.2 "$PC" "$mode-allowed-1")" echo
	denied "$(cl 127.0.0.3 "$PC" "$mode-denied")" "$mode) 127.0.0.3"
	e2e_expect "$mode) 127.0.0.2 again" "$(cl 127.0.0.2 "$PC" "$mode-allowed-2")" echo
	# Each per-connection wrapd exits once its connection is done.
	for i in $(seq 100); do
		[ -z "$(pgrep -P "$SPID")" ] && break
		sleep 0.1
	done
	kids=$(pgrep -P "$SPID" | tr '\n' ' ')
	for k in $kids; do
		[ "$(awk '{print $3}' "/proc/$k/stat" 2>/dev/null)" = Z ] || e2e_fail "$mode) wrapd $k still running after its connection"
	done
	e2e_logcheck "$W/sa-$mode.err" --count 2 client=127.0.0.2 verdict=grant 'rule$=hosts.allow:1'
	e2e_logcheck "$W/sa-$mode.err" --count 1 client=127.0.0.3 verdict=deny 'rule$=hosts.deny:1'
	n=$(grep -E 'verdict' "$W/sa-$mode.err" | grep -oE 'wrapd\[[0-9]+\]' | sort -u | wc -l)
	[ "$n" = 0 ] || [ "$n" = 3 ] || e2e_fail "$mode) want 3 wrapd processes in the log, saw $n"
	kill -TERM "$SPID"
	e2e_wait_exit "$SPID"
done
grep -q denied "$W/backend.log" && e2e_fail "denied data reached the backend"
[ "$(grep -c '^accept ' "$W/backend.log")" = 6 ] ||
	e2e_fail "backend: $(grep -c '^accept ' "$W/backend.log") accepts, want 6"
e2e_log "ok: backend saw exactly the 6 allowed connections of a), c), d)"
