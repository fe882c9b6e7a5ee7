/*
 * acl_verify.c - the double-reverse decision (semantics E2): which name a
 * reverse look-up and its forward confirmation entitle a client to.
 *
 * Pure: the look-ups themselves are the caller's (asynchronous in the
 * proxy, blocking in `wrapd match`), so both reach the same answer.
 */
#include <netdb.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>

#include "acl_int.h"

/* A reverse name that parses as a numeric address is a spoofing attempt. */
static bool
acl_verify_name_is_numeric(const char *name)
{
	struct addrinfo hints, *res = NULL;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_flags = AI_NUMERICHOST;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(name, NULL, &hints, &res) != 0)
		return false;
	freeaddrinfo(res);
	return true;
}

/* The client address as the forward look-up's family sees it. */
static bool
acl_verify_same_addr(const struct sockaddr *want, const struct sockaddr *got)
{
	struct acl_addr a, b;

	if (got == NULL)
		return false;
	if (acl_addr_from_sockaddr(&a, want) != 0 ||
	    acl_addr_from_sockaddr(&b, got) != 0)
		return false;
	if (a.family != b.family || memcmp(a.bytes, b.bytes, 16) != 0)
		return false;
	if (want->sa_family == AF_INET6 && got->sa_family == AF_INET6 &&
	    a.family == AF_INET6) {
		const struct sockaddr_in6 *w =
		    (const struct sockaddr_in6 *)want;
		const struct sockaddr_in6 *g = (const struct sockaddr_in6 *)got;

		return w->sin6_scope_id == g->sin6_scope_id;
	}
	return true;
}

const char *
acl_verify_name(const struct sockaddr *addr, const char *rev_name,
    const struct addrinfo *fwd)
{
	const struct addrinfo *ai;

	if (rev_name == NULL || rev_name[0] == '\0')
		return ACL_UNKNOWN;
	if (acl_verify_name_is_numeric(rev_name))
		return ACL_PARANOID;
	if (fwd == NULL || addr == NULL)
		return ACL_PARANOID;
	if ((fwd->ai_canonname == NULL ||
	        strcasecmp(fwd->ai_canonname, rev_name) != 0) &&
	    strcasecmp(rev_name, "localhost") != 0)
		return ACL_PARANOID;
	for (ai = fwd; ai != NULL; ai = ai->ai_next)
		if (acl_verify_same_addr(addr, ai->ai_addr))
			return rev_name;
	return ACL_PARANOID;
}
