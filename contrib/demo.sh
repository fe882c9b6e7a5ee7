#!/usr/bin/env bash
# demo.sh - wrapd in front of a small web server, on loopback only.
#
#   contrib/demo.sh          install the dependencies, build wrapd (Release,
#                            build/demo), start the demo web server on
#                            127.0.0.1:8081 and run wrapd in the foreground
#                            on 127.0.0.1:8080; Ctrl-C stops both.
#   contrib/demo.sh --check  the same, without a terminal: one allowed and
#                            one denied request, checked; exit 0 or 1.
#
# Environment (for tests): WRAPD=/path/to/wrapd skips the install and the
# build; WRAPD_DEMO_PORT / WRAPD_DEMO_BACKEND_PORT move the two ports
# (WRAPD_DEMO_PORT=0 picks free ones).
#
# The configuration is contrib/demo/wrapd.yaml with the rules
# contrib/demo/hosts.allow (127.0.0.1 and 127.0.0.2 allowed) and
# contrib/demo/hosts.deny (everything else denied).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
demo=$repo/contrib/demo
py=/usr/bin/python3
mode=run
case ${1-} in
--check) mode=check ;;
"") ;;
-h | --help)
	sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'
	exit 0
	;;
*)
	echo "usage: $0 [--check]" >&2
	exit 2
	;;
esac

say() { printf '\033[1mdemo:\033[0m %s\n' "$*" >&2; }
[ -t 2 ] || say() { printf 'demo: %s\n' "$*" >&2; }

if [ -z "${WRAPD:-}" ]; then
	say "installing dependencies (contrib/install-deps.sh)"
	"$repo/contrib/install-deps.sh"
	say "building wrapd (Release) in build/demo"
	cmake -S "$repo" -B "$repo/build/demo" -DCMAKE_BUILD_TYPE=Release \
		-DWRAPD_TESTS=OFF >/dev/null
	cmake --build "$repo/build/demo" --target wrapd -j"$(nproc)"
	WRAPD=$repo/build/demo/proxy/wrapd
fi
[ -x "$WRAPD" ] || {
	echo "demo: no wrapd binary at $WRAPD" >&2
	exit 1
}
[ -x "$py" ] || {
	echo "demo: needs Debian's python3 ($py): contrib/install-deps.sh" >&2
	exit 1
}

free_port() {
	"$py" - <<'EOF'
import random, socket
for _ in range(200):
    p = random.randint(20000, 32000)
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        continue
    finally:
        s.close()
    print(p)
    break
EOF
}
port=${WRAPD_DEMO_PORT:-8080}
bport=${WRAPD_DEMO_BACKEND_PORT:-8081}
[ "$port" = 0 ] && port=$(free_port)
[ "$bport" = 0 ] && bport=$(free_port)

run=$(mktemp -d /tmp/wrapd-demo.XXXXXX)
pids=()
cleanup() {
	local p
	trap - EXIT INT TERM
	for p in "${pids[@]+"${pids[@]}"}"; do
		kill -TERM "$p" 2>/dev/null || true
	done
	for p in "${pids[@]+"${pids[@]}"}"; do
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$run"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

sed -e "s|@DEMO@|$demo|g" \
	-e "s|\"127.0.0.1:8080\"|\"127.0.0.1:$port\"|" \
	-e "s|\"127.0.0.1:8081\"|\"127.0.0.1:$bport\"|" \
	"$demo/wrapd.yaml" >"$run/wrapd.yaml"

# wait_port PORT PID - until something listens on PORT (bounded: 20 s).
wait_port() {
	local i
	for i in $(seq 200); do
		ss -Hltn "sport = :$1" | grep -q . && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

say "demo web server: python3 -m http.server on 127.0.0.1:$bport (contrib/demo/www)"
"$py" -m http.server --bind 127.0.0.1 --directory "$demo/www" "$bport" \
	>"$run/http.log" 2>&1 </dev/null &
pids+=($!)
wait_port "$bport" "${pids[0]}" || {
	echo "demo: the web server did not start:" >&2
	cat "$run/http.log" >&2
	exit 1
}

url="http://127.0.0.1:$port/"
if [ "$mode" = run ]; then
	cat >&2 <<EOF

  wrapd now listens on 127.0.0.1:$port and relays allowed connections to
  the web server on 127.0.0.1:$bport.  Rules: contrib/demo/hosts.allow
  (127.0.0.1, 127.0.0.2 allowed) and contrib/demo/hosts.deny (all else).

  In another terminal:
    allowed:  curl --interface 127.0.0.2 $url
    denied:   curl --interface 127.0.0.3 $url
  and watch one log line per connection appear below.
  Ctrl-C stops wrapd and the web server.

EOF
	say "running: $WRAPD --config $run/wrapd.yaml"
	"$WRAPD" --config "$run/wrapd.yaml" &
	wpid=$!
	pids+=("$wpid")
	set +e
	wait "$wpid"
	rc=$?
	# Interrupted by Ctrl-C: wait for wrapd's drain to finish.
	while kill -0 "$wpid" 2>/dev/null; do
		wait "$wpid"
		rc=$?
	done
	exit "$rc"
fi

# --check
"$WRAPD" --config "$run/wrapd.yaml" 2>"$run/wrapd.log" </dev/null &
wpid=$!
pids+=("$wpid")
fail() {
	echo "demo --check: FAIL: $*" >&2
	echo "--- wrapd's log:" >&2
	cat "$run/wrapd.log" >&2
	exit 1
}
wait_port "$port" "$wpid" || fail "wrapd does not listen on $port"
page=$(curl -sS --max-time 20 --interface 127.0.0.2 "$url") ||
	fail "allowed request (from 127.0.0.2) failed"
grep -q 'wrapd-demo-marker' <<<"$page" || fail "allowed request got no demo page"
say "allowed: curl --interface 127.0.0.2 $url -> the demo page"
if denied=$(curl -sS --max-time 20 --interface 127.0.0.3 "$url" 2>&1); then
	fail "denied request (from 127.0.0.3) succeeded: $denied"
fi
grep -q 'wrapd-demo-marker' <<<"$denied" && fail "denied request got the page"
say "denied:  curl --interface 127.0.0.3 $url -> ${denied:-nothing}"
# The log lines: one allowed, one denied, with the rule that decided.
for i in $(seq 100); do
	grep -Eq 'verdict[":= ]+deny' "$run/wrapd.log" &&
		grep -Eq 'verdict[":= ]+grant' "$run/wrapd.log" && break
	sleep 0.1
done
grep -E 'verdict[":= ]+grant' "$run/wrapd.log" | grep -q '127\.0\.0\.2' ||
	fail "no log line allowing 127.0.0.2"
grep -E 'verdict[":= ]+grant' "$run/wrapd.log" | grep -q 'hosts\.allow:4' ||
	fail "the allow line does not name hosts.allow:4"
grep -E 'verdict[":= ]+deny' "$run/wrapd.log" | grep -q '127\.0\.0\.3' ||
	fail "no log line denying 127.0.0.3"
grep -E 'verdict[":= ]+deny' "$run/wrapd.log" | grep -q 'hosts\.deny:3' ||
	fail "the deny line does not name hosts.deny:3"
say "wrapd's log:"
grep -E 'verdict' "$run/wrapd.log" >&2
grep -q 'GET / ' "$run/http.log" || fail "the web server saw no request"
[ "$(grep -c 'GET / ' "$run/http.log")" = 1 ] ||
	fail "the web server saw $(grep -c 'GET / ' "$run/http.log") requests, want 1"
say "check passed"
exit 0
