# peers.sh - start and stop each proxy the benchmark compares, on loopback,
# with a private configuration in a temporary directory.  Sourced by
# bench/run.sh, which sets BENCH_TMP (scratch directory), WRAPD (the wrapd
# binary) and WRAPD_EXTRA (extra wrapd arguments, may be empty).
#
# Every peer is started as the leader of its own session (setsid) so that
# peer_stop can end it and everything it forked (socat and inetd children,
# nginx workers) by that one process-group id, and nothing else.  No system
# configuration file is read or written: inetd+tcpd runs in a private mount
# namespace where hosts.allow, hosts.deny, hosts and resolv.conf are bind
# mounts of files in BENCH_TMP.
#
# shellcheck shell=bash

PEERS_ALL="direct wrapd socat haproxy haproxy-splice nginx socket-proxyd rinetd inetd-tcpd"

PROXYD=/lib/systemd/systemd-socket-proxyd
[ -x "$PROXYD" ] || PROXYD=/usr/lib/systemd/systemd-socket-proxyd

PEER_PID=""
PEER_PORT=""
PEER_WHY=""
PEER_DIR=""

# peer_log_hint: the first error-looking line the current peer logged
peer_log_hint() {
	[ -n "$PEER_DIR" ] || return 0
	cat "$PEER_DIR/log" "$PEER_DIR/error.log" 2>/dev/null |
	    grep -m1 -iE 'too many|error|fail|refus|cannot|alert|limit' |
	    cut -c1-200
	return 0
}

# peer_available NAME: 0 if the peer's programs are installed, else sets
# PEER_WHY.
peer_available() {
	PEER_WHY=""
	case $1 in
	direct) return 0 ;;
	wrapd | wrapd-*)
		[ -x "$WRAPD" ] || { PEER_WHY="wrapd not built"; return 1; } ;;
	socat) command -v socat >/dev/null || PEER_WHY="socat missing" ;;
	haproxy*) command -v haproxy >/dev/null || PEER_WHY="haproxy missing" ;;
	nginx)
		command -v nginx >/dev/null || PEER_WHY="nginx missing"
		[ -e /usr/lib/nginx/modules/ngx_stream_module.so ] ||
			PEER_WHY="libnginx-mod-stream missing" ;;
	socket-proxyd)
		[ -x "$PROXYD" ] && command -v systemd-socket-activate >/dev/null ||
			PEER_WHY="systemd-socket-proxyd/-activate missing" ;;
	rinetd) command -v rinetd >/dev/null || PEER_WHY="rinetd missing" ;;
	inetd-tcpd)
		[ -x /usr/sbin/inetd ] && [ -x /usr/sbin/tcpd ] &&
			command -v socat >/dev/null ||
			PEER_WHY="openbsd-inetd, tcpd or socat missing"
		[ -e /etc/hosts.allow ] && [ -e /etc/hosts.deny ] ||
			PEER_WHY="no /etc/hosts.allow or hosts.deny to bind-mount over" ;;
	*) PEER_WHY="unknown peer" ;;
	esac
	[ -z "$PEER_WHY" ]
}

peer_version() {
	case $1 in
	direct) echo "-" ;;
	wrapd*)
		# taken once, at build time: the tree may move on during the run
		[ -n "${WRAPD_REV-}" ] ||
			WRAPD_REV=$(git -C "$BENCH_ROOT" describe --always --dirty 2>/dev/null || echo '?')
		echo "wrapd $WRAPD_REV (Release build)" ;;
	socat) socat -V 2>/dev/null | sed -n 's/^socat version \([^ ]*\).*/socat \1/p' | head -1 ;;
	haproxy*) haproxy -v 2>/dev/null | head -1 | cut -d' ' -f1-3 ;;
	nginx) nginx -v 2>&1 | sed 's/^nginx version: //' ;;
	socket-proxyd) echo "systemd-socket-proxyd $("$PROXYD" --version 2>/dev/null | head -1 | cut -d' ' -f2-3)" ;;
	rinetd) rinetd -v 2>&1 | head -1 ;;
	inetd-tcpd) echo "openbsd-inetd $(dpkg-query -W -f='${Version}' openbsd-inetd 2>/dev/null), tcpd $(dpkg-query -W -f='${Version}' tcpd 2>/dev/null), socat per connection" ;;
	esac
}

