#!/usr/bin/env bash
# Scenario 4: relaying integrity.  WRAPD_E2E_BIG random bytes (default
# 1 GiB; 64 MiB in sanitizer builds) each way through wrapd, byte-identical
# (sha256 and count on both ends), in three orders:
#   simul          both directions at once, each side half-closes when done
#   client-first   the client sends all and half-closes; only then does the
#                  backend send (the other direction must keep flowing)
#   backend-first  the mirror image
. "$(dirname "$0")/lib.sh"

e2e_port P
e2e_port B
e2e_write "$W/hosts.allow" <<EOF
big: 127.0.0.2
EOF
e2e_write "$W/hosts.deny" <<EOF
big: ALL
EOF
e2e_bg wrapd "$WRAPD" --listen "127.0.0.1:$P" --backend "127.0.0.1:$B" \
	--daemon big --no-syslog --allow "$W/hosts.allow" --deny "$W/hosts.deny"
WPID=$E2E_LAST_PID
e2e_wait_listen "$P" "" "$WPID"
e2e_log "payload: $E2E_BIG bytes each way"

for mode in simul client-first backend-first; do
	rm -f "$W/$mode.ready"
	e2e_bg "server-$mode" "$PY" "$HELPER" big-server --listen "127.0.0.1:$B" \
		--size "$E2E_BIG" --mode "$mode" --report "$W/$mode.server.json" \
		--ready "$W/$mode.ready"
	SPID=$E2E_LAST_PID
	e2e_wait_file "$W/$mode.ready" "$SPID"
	"$PY" "$HELPER" big-client --src 127.0.0.2 --to "127.0.0.1:$P" \
		--size "$E2E_BIG" --mode "$mode" --report "$W/$mode.client.json" ||
		e2e_fail "$mode: client failed"
	e2e_wait_exit "$SPID"
	"$PY" - "$W/$mode.client.json" "$W/$mode.server.json" "$E2E_BIG" <<'EOF' ||
import json, sys
c = json.load(open(sys.argv[1]))
s = json.load(open(sys.argv[2]))
n = int(sys.argv[3])
err = []
for side, d in (("client", c), ("backend", s)):
    if d.get("error"):
        err.append("%s: %s" % (side, d["error"]))
    if d["sent"] != n:
        err.append("%s sent %d of %d" % (side, d["sent"], n))
if s["recv"] != c["sent"] or s["recv_sha"] != c["sent_sha"]:
    err.append("client->backend: %d bytes sha %s arrived as %d bytes sha %s"
               % (c["sent"], c["sent_sha"], s["recv"], s["recv_sha"]))
if c["recv"] != s["sent"] or c["recv_sha"] != s["sent_sha"]:
    err.append("backend->client: %d bytes sha %s arrived as %d bytes sha %s"
               % (s["sent"], s["sent_sha"], c["recv"], c["recv_sha"]))
if err:
    sys.exit("; ".join(err))
EOF
		e2e_fail "$mode: payload not relayed intact"
	e2e_log "ok: $mode: $E2E_BIG bytes each way, sha256 identical"
done

# One log line per transfer, allowed, with the byte count in it.
e2e_logcheck "$W/wrapd.err" --count 3 client=127.0.0.2 verdict=grant "_line~=$E2E_BIG\\b"

e2e_stop_wrapd "$WPID"
