#!/bin/sh
# measure_tput.sh - bulk throughput through wrapd vs direct, interleaved.
#
#   tests/proxy/measure_tput.sh WRAPD [BYTES] [ROUNDS]
#
# Builds tests/proxy/measure_tput.c into a temporary directory, starts
# wrapd in quick mode in front of the tool's listener, and alternates
# direct and proxied runs in each direction, ROUNDS times (default 5), each
# moving BYTES (default 2 GB).  Prints every run and the median ratio
# proxied/direct per direction.  A measurement, not a test: on a busy
# machine the numbers are noise.
set -eu
WRAPD=$1
BYTES=${2:-2000000000}
ROUNDS=${3:-5}
here=$(cd "$(dirname "$0")" && pwd)
d=$(mktemp -d /tmp/wrapd-tput.XXXXXX)
trap 'kill "$wpid" 2>/dev/null; wait "$wpid" 2>/dev/null; rm -rf "$d"' EXIT
cc -O2 -o "$d/tput" "$here/measure_tput.c" -lpthread
echo "ALL: ALL" >"$d/allow"
: >"$d/deny"
port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
P=$(port)
B=$(port)
"$WRAPD" --listen "127.0.0.1:$P" --backend "127.0.0.1:$B" \
	--allow "$d/allow" --deny "$d/deny" --no-syslog --no-stderr &
wpid=$!
sleep 0.5
for i in $(seq "$ROUNDS"); do
	for dir in up down; do
		direct=$("$d/tput" "$dir" "$B" "$B" "$BYTES" | awk '{print $(NF-1)}')
		proxied=$("$d/tput" "$dir" "$B" "$P" "$BYTES" | awk '{print $(NF-1)}')
		echo "$dir direct $direct GB/s  wrapd $proxied GB/s" \
			"ratio $(echo "$proxied $direct" | awk '{printf "%.2f", $1/$2}')"
	done
done | tee "$d/runs"
for dir in up down; do
	grep "^$dir " "$d/runs" | awk '{print $NF}' | sort -n |
		awk -v dir="$dir" '{v[NR]=$1} END {print dir ": median ratio " v[int((NR+1)/2)]}'
done
