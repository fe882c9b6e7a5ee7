#!/bin/sh
# run_ident_oidentd.sh TEST-BINARY - run the ident client test against a
# real oidentd, both inside a private network namespace so that oidentd can
# own port 113 there without touching the host.  Exit 77 (skip) without
# root, ip or oidentd.
set -eu
bin=$1
[ "$(id -u)" -eq 0 ] || { echo "skip: needs root"; exit 77; }
command -v ip >/dev/null && command -v oidentd >/dev/null ||
	{ echo "skip: needs ip and oidentd"; exit 77; }

ns=wrapd-lk-id-$$
tmp=$(mktemp -d /tmp/wrapd-lk-id.XXXXXX)
pid=""
cleanup() {
	st=$?
	set +e
	# Our own oidentd only, by the PID we started.
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
	ip netns del "$ns" 2>/dev/null
	rm -rf "$tmp"
	exit $st
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ip netns add "$ns"
ip netns exec "$ns" ip link set lo up
# The Debian default policy: no spoofing, no hiding.
printf 'default {\n\tdefault {\n\t\tdeny spoof\n\t\tdeny hide\n\t}\n}\n' \
	>"$tmp/oidentd.conf"
ip netns exec "$ns" oidentd -i -S -C "$tmp/oidentd.conf" \
	-a 127.0.0.1 -a ::1 -p 113 -u oident -g oident \
	>"$tmp/oidentd.log" 2>&1 &
pid=$!
# Wait (bounded) until it listens on both addresses.
i=0
until [ "$(ip netns exec "$ns" ss -Hltn 'sport = :113' | wc -l)" -ge 2 ]; do
	i=$((i + 1))
	if [ $i -gt 100 ] || ! kill -0 "$pid" 2>/dev/null; then
		echo "oidentd did not start:"; cat "$tmp/oidentd.log"; exit 1
	fi
	sleep 0.1
done
rc=0
ip netns exec "$ns" "$bin" || rc=$?
if [ $rc -ne 0 ]; then
	echo "--- oidentd log"; cat "$tmp/oidentd.log"
fi
exit $rc
