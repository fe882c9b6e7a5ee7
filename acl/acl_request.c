/*
 * acl_request.c - what is known about one connection, as the rules see it.
 */
#include <string.h>

#include "acl_int.h"

void
acl_request_init(struct acl_request *r)
{
	memset(r, 0, sizeof(*r));
	r->daemon = NULL;
	r->client.addr.family = AF_UNSPEC;
	r->client.port = -1;
	r->client.name = NULL;
	r->server.addr.family = AF_UNSPEC;
	r->server.port = -1;
	r->server.name = NULL;
	r->user = NULL;
	r->pid = 0;
}

void
acl_request_copy_string(char *buf, size_t bufsz, const char *s)
{
	size_t n = strlen(s);

	if (n > ACL_STRING_MAX - 1)
		n = ACL_STRING_MAX - 1;
	if (n > bufsz - 1)
		n = bufsz - 1;
	memcpy(buf, s, n);
	buf[n] = '\0';
}
