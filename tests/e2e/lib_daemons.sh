# lib_daemons.sh - the topology of the daemon tests (t14..t16), sourced
# after lib.sh: a server host and three client hosts, each a network
# namespace this test creates (and lib.sh removes), joined by veth pairs.
# wrapd and the real daemons run in the server namespace, so the policy
# routing transparent mode needs never touches the machine's own tables.
#
#   server  $NS_S  10.77.1.1/24 fd77::1/64 (link a), 10.77.2.1/24 (link b),
#                  fd77:0:0:3::1/64 (link c); daemons on 127.0.0.1 / ::1
#   allowed $NS_A  10.77.1.2 and 10.77.1.3 (a second host of the allowed
#                  net), fd77::2
#   denied  $NS_B  10.77.2.2 (and a route to 10.77.1.1, to race for ports)
#   v6 only $NS_C  fd77:0:0:3::2
# The namespaces have no default route: nothing can leave them.

dm_topology() {
	e2e_require_root_netns
	e2e_netns; NS_S=$E2E_NS
	e2e_netns; NS_A=$E2E_NS
	e2e_netns; NS_B=$E2E_NS
	e2e_netns; NS_C=$E2E_NS
	ip link add sa netns "$NS_S" type veth peer name a0 netns "$NS_A" &&
		ip link add sb netns "$NS_S" type veth peer name b0 netns "$NS_B" &&
		ip link add sc netns "$NS_S" type veth peer name c0 netns "$NS_C" ||
		e2e_fail "veth pairs"
	dm_addr "$NS_S" sa 10.77.1.1/24 fd77::1/64
	dm_addr "$NS_S" sb 10.77.2.1/24
	dm_addr "$NS_S" sc fd77:0:0:3::1/64
	dm_addr "$NS_A" a0 10.77.1.2/24 10.77.1.3/24 fd77::2/64
	dm_addr "$NS_B" b0 10.77.2.2/24
	dm_addr "$NS_C" c0 fd77:0:0:3::2/64
	ip -n "$NS_B" route add 10.77.1.1/32 via 10.77.2.1 || e2e_fail "route in B"
}

# dm_addr NS IF ADDR... - addresses (IPv6 without duplicate detection, so
# usable at once) and the link up.
dm_addr() {
	local ns=$1 dev=$2 a
	shift 2
	for a in "$@"; do
		case $a in
		*:*) ip -n "$ns" addr add "$a" dev "$dev" nodad ;;
		*) ip -n "$ns" addr add "$a" dev "$dev" ;;
		esac || e2e_fail "address $a in $ns"
	done
	ip -n "$ns" link set "$dev" up || e2e_fail "link $dev up in $ns"
}

# dm_transparent_routes PORTS - the recipe of wrapd(8), "Transparent
# mode", in the server namespace: the backend's replies from loopback
# port(s) PORTS (N or N-M) to a client's address are delivered locally
# (to wrapd's transparent socket) instead of being routed out.
dm_transparent_routes() {
	local ports=$1
	ip -n "$NS_S" rule add from 127.0.0.1 iif lo ipproto tcp sport "$ports" lookup 100 &&
		ip -n "$NS_S" -6 rule add from ::1 iif lo ipproto tcp sport "$ports" lookup 100 ||
		e2e_fail "ip rule for ports $ports"
	if ! ip -n "$NS_S" route show table 100 2>/dev/null | grep -q local; then
		ip -n "$NS_S" route add local 0.0.0.0/0 dev lo table 100 &&
			ip -n "$NS_S" -6 route add local ::/0 dev lo table 100 ||
			e2e_fail "local routes in table 100"
	fi
}

# dm_in NS CMD... - run CMD in a namespace, bounded (30 s).
dm_in() {
	local ns=$1
	shift
	timeout 30 ip netns exec "$ns" "$@"
}