# peer_wait_listen PORT PID: wait (≤ 5 s) until something listens on PORT.
peer_wait_listen() {
	local i
	for i in $(seq 1 100); do
		if [ -n "$2" ] && ! kill -0 "$2" 2>/dev/null; then
			return 1
		fi
		[ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ] && return 0
		sleep 0.05
	done
	return 1
}

# peer_start NAME LPORT BPORT [PIN]: start NAME listening on 127.0.0.1:LPORT,
# forwarding to 127.0.0.1:BPORT.  PIN non-empty = pin it to CPU 0.  Sets
# PEER_PID (empty for direct) and PEER_PORT (where clients connect).
peer_start() {
	local name=$1 lport=$2 bport=$3 pin=${4-}
	local d="$BENCH_TMP/peer-$name-$lport" pre=()
	mkdir -p "$d"
	PEER_DIR=$d
	[ -n "$pin" ] && pre=(taskset -c 0)
	PEER_PID=""
	PEER_PORT=$lport
	case $name in
	direct)
		PEER_PORT=$bport
		return 0 ;;
	wrapd | wrapd-*)
		printf 'ALL: 127.0.0.0/255.0.0.0\n' >"$d/hosts.allow"
		printf 'ALL: ALL\n' >"$d/hosts.deny"
		# shellcheck disable=SC2086
		setsid "${pre[@]}" "$WRAPD" --listen "127.0.0.1:$lport" \
		    --backend "127.0.0.1:$bport" --allow "$d/hosts.allow" \
		    --deny "$d/hosts.deny" "${WRAPD_OPTS[@]}" ${WRAPD_EXTRA-} \
		    >"$d/log" 2>&1 </dev/null &
		;;
	socat)
		setsid "${pre[@]}" socat \
		    "TCP-LISTEN:$lport,bind=127.0.0.1,reuseaddr,fork,backlog=4096" \
		    "TCP:127.0.0.1:$bport" >"$d/log" 2>&1 </dev/null &
		;;
	haproxy | haproxy-splice)
		{
			printf 'global\n\tmaxconn 7500\n'
			printf 'defaults\n\tmode tcp\n\ttimeout connect 5s\n'
			printf '\ttimeout client 300s\n\ttimeout server 300s\n'
			[ "$name" = haproxy-splice ] &&
				printf '\toption splice-request\n\toption splice-response\n'
			printf 'listen bench\n\tbind 127.0.0.1:%s backlog 4096\n' "$lport"
			printf '\tserver s1 127.0.0.1:%s\n' "$bport"
		} >"$d/haproxy.cfg"
		setsid "${pre[@]}" haproxy -db -f "$d/haproxy.cfg" \
		    >"$d/log" 2>&1 </dev/null &
		;;
	nginx)
		cat >"$d/nginx.conf" <<-EOF
		load_module /usr/lib/nginx/modules/ngx_stream_module.so;
		daemon off;
		worker_processes auto;
		worker_rlimit_nofile 20000;
		pid $d/nginx.pid;
		error_log $d/error.log error;
		events { worker_connections 9000; }
		stream {
			server {
				listen 127.0.0.1:$lport backlog=4096;
				proxy_pass 127.0.0.1:$bport;
			}
		}
		EOF
		setsid "${pre[@]}" nginx -p "$d" -e "$d/error.log" \
		    -c "$d/nginx.conf" >"$d/log" 2>&1 </dev/null &
		;;
	socket-proxyd)
		# Accept=no activation: systemd-socket-activate binds the port and
		# execs the proxy in the same process on the first connection.
		setsid "${pre[@]}" systemd-socket-activate -l "127.0.0.1:$lport" \
		    "$PROXYD" --connections-max=20000 "127.0.0.1:$bport" \
		    >"$d/log" 2>&1 </dev/null &
		;;
	rinetd)
		printf '127.0.0.1 %s 127.0.0.1 %s\n' "$lport" "$bport" >"$d/rinetd.conf"
		setsid "${pre[@]}" rinetd -f -c "$d/rinetd.conf" \
		    >"$d/log" 2>&1 </dev/null &
		;;
	inetd-tcpd)
		# tcpd checks the daemon name "socat" against a private hosts.allow
		# and looks client names up (for its log line) in a private
		# /etc/hosts, so no query leaves the machine.
		printf 'socat: 127.0.0.0/255.0.0.0\n' >"$d/hosts.allow"
		printf 'ALL: ALL\n' >"$d/hosts.deny"
		{
			printf '127.0.0.1 localhost\n'
			for i in $(seq 2 254); do printf '127.0.0.%s c%s.bench.test\n' "$i" "$i"; done
		} >"$d/hosts"
		printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' >"$d/resolv.conf"
		printf '127.0.0.1:%s stream tcp nowait.1000000 root /usr/sbin/tcpd /usr/bin/socat STDIO TCP:127.0.0.1:%s\n' \
		    "$lport" "$bport" >"$d/inetd.conf"
		setsid "${pre[@]}" unshare -m --propagation private sh -c '
			d=$1
			mount --bind "$d/hosts.allow" /etc/hosts.allow &&
			mount --bind "$d/hosts.deny" /etc/hosts.deny &&
			mount --bind "$d/hosts" /etc/hosts &&
			mount --bind "$d/resolv.conf" /etc/resolv.conf || exit 1
			exec /usr/sbin/inetd -i -q 4096 "$d/inetd.conf"' sh "$d" \
		    >"$d/log" 2>&1 </dev/null &
		;;
	*)
		echo "peer_start: unknown peer $name" >&2
		return 1 ;;
	esac
	PEER_PID=$!
	if ! peer_wait_listen "$lport" "$PEER_PID"; then
		echo "peer_start: $name did not listen on $lport:" >&2
		tail -5 "$d/log" "$d/error.log" 2>/dev/null >&2
		peer_stop
		return 1
	fi
	return 0
}

