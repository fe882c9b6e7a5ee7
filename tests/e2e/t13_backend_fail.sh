#!/usr/bin/env bash
# Scenario 13: the backend refuses, or vanishes mid-stream.
#  a) nothing listens on the backend port: the allowed client is reset (no
#     bytes), never closed cleanly as if the service had nothing to say;
#     the log line says why.
#  b) the backend echoes one line, then resets its connection: the client
#     gets the echoed line, then a reset; the log line says why.
#  c) the client reads nothing until the backend has reset: every byte
#     wrapd's kernel acknowledged to the backend still reaches the client,
#     then the reset.
# The parts are independent: a failure in one does not stop the others.
. "$(dirname "$0")/lib.sh"

e2e_port P
e2e_port B
e2e_port P2
e2e_port B2
e2e_write "$W/hosts.allow" <<EOF
gone: 127.0.0.2
EOF
e2e_write "$W/hosts.deny" <<EOF
gone: ALL
EOF

# a) refused
e2e_bg wrapd "$WRAPD" --listen "127.0.0.1:$P" --backend "127.0.0.1:$B" \
	--daemon gone --no-syslog --allow "$W/hosts.allow" --deny "$W/hosts.deny"
WPID=$E2E_LAST_PID
e2e_wait_listen "$P" "" "$WPID"
r=$("$PY" "$HELPER" banner --src 127.0.0.2 --to "127.0.0.1:$P")
e2e_expect "a) backend refuses: client sees" "$r" reset
e2e_logcheck "$W/wrapd.err" --count 1 client=127.0.0.2 verdict=grant in=0 out=0 'reason~backend'
# ... and a line about that connection says the backend refused it.
conn=$(grep -E 'verdict=grant' "$W/wrapd.err" | grep -oE 'conn=[0-9a-f]+' | head -1)
grep -F "$conn " "$W/wrapd.err" | grep -qi 'refused' ||
	e2e_fail "a) no log line for $conn says the backend refused: $(grep -F "$conn " "$W/wrapd.err")"
e2e_log "ok: a) the log says the backend refused"
kill -0 "$WPID" 2>/dev/null || e2e_fail "wrapd died"

# b) vanishing backend
e2e_echo_backend backend "127.0.0.1:$B2" "" --vanish
e2e_bg wrapd2 "$WRAPD" --listen "127.0.0.1:$P2" --backend "127.0.0.1:$B2" \
	--daemon gone --no-syslog --allow "$W/hosts.allow" --deny "$W/hosts.deny"
WPID2=$E2E_LAST_PID
e2e_wait_listen "$P2" "" "$WPID2"
# The client sends one line, reads the echo, then only reads: sending more
# could let the kernel answer the close with a reset.
r=$(e2e_client -- --src 127.0.0.2 --to "127.0.0.1:$P2" --send first-line \
	--expect-eof 2>&1)
case $r in
echo+reset) e2e_log "ok: b) client sees the echo, then a reset ($r)" ;;
*) e2e_softfail "b) vanishing backend: client got '$r', want its echo, then a reset" ;;
esac
grep -q '^vanish ' "$W/backend.log" || e2e_fail "b) the backend did not vanish as planned"
[ "$E2E_FAILED" = 1 ] ||
	e2e_logcheck "$W/wrapd2.err" --count 1 client=127.0.0.2 verdict=grant in=11 out=11 '_line~(?i)(reset|backend)'
kill -0 "$WPID2" 2>/dev/null || e2e_fail "wrapd died"

# c) The same, deterministic: the client does not read, so the backend's
# bytes pile up in wrapd's socket buffers; the backend then resets.  Every
# byte wrapd's kernel acknowledged to the backend must still reach the
# client, then a reset.  (A client connected straight to the backend gets
# exactly the acknowledged bytes.)
e2e_port P3
e2e_port B3
e2e_bg flood "$PY" "$HELPER" flood --listen "127.0.0.1:$B3" --log "$W/flood.log" \
	--ready "$W/flood.ready"
FPID=$E2E_LAST_PID
e2e_wait_file "$W/flood.ready" "$FPID"
e2e_bg wrapd3 "$WRAPD" --listen "127.0.0.1:$P3" --backend "127.0.0.1:$B3" \
	--daemon gone --no-syslog --allow "$W/hosts.allow" --deny "$W/hosts.deny"
WPID3=$E2E_LAST_PID
e2e_wait_listen "$P3" "" "$WPID3"
e2e_bg drain "$PY" "$HELPER" drain --src 127.0.0.2 --to "127.0.0.1:$P3" \
	--wait-file "$W/drain.go" --ready "$W/drain.ready"
DPID=$E2E_LAST_PID
e2e_wait_grep '^reset ' "$W/flood.log"
touch "$W/drain.go"
e2e_wait_exit "$DPID"
acked=$(sed -n 's/^reset written=[0-9]* acked=\([0-9]*\)$/\1/p' "$W/flood.log")
got=$(cat "$W/drain.out")
[ -n "$acked" ] && [ "$acked" -gt 0 ] || e2e_fail "c) flood backend did not report"
[ "$got" = "bytes=$acked end=reset" ] ||
	e2e_softfail "c) backend reset with $acked bytes acknowledged by wrapd; client got '$got', want 'bytes=$acked end=reset'"
[ "$got" = "bytes=$acked end=reset" ] &&
	e2e_log "ok: c) all $acked acknowledged bytes reached the client, then a reset" &&
	e2e_logcheck "$W/wrapd3.err" --count 1 client=127.0.0.2 verdict=grant "out=$acked" '_line~(?i)(reset|backend)'

for p in "$WPID" "$WPID2" "$WPID3"; do
	e2e_stop_wrapd "$p"
done
