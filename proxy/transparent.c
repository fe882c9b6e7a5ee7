/*
 * transparent.c - connect from the client's address (transparent.h).
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conf.h"
#include "conn.h"
#include "transparent.h"

#ifndef IP_TRANSPARENT
#define IP_TRANSPARENT 19
#endif
#ifndef IPV6_TRANSPARENT
#define IPV6_TRANSPARENT 75
#endif

static int
transparent_set(int fd, int family)
{
	int one = 1;

	if (family == AF_INET6)
		return setsockopt(
		    fd, IPPROTO_IPV6, IPV6_TRANSPARENT, &one, sizeof(one));
	return setsockopt(fd, IPPROTO_IP, IP_TRANSPARENT, &one, sizeof(one));
}

static int
transparent_probe_family(int family)
{
	int fd, err = 0;

	if ((fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return family == AF_INET6 ? 0 : errno; /* no IPv6: fine */
	if (transparent_set(fd, family) < 0)
		err = errno;
	close(fd);
	return err;
}

int
transparent_probe(void)
{
	int err = transparent_probe_family(AF_INET);

	return err != 0 ? err : transparent_probe_family(AF_INET6);
}

bool
transparent_wanted(const struct wrapd_conf *conf)
{
	size_t i;

	for (i = 0; i < conf->nservices; i++)
		if (conf->services[i].transparent)
			return true;
	return false;
}

socklen_t
transparent_target(const struct sockaddr_storage *backend, socklen_t blen,
    int family, struct sockaddr_storage *out)
{
	const struct sockaddr_in *b4 = (const struct sockaddr_in *)backend;
	const struct sockaddr_in6 *b6 = (const struct sockaddr_in6 *)backend;
	struct sockaddr_in *o4 = (struct sockaddr_in *)out;
	struct sockaddr_in6 *o6 = (struct sockaddr_in6 *)out;
	bool loop4 = backend->ss_family == AF_INET &&
	    (ntohl(b4->sin_addr.s_addr) >> 24) == 127;
	bool loop6 = backend->ss_family == AF_INET6 &&
	    IN6_IS_ADDR_LOOPBACK(&b6->sin6_addr);

	memcpy(out, backend, blen);
	if (family == AF_INET6 && loop4) {
		memset(out, 0, sizeof(*out));
		o6->sin6_family = AF_INET6;
		o6->sin6_addr = in6addr_loopback;
		o6->sin6_port = b4->sin_port;
		return sizeof(*o6);
	}
	if (family == AF_INET && loop6) {
		memset(out, 0, sizeof(*out));
		o4->sin_family = AF_INET;
		o4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		o4->sin_port = b6->sin6_port;
		return sizeof(*o4);
	}
	return blen;
}

int
transparent_bind(int fd, const struct conn_addr *client)
{
	struct sockaddr_storage ss;
	socklen_t len;

	len =
	    acl_addr_to_sockaddr(&client->a, client->port, client->scope, &ss);
	if (len == 0)
		return EAFNOSUPPORT;
	if (transparent_set(fd, ss.ss_family) < 0)
		return errno;
	if (bind(fd, (struct sockaddr *)&ss, len) == 0)
		return 0;
	/*
	 * The client's own port is what the daemon should see (ident, a
	 * reserved port for lpd), but it may be in use towards this backend
	 * (the client's connections to two of wrapd's ports) or, below
	 * 1024, need a capability wrapd dropped: then any port.  An
	 * ephemeral port never claims more than the client had.
	 */
	if (errno != EADDRINUSE && errno != EACCES)
		return errno;
	acl_sockaddr_set_port(&ss, 0);
	if (bind(fd, (struct sockaddr *)&ss, len) < 0)
		return errno;
	return 0;
}
