#!/bin/sh
# run_lookup_names.sh TEST-BINARY FAKE-DNS [RESOLVER-TIMEOUT] - run a name
# look-up test in a private network namespace with its own /etc/hosts,
# /etc/resolv.conf and /etc/nsswitch.conf (ip netns exec bind-mounts
# /etc/netns/<ns>/*) and a fake DNS server on the namespace's 127.0.0.1:53.
# Nothing leaves the namespace.  Exit 77 (skip) without root, ip or python3.
#
# RESOLVER-TIMEOUT (seconds, default 1) is how long glibc waits for a query
# the server holds.  The test gets, in its environment,
# WRAPD_TEST_DNS_RELEASE: the file whose existence makes the server answer
# the dead zones it holds (see fake_dns.py), and WRAPD_TEST_DNS_LOG: the
# server's log of held and released queries.
set -eu
bin=$1
dns=$2
resolver_timeout=${3:-1}
[ "$(id -u)" -eq 0 ] || { echo "skip: needs root"; exit 77; }
command -v ip >/dev/null && command -v python3 >/dev/null ||
	{ echo "skip: needs ip and python3"; exit 77; }

ns=wrapd-lk-nm-$$
etc=/etc/netns/$ns
tmp=$(mktemp -d /tmp/wrapd-lk-nm.XXXXXX)
pid=""
made_netns_dir=0
[ -d /etc/netns ] || made_netns_dir=1
cleanup() {
	st=$?
	set +e
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
	ip netns del "$ns" 2>/dev/null
	rm -rf "$etc" "$tmp"
	[ "$made_netns_dir" = 1 ] && rmdir /etc/netns 2>/dev/null
	exit $st
}
trap cleanup EXIT
trap 'exit 1' INT TERM

mkdir -p "$etc"
cat >"$etc/hosts" <<'HOSTS'
127.0.0.1	localhost
::1	localhost ip6-localhost
127.0.0.2	good.test goodalias
127.0.0.6	canon.test alias.test
127.0.0.5	alias.test
127.0.0.4	10.1.2.3
127.0.0.7	MiXeD.Test
127.0.0.11	we$ird;`name`|.test
fd00::2	six.test
HOSTS
# One try: a stuck query holds a resolver thread for the timeout.
printf 'nameserver 127.0.0.1\noptions timeout:%s attempts:1\n' \
	"$resolver_timeout" >"$etc/resolv.conf"
printf 'hosts: files dns\n' >"$etc/nsswitch.conf"

ip netns add "$ns"
ip netns exec "$ns" ip link set lo up
ip netns exec "$ns" ip addr add fd00::2/128 dev lo nodad
ip netns exec "$ns" python3 "$dns" 127.0.0.1 53 300 --release "$tmp/release" \
	--log "$tmp/queries.log" >"$tmp/dns.log" 2>&1 &
pid=$!
i=0
until ip netns exec "$ns" ss -Hlun 'sport = :53' | grep -q .; do
	i=$((i + 1))
	if [ $i -gt 100 ] || ! kill -0 "$pid" 2>/dev/null; then
		echo "fake DNS did not start:"; cat "$tmp/dns.log"; exit 1
	fi
	sleep 0.1
done
rc=0
WRAPD_TEST_DNS_RELEASE=$tmp/release WRAPD_TEST_DNS_LOG=$tmp/queries.log \
	ip netns exec "$ns" "$bin" || rc=$?
[ $rc -eq 0 ] || { echo "--- fake DNS log"; cat "$tmp/dns.log"; }
exit $rc
