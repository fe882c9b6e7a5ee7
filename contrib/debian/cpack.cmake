# cpack.cmake - the Debian package: cpack -G DEB in a build directory
# configured with -DCMAKE_INSTALL_PREFIX=/usr (the units name
# /usr/sbin/wrapd).  Included by the top CMakeLists.txt.
#
# Dependencies come from dpkg-shlibdeps (the libraries the binary really
# links: libuv1, libyaml-0-2, libc6 today; libmaxminddb0 or libwrap0
# only once something links them), plus adduser for the postinst.
set(CPACK_PACKAGE_NAME wrapd)
set(CPACK_PACKAGE_VENDOR "wrapd")
set(CPACK_PACKAGE_CONTACT "wrapd maintainers <root@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "access-control proxy that decides like TCP Wrappers")
set(CPACK_PACKAGE_DESCRIPTION
  "wrapd reads /etc/hosts.allow and /etc/hosts.deny with libwrap's
semantics, decides each TCP connection without blocking on DNS or ident,
runs the hosts_options(5) actions, and hands accepted connections to the
real daemon on loopback or runs it per connection as inetd does.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${PROJECT_SOURCE_DIR}/contrib/debian/postinst)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_GENERATOR DEB)
include(CPack)
