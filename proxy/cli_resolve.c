/*
 * cli_resolve.c - blocking double-reverse look-up for `wrapd match`, and
 * the forward look-ups of `wrapd check --dns` and of a client `wrapd match`
 * is given by name.
 *
 * The proxy must never block its loop on DNS, but a one-shot command may:
 * this is the simple synchronous version of the proxy's resolver.  The
 * decision which name to believe is acl_verify_name(), the address
 * normalisation acl_sockaddr_unmap() and the name truncation
 * acl_request_copy_string(), all shared with the proxy's resolver (lookup.c), so
 * both give the answer libwrap gives.
 */
#include <netdb.h>
#include <netinet/in.h>
#include <string.h>

#include "acl.h"
#include "cli_resolve.h"

const char *
cli_resolve_name(const struct sockaddr *addr, char *buf, size_t bufsz)
{
	struct sockaddr_storage ss;
	const struct sockaddr *sa = (const struct sockaddr *)&ss;
	socklen_t salen;
	char host[NI_MAXHOST], name[ACL_STRING_MAX];
	struct addrinfo hints, *res = NULL;

	if (bufsz == 0)
		return buf;
	if (acl_sockaddr_unmap(&ss, addr) != 0) {
		acl_request_copy_string(buf, bufsz, ACL_UNKNOWN);
		return buf;
	}
	salen = sa->sa_family == AF_INET ? sizeof(struct sockaddr_in)
	                                 : sizeof(struct sockaddr_in6);
	if (getnameinfo(sa, salen, host, sizeof(host), NULL, 0, NI_NAMEREQD) !=
	    0) {
		acl_request_copy_string(
		    buf, bufsz, acl_verify_name(sa, NULL, NULL));
		return buf;
	}
	/* Cut first, then confirm the cut name, as libwrap and lookup.c do. */
	acl_request_copy_string(name, sizeof(name), host);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = sa->sa_family;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_CANONNAME;
	if (getaddrinfo(name, NULL, &hints, &res) != 0)
		res = NULL;
	acl_request_copy_string(buf, bufsz, acl_verify_name(sa, name, res));
	if (res != NULL)
		freeaddrinfo(res);
	return buf;
}

/* The addresses of name in both families, or NULL with *err set. */
static struct addrinfo *
cli_resolve_forward(const char *name, const char **err)
{
	struct addrinfo hints, *res = NULL;
	int rc;

	*err = NULL;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(name, NULL, &hints, &res);
	if (rc != 0) {
		*err = gai_strerror(rc);
		return NULL;
	}
	return res;
}

size_t
cli_resolve_count(const char *name, const char **err)
{
	struct addrinfo *res, *ai, *bj;
	size_t n4 = 0, n6 = 0;

	if ((res = cli_resolve_forward(name, err)) == NULL)
		return 0;
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

size_t
cli_resolve_addrs(
    const char *name, struct acl_addr *out, size_t max, const char **err)
{
	struct addrinfo *res, *ai;
	struct acl_addr a;
	size_t n = 0, i;

	if ((res = cli_resolve_forward(name, err)) == NULL)
		return 0;
	for (ai = res; ai != NULL && n < max; ai = ai->ai_next) {
		if (acl_addr_from_sockaddr(&a, ai->ai_addr) != 0)
			continue;
		/* A mapped address is its IPv4 one: keep each once. */
		for (i = 0; i < n; i++)
			if (out[i].family == a.family &&
			    memcmp(out[i].bytes, a.bytes, sizeof(a.bytes)) == 0)
				break;
		if (i == n)
			out[n++] = a;
	}
	freeaddrinfo(res);
	if (n == 0)
		*err = "no IPv4 or IPv6 address";
	return n;
}