# peer_stop: end the current peer's process group, politely then firmly.
peer_stop() {
	local pid=$PEER_PID i
	PEER_PID=""
	[ -n "$pid" ] || return 0
	kill -TERM -- "-$pid" 2>/dev/null
	for i in $(seq 1 40); do
		kill -0 -- "-$pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -KILL -- "-$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

# peer_tree PID: PID and all its descendants, one per line.
peer_tree() {
	ps -e -o pid=,ppid= | awk -v root="$1" '
		{ kids[$2] = kids[$2] " " $1 }
		END {
			q[0] = root; n = 1
			for (i = 0; i < n; i++) {
				print q[i]
				m = split(kids[q[i]], a, " ")
				for (j = 1; j <= m; j++) q[n++] = a[j]
			}
		}'
}

# peer_mem PID: "PSS_KIB PRIVATE_DIRTY_KIB RSS_KIB NPROC" summed over the tree.
peer_mem() {
	local pids
	pids=$(peer_tree "$1")
	# shellcheck disable=SC2086
	printf '/proc/%s/smaps_rollup\n' $pids | xargs cat 2>/dev/null |
	    awk -v n="$(echo "$pids" | wc -w)" '
		/^Pss:/ { p += $2 } /^Private_Dirty:/ { d += $2 } /^Rss:/ { r += $2 }
		END { printf "%d %d %d %d\n", p, d, r, n }'
}
