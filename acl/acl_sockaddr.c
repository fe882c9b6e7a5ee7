/*
 * acl_sockaddr.c - socket addresses as the look-ups and the tools use them:
 * their ports, and an IPv4-mapped address turned into plain IPv4.
 */
#include <netinet/in.h>
#include <string.h>

#include "acl_int.h"

int
acl_sockaddr_unmap(struct sockaddr_storage *ss, const struct sockaddr *sa)
{
	struct acl_addr a;

	if (sa == NULL || acl_addr_from_sockaddr(&a, sa) != 0) {
		memset(ss, 0, sizeof(*ss));
		return -1;
	}
	(void)acl_addr_to_sockaddr(&a, acl_sockaddr_port(sa),
	    sa->sa_family == AF_INET6
	        ? ((const struct sockaddr_in6 *)sa)->sin6_scope_id
	        : 0,
	    ss);
	return 0;
}

unsigned
acl_sockaddr_port(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)sa)->sin_port);
	if (sa->sa_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	return 0;
}

void
acl_sockaddr_set_port(struct sockaddr_storage *ss, unsigned port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
	else if (ss->ss_family == AF_INET6)
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
}
