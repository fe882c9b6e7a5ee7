#!/usr/bin/env bash
# Install and package, from this build directory:
#  a) cmake --install with DESTDIR: the binary in sbin, the man pages in
#     share/man, the example configuration and the units in
#     share/doc/wrapd, the units in lib/systemd/system;
#  b) cpack -G DEB: Depends from dpkg-shlibdeps matches the libraries the
#     binary links (libwrap0 or libmaxminddb0 only if linked), plus adduser;
#  c) dpkg --root into a clean root (maintainer scripts chroot-less, as
#     DPKG_ROOT): the postinst creates the "wrapd" system user, once, also
#     when run again; the unit is not enabled; the installed wrapd runs
#     (--version, check) with the host's libraries.
. "$(dirname "$0")/../e2e/lib.sh"
e2e_require_root
e2e_require_cmd cpack dpkg dpkg-deb dpkg-shlibdeps useradd
BUILD=${WRAPD_OPS_BUILD_DIR:?the ctest sets WRAPD_OPS_BUILD_DIR}

# --- a) cmake --install
DESTDIR="$W/inst" cmake --install "$BUILD" --prefix /usr >"$W/install.log" 2>&1 ||
	e2e_fail "cmake --install: $(cat "$W/install.log")"
for f in usr/sbin/wrapd usr/share/man/man8/wrapd.8 usr/share/man/man5/wrapd.yaml.5 \
	usr/share/man/man5/wrapd-rules.5 usr/share/doc/wrapd/wrapd.yaml.example \
	usr/share/doc/wrapd/wrapd.service usr/share/doc/wrapd/wrapd.socket \
	usr/share/doc/wrapd/wrapd@.socket usr/lib/systemd/system/wrapd.service \
	usr/lib/systemd/system/wrapd.socket usr/lib/systemd/system/wrapd@.socket; do
	[ -f "$W/inst/$f" ] || e2e_fail "cmake --install did not install /$f"
done
for f in "$SRCDIR"/man/*.[58]; do
	sec=${f##*.}
	[ -f "$W/inst/usr/share/man/man$sec/$(basename "$f")" ] ||
		e2e_fail "man page $(basename "$f") is not installed"
done
e2e_log "ok: cmake --install layout"

# --- b) the .deb
(cd "$BUILD" && cpack -G DEB -B "$W/pkg") >"$W/cpack.log" 2>&1 || e2e_fail "cpack: $(cat "$W/cpack.log")"
DEB=$(ls "$W"/pkg/wrapd_*.deb 2>/dev/null | head -1)
[ -f "$DEB" ] || e2e_fail "no .deb in $W/pkg"
DEPENDS=$(dpkg-deb -f "$DEB" Depends)
e2e_log "Depends: $DEPENDS"
LINKED=$(ldd "$BUILD/proxy/wrapd")
check_dep() { # LIBRARY-SONAME PACKAGE
	if grep -q "$1" <<<"$LINKED"; then
		grep -q "\b$2\b" <<<"$DEPENDS" || e2e_fail "links $1 but Depends lacks $2"
	else
		grep -q "\b$2\b" <<<"$DEPENDS" && e2e_fail "Depends has $2 but wrapd does not link $1"
	fi
	return 0
}
check_dep libc.so.6 libc6
check_dep libuv.so.1 libuv1
check_dep libyaml-0.so.2 libyaml-0-2
check_dep libmaxminddb.so.0 libmaxminddb0
check_dep libwrap.so.0 libwrap0
grep -q '\badduser\b' <<<"$DEPENDS" || e2e_fail "Depends lacks adduser (the postinst)"
dpkg-deb -c "$DEB" | grep -q '\./usr/lib/systemd/system/wrapd.service$' || e2e_fail "no unit in the .deb"
e2e_log "ok: the .deb's Depends match what wrapd links"

# --- c) into a clean root
R="$W/root"
mkdir -p "$R/var/lib/dpkg/info" "$R/var/lib/dpkg/updates" "$R/etc" "$R/usr/sbin"
: >"$R/var/lib/dpkg/status"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$R/etc/passwd"
printf 'root:x:0:\n' >"$R/etc/group"
printf 'root:*:19000:0:99999:7:::\n' >"$R/etc/shadow"
printf 'root:*::\n' >"$R/etc/gshadow"
chmod 640 "$R/etc/shadow" "$R/etc/gshadow"
dpkg_root() {
	dpkg --root="$R" --log="$W/dpkg.log" --force-depends \
		--force-script-chrootless --force-not-root "$@"
}
dpkg_root -i "$DEB" >"$W/dpkg.out" 2>&1 || e2e_fail "dpkg --root -i: $(cat "$W/dpkg.out")"
grep -q '^wrapd:x:[0-9]*:[0-9]*:.*:/nonexistent:' "$R/etc/passwd" ||
	e2e_fail "no wrapd system user in the root: $(cat "$R/etc/passwd")"
uid=$(awk -F: '$1 == "wrapd" {print $3}' "$R/etc/passwd")
[ "$uid" -lt 1000 ] || e2e_fail "wrapd's uid $uid is not a system uid"
grep -q '^wrapd:' "$R/etc/group" || e2e_fail "no wrapd group"
# again (a reinstall runs the postinst again): still one account
dpkg_root -i "$DEB" >"$W/dpkg2.out" 2>&1 || e2e_fail "dpkg --root -i again: $(cat "$W/dpkg2.out")"
[ "$(grep -c '^wrapd:' "$R/etc/passwd")" = 1 ] || e2e_fail "the postinst is not idempotent"
e2e_log "ok: dpkg --root: wrapd system user (uid $uid), once"
[ -f "$R/usr/lib/systemd/system/wrapd.service" ] || e2e_fail "unit not installed"
if find "$R/etc/systemd" -name 'wrapd*' 2>/dev/null | grep -q .; then
	e2e_fail "the unit was enabled: $(find "$R/etc/systemd" -name 'wrapd*')"
fi
e2e_log "ok: unit installed, not enabled"
out=$("$R/usr/sbin/wrapd" --version) || e2e_fail "installed wrapd --version failed"
grep -q '^wrapd [0-9]' <<<"$out" || e2e_fail "--version: $out"
e2e_write "$W/hosts.allow" <<<"in.fingerd: 127.0.0.1"
e2e_write "$W/hosts.deny" <<<"ALL: ALL"
"$R/usr/sbin/wrapd" check --allow "$W/hosts.allow" --deny "$W/hosts.deny" >"$W/check.out" 2>&1 ||
	e2e_fail "installed wrapd check: $(cat "$W/check.out")"
e2e_log "ok: the installed wrapd runs: $out; wrapd check exits 0"
man -l "$R/usr/share/man/man8/wrapd.8" >/dev/null 2>&1 || e2e_log "note: man -l could not format wrapd.8"
dpkg_root -r wrapd >"$W/dpkg-r.out" 2>&1 || e2e_fail "dpkg --root -r: $(cat "$W/dpkg-r.out")"
[ -e "$R/usr/sbin/wrapd" ] && e2e_fail "dpkg -r left /usr/sbin/wrapd"
e2e_log "ok: dpkg --root -r removes it"
