/*
 * transparent.h - connect to the backend from the client's own address
 * (services[].transparent, --transparent), so an unmodified daemon sees
 * the real client (transparent.c).
 *
 * It takes IP_TRANSPARENT / IPV6_TRANSPARENT, which need CAP_NET_ADMIN or
 * CAP_NET_RAW (privdrop keeps CAP_NET_ADMIN for it), and policy routing
 * that delivers the backend's replies to the client's address locally;
 * wrapd(8), "Transparent mode", has the recipe.
 */
#ifndef WRAPD_TRANSPARENT_H
#define WRAPD_TRANSPARENT_H

#include <stdbool.h>
#include <sys/socket.h>

struct conn_addr;
struct wrapd_conf;

/*
 * Can this process make transparent sockets?  0, or an errno (EPERM: no
 * capability).  Tries IPv4, and IPv6 when the kernel has it.
 */
int transparent_probe(void);
/* Does any service of the configuration ask for transparent mode? */
bool transparent_wanted(const struct wrapd_conf *conf);
/*
 * The address to connect to for a client of family `family`: a backend on
 * loopback is reached on the loopback of the client's family (127.0.0.1
 * or ::1, same port), as the client's address must be of the socket's
 * family; any other backend as it is.  Returns the length.
 */
socklen_t transparent_target(const struct sockaddr_storage *backend,
    socklen_t blen, int family, struct sockaddr_storage *out);
/*
 * Make fd (a fresh TCP socket of the client's family) transparent and
 * bind it to the client's address and port (or, when that port is taken
 * or reserved to wrapd's account, an ephemeral one).  0, or an errno.
 */
int transparent_bind(int fd, const struct conn_addr *client);

#endif /* WRAPD_TRANSPARENT_H */
