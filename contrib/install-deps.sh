#!/bin/sh
# install-deps.sh - install what wrapd needs on Debian 12, from Debian packages.
#
#   contrib/install-deps.sh           build and test dependencies
#   contrib/install-deps.sh --bench   also the peers the benchmark measures
#
# Services that packages would start on install (oidentd, inetd, MTAs, nginx,
# haproxy) are kept stopped: the tests start their own instances on loopback.
set -eu

build_pkgs="build-essential cmake pkg-config clang libclang-rt-14-dev
  libuv1-dev libyaml-dev libmaxminddb-dev libwrap0-dev libcmocka-dev
  mandoc man-db tcpd"
test_pkgs="iproute2 procps psmisc socat curl swaks python3 netcat-openbsd
  systemd oidentd openbsd-inetd fingerd finger exim4-daemon-light bsd-mailx
  vsftpd ftp lprng perl libmaxmind-db-writer-perl lftp libio-socket-inet6-perl"
bench_pkgs="haproxy nginx libnginx-mod-stream rinetd socat systemd openbsd-inetd
  tcpd linux-perf valgrind strace"

pkgs="$build_pkgs $test_pkgs"
[ "${1-}" = "--bench" ] && pkgs="$pkgs $bench_pkgs"

missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo

# postfix conflicts with exim4-daemon-light (the action tests' MTA), so it
# is never installed: the SMTP test (tests/e2e/lib_postfix.sh) unpacks this
# copy of the package and runs it privately.
cache=/var/cache/wrapd-tests
fetch_postfix() {
	$SUDO mkdir -p "$cache" &&
		(cd "$cache" && $SUDO apt-get download -qq -o APT::Sandbox::User=root postfix)
}
if ! ls "$cache"/postfix_*.deb >/dev/null 2>&1 && ! fetch_postfix; then
	$SUDO apt-get update -qq && fetch_postfix
fi
# promtool, which checks the metrics endpoint's output
# (tests/proxy/metrics_test.py), comes in the prometheus package, whose
# install would start a Prometheus server: the test unpacks promtool from
# this copy instead.  Without it that one test is skipped, so a failed
# download does not stop the rest.
fetch_prometheus() {
	$SUDO mkdir -p "$cache" &&
		(cd "$cache" && $SUDO apt-get download -qq -o APT::Sandbox::User=root prometheus)
}
if ! ls "$cache"/prometheus_*.deb >/dev/null 2>&1 && ! fetch_prometheus; then
	{ $SUDO apt-get update -qq && fetch_prometheus; } ||
		echo "install-deps.sh: no prometheus package; the promtool test will be skipped" >&2
fi
[ -z "$missing" ] && exit 0

# No daemon started by a package's install script: policy-rc.d says "not now".
policy=/usr/sbin/policy-rc.d
own_policy=0
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
	$SUDO chmod 755 "$policy"
	own_policy=1
fi
trap '[ "$own_policy" = 1 ] && $SUDO rm -f "$policy"' EXIT

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
