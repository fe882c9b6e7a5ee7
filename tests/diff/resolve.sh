#!/bin/sh
# resolve.sh DIFF_RESOLVE HELPER - compare wrapd's double-reverse look-up
# with libwrap's on a crafted /etc/hosts.  Runs in a private mount namespace
# with our own /etc/hosts and /etc/nsswitch.conf (hosts: files), so no DNS
# query leaves the machine and the real files are untouched.  Exit 77 (skip)
# without root or unshare(1).
set -eu
prog=$1
helper=$2
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }
command -v unshare >/dev/null || { echo "SKIP: no unshare(1)"; exit 77; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT INT TERM

# Each address exercises one branch of semantics E2.
cat >"$dir/hosts" <<'HOSTS'
127.0.0.1	localhost
::1	localhost ip6-localhost
127.0.0.5	good.test
127.0.0.9	canon.test alias9.test
127.0.0.10	alias9.test
127.0.0.11	127.0.0.12
127.0.0.16	other.test localhost
127.0.0.15	localhost
127.0.0.18	case.test
127.0.0.19	CASE.TEST
127.0.0.20	Mixed.Test
fd00::5	good6.test
fd00::6	only4.test
127.0.0.21	only4.test
HOSTS
printf 'hosts: files\n' >"$dir/nsswitch.conf"

export DIFF_ORACLE="$helper"
unshare -m -- sh -c '
	mount --bind "$1/hosts" /etc/hosts &&
	mount --bind "$1/nsswitch.conf" /etc/nsswitch.conf &&
	shift && exec "$@"' sh "$dir" "$prog" \
	127.0.0.1 ::1 127.0.0.5 ::ffff:127.0.0.5 127.0.0.9 127.0.0.10 \
	127.0.0.11 127.0.0.13 127.0.0.15 127.0.0.19 127.0.0.20 fd00::5 \
	fd00::6 fd00::7 127.0.0.21
