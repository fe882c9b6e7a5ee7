/*
 * cli_resolve.c - blocking double-reverse look-up for `wrapd match`.
 *
 * The proxy must never block its loop on DNS, but a one-shot command may:
 * this is the simple synchronous version of the proxy's resolver.  The
 * decision which name to believe is acl_verify_name(), shared with the proxy.
 */
#include <netdb.h>
#include <netinet/in.h>
#include <string.h>

#include "acl.h"
#include "cli_resolve.h"

/* Turn ::ffff:a.b.c.d into a plain sockaddr_in (libwrap looks it up as v4). */
static const struct sockaddr *
cli_resolve_unmap(const struct sockaddr *addr, struct sockaddr_in *v4)
{
	const struct sockaddr_in6 *s6;

	if (addr->sa_family != AF_INET6)
		return addr;
	s6 = (const struct sockaddr_in6 *)(const void *)addr;
	if (!IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
		return addr;
	memset(v4, 0, sizeof(*v4));
	v4->sin_family = AF_INET;
	v4->sin_port = s6->sin6_port;
	memcpy(&v4->sin_addr, &s6->sin6_addr.s6_addr[12], 4);
	return (const struct sockaddr *)v4;
}

static void
cli_resolve_copy(char *buf, size_t bufsz, const char *s)
{
	size_t n;

	if (bufsz == 0)
		return;
	n = strlen(s);
	if (n > ACL_STRING_MAX - 1)
		n = ACL_STRING_MAX - 1;
	if (n > bufsz - 1)
		n = bufsz - 1;
	memcpy(buf, s, n);
	buf[n] = '\0';
}

const char *
cli_resolve_name(const struct sockaddr *addr, char *buf, size_t bufsz)
{
	struct sockaddr_in v4;
	const struct sockaddr *sa;
	socklen_t salen;
	char host[NI_MAXHOST];
	struct addrinfo hints, *res = NULL;
	const char *name;

	if (addr == NULL ||
	    (addr->sa_family != AF_INET && addr->sa_family != AF_INET6)) {
		cli_resolve_copy(buf, bufsz, ACL_UNKNOWN);
		return buf;
	}
	sa = cli_resolve_unmap(addr, &v4);
	salen = sa->sa_family == AF_INET ? sizeof(struct sockaddr_in)
	                                 : sizeof(struct sockaddr_in6);
	if (getnameinfo(sa, salen, host, sizeof(host), NULL, 0, NI_NAMEREQD) !=
	    0) {
		name = acl_verify_name(sa, NULL, NULL);
		cli_resolve_copy(buf, bufsz, name);
		return buf;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = sa->sa_family;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_CANONNAME;
	if (getaddrinfo(host, NULL, &hints, &res) != 0)
		res = NULL;
	name = acl_verify_name(sa, host, res);
	cli_resolve_copy(buf, bufsz, name);
	if (res != NULL)
		freeaddrinfo(res);
	return buf;
}

size_t
cli_resolve_count(const char *name, const char **err)
{
	struct addrinfo hints, *res = NULL, *ai, *bj;
	size_t n4 = 0, n6 = 0;
	int rc;

	*err = NULL;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(name, NULL, &hints, &res);
	if (rc != 0) {
		*err = gai_strerror(rc);
		return 0;
	}
	/*
	 * Count distinct addresses per family: one IPv4 plus one IPv6 address
	 * is an ordinary dual-stack host, not an ambiguous name.
	 */
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		for (bj = res; bj != ai; bj = bj->ai_next)
			if (bj->ai_addrlen == ai->ai_addrlen &&
			    memcmp(bj->ai_addr, ai->ai_addr, ai->ai_addrlen) ==
			        0)
				break;
		if (bj != ai)
			continue;
		if (ai->ai_family == AF_INET)
			n4++;
		else
			n6++;
	}
	freeaddrinfo(res);
	return n4 > n6 ? n4 : n6;
}
