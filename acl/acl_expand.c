/*
 * acl_expand.c - % expansions (libwrap percent_x.c and eval.c).
 *
 * Every expanded value, never the template text, is sanitised: a byte
 * outside 0-9 a-z A-Z ! @ % - _ = + : , . / becomes '_', so a hostile host
 * name or ident reply cannot reach a shell as syntax.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "acl_int.h"

/* libwrap's limit: the result plus its NUL must stay below BUFSIZ. */
#define ACL_EXPAND_LIMIT (ACL_EXPAND_MAX - 2)

static bool
acl_expand_ok_char(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z') ||
	    (c != '\0' && strchr("!@%-_=+:,./", c) != NULL);
}

void
acl_expand_sanitise(char *out, size_t outsz, const char *s)
{
	char *p;

	if (outsz == 0)
		return;
	acl_request_copy_string(out, outsz, s);
	for (p = out; *p != '\0'; p++)
		if (!acl_expand_ok_char((unsigned char)*p))
			*p = '_';
}

unsigned
acl_expand_needs(const char *tmpl)
{
	unsigned needs = 0;
	const char *p;

	if (tmpl == NULL)
		return 0;
	for (p = tmpl; *p != '\0'; p++) {
		if (*p != '%' || p[1] == '\0')
			continue;
		p++;
		if (*p == 'n')
			needs |= ACL_NEEDS_CLIENT_NAME;
		else if (*p == 'N')
			needs |= ACL_NEEDS_SERVER_NAME;
		else if (*p == 'u')
			needs |= ACL_NEEDS_USER;
	}
	return needs;
}

struct acl_xside {
	char addr[64];
	const char *name; /* NULL: not looked up */
	char namebuf[ACL_STRING_MAX];
	bool can_lookup;
};

static void
acl_expand_xside_init(struct acl_xside *x, const struct acl_endpoint *ep)
{
	acl_addr_format(&ep->addr, x->addr, sizeof x->addr);
	x->can_lookup =
	    ep->addr.family == AF_INET || ep->addr.family == AF_INET6;
	if (ep->name != NULL) {
		acl_request_copy_string(
		    x->namebuf, sizeof x->namebuf, ep->name);
		x->name = x->namebuf;
	} else {
		x->name = x->can_lookup ? NULL : ACL_UNKNOWN;
	}
}

/* eval_hostinfo(): the name if already known and good, else the address. */
static const char *
acl_expand_hostinfo(const struct acl_xside *x)
{
	if (x->name == NULL || strcasecmp(x->name, ACL_UNKNOWN) == 0 ||
	    strcasecmp(x->name, ACL_PARANOID) == 0)
		return x->addr;
	return x->name;
}

int
acl_expand(
    const char *tmpl, const struct acl_request *req, char *out, size_t outsz)
{
	struct acl_xside cl, sv;
	char daemon[ACL_STRING_MAX], user[ACL_STRING_MAX];
	char tmp[2 * ACL_STRING_MAX + 64];
	const char *u;
	size_t limit, n = 0;
	const char *p;

	if (outsz == 0) {
		errno = E2BIG;
		return -1;
	}
	limit = outsz - 1 < ACL_EXPAND_LIMIT ? outsz - 1 : ACL_EXPAND_LIMIT;
	acl_expand_xside_init(&cl, &req->client);
	acl_expand_xside_init(&sv, &req->server);
	acl_request_copy_string(daemon, sizeof daemon,
	    req->daemon != NULL ? req->daemon : ACL_UNKNOWN);
	u = NULL;
	if (req->user != NULL) {
		acl_request_copy_string(user, sizeof user, req->user);
		u = user;
	}
	for (p = tmpl; *p != '\0';) {
		const char *val;
		size_t vlen, i;
		bool sanitise = true;

		if (*p == '%' && p[1] != '\0') {
			int ch = (unsigned char)p[1];

			p += 2;
			switch (ch) {
			case 'a':
				val = cl.addr;
				break;
			case 'A':
				val = sv.addr;
				break;
			case 'c':
				/* user@ only when the user is already known */
				if (u != NULL &&
				    strcasecmp(u, ACL_UNKNOWN) != 0) {
					snprintf(tmp, sizeof tmp, "%s@%s", u,
					    acl_expand_hostinfo(&cl));
					val = tmp;
				} else {
					val = acl_expand_hostinfo(&cl);
				}
				break;
			case 'd':
				val = daemon;
				break;
			case 'h':
				val = acl_expand_hostinfo(&cl);
				break;
			case 'H':
				val = acl_expand_hostinfo(&sv);
				break;
			case 'n':
				if (cl.name == NULL)
					return ACL_NEED_CLIENT_NAME;
				val = cl.name;
				break;
			case 'N':
				if (sv.name == NULL)
					return ACL_NEED_SERVER_NAME;
				val = sv.name;
				break;
			case 'p':
				snprintf(tmp, sizeof tmp, "%ld", req->pid);
				val = tmp;
				break;
			case 'r':
				snprintf(tmp, sizeof tmp, "%d",
				    req->client.port >= 0 ? req->client.port
				                          : 0);
				val = tmp;
				break;
			case 'R':
				snprintf(tmp, sizeof tmp, "%d",
				    req->server.port >= 0 ? req->server.port
				                          : 0);
				val = tmp;
				break;
			case 's':
				if (strcasecmp(acl_expand_hostinfo(&sv),
				        ACL_UNKNOWN) != 0) {
					snprintf(tmp, sizeof tmp, "%s@%s",
					    daemon, acl_expand_hostinfo(&sv));
					val = tmp;
				} else {
					val = daemon;
				}
				break;
			case 'u':
				if (u == NULL)
					return ACL_NEED_USER;
				val = u;
				break;
			case '%':
				val = "%";
				break;
			default:
				val = ""; /* libwrap: "unrecognized %x" */
				break;
			}
		} else {
			val = p++;
			vlen = 1;
			sanitise = false;
			goto copy;
		}
		vlen = strlen(val);
	copy:
		if (n + vlen > limit) {
			errno = E2BIG;
			return -1;
		}
		for (i = 0; i < vlen; i++) {
			unsigned char c = (unsigned char)val[i];

			out[n++] =
			    sanitise && !acl_expand_ok_char(c) ? '_' : (char)c;
		}
	}
	out[n] = '\0';
	return ACL_DONE;
}
