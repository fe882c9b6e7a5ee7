/*
 * cli_resolve.h - blocking host name verification for the command-line
 * tools (`wrapd match`, `wrapd check --dns`).  The daemon does the same
 * look-ups asynchronously (lookup.h); both decide with acl_verify_name(), so
 * the answer is the one the running proxy would get.
 */
#ifndef WRAPD_CLI_RESOLVE_H
#define WRAPD_CLI_RESOLVE_H

#include <stddef.h>
#include <sys/socket.h>

/*
 * Double-reverse look-up of addr: reverse (NI_NAMEREQD), then forward
 * (AI_CANONNAME) in the same family; an IPv4-mapped address is looked up as
 * IPv4.  Writes the verified name, ACL_UNKNOWN or ACL_PARANOID into buf
 * (truncated to ACL_STRING_MAX - 1 bytes, as libwrap stores it) and returns
 * buf.
 */
const char *cli_resolve_name(
    const struct sockaddr *addr, char *buf, size_t bufsz);

/*
 * Forward look-up of a host name (both families), for tcpdchk-style
 * warnings.  Returns the largest number of distinct addresses found in one
 * family (0: does not resolve); *err gets the getaddrinfo() error text when
 * there are none.
 */
size_t cli_resolve_count(const char *name, const char **err);

/*
 * The addresses of a host name (both families, as getaddrinfo() returns
 * them), each once, at most max, into out.  Returns how many; 0 with *err
 * set when there is none.  `wrapd match` decides for each.
 */
struct acl_addr;
size_t cli_resolve_addrs(
    const char *name, struct acl_addr *out, size_t max, const char **err);

#endif /* WRAPD_CLI_RESOLVE_H */
