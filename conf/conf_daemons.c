/*
 * conf_daemons.c - the keys that give the real client to the daemon
 * (issue "daemons"): transparent, accept_proxy_from, protocol and their
 * timeouts; their cross-field checks, and the warning for a mail server
 * that would see every client as loopback.
 *
 * The rows are in conf_schema.c beside the others; what needs more than a
 * row (a list of networks, checks across keys, the dump) is here.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf_int.h"

/* Networks in one accept_proxy_from list, at most. */
#define CONF_MAX_PROXY_FROM 64

static void
conf_daemons_mask(struct conf_cidr *n)
{
	unsigned bits = n->family == AF_INET ? 32 : 128;
	unsigned i;

	for (i = n->prefix; i < bits; i++)
		n->bytes[i / 8] &= (uint8_t) ~(0x80u >> (i % 8));
}

static int
conf_daemons_fail(char **err, const char *text, const char *why)
{
	if (err != NULL)
		*err = conf__asprintf("\"%s\": %s", text, why);
	return -1;
}

int
conf_daemons_cidr_parse(const char *text, struct conf_cidr *n, char **err)
{
	static const uint8_t mapped[12] = {
	    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	char addr[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(text, '/');
	size_t alen = slash != NULL ? (size_t)(slash - text) : strlen(text);
	uint64_t len;

	memset(n, 0, sizeof(*n));
	if (alen == 0 || alen >= sizeof(addr))
		return conf_daemons_fail(err, text,
		    "expected a network such as 192.0.2.0/24 or 2001:db8::/32");
	memcpy(addr, text, alen);
	addr[alen] = '\0';
	if (inet_pton(AF_INET, addr, n->bytes) == 1)
		n->family = AF_INET;
	else if (inet_pton(AF_INET6, addr, n->bytes) == 1)
		n->family = AF_INET6;
	else
		return conf_daemons_fail(err, text,
		    "not a numeric IPv4 or IPv6 address (no names here)");
	n->prefix = n->family == AF_INET ? 32 : 128;
	if (slash != NULL) {
		if (conf__parse_uint(slash + 1, n->prefix, &len) != 0)
			return conf_daemons_fail(err, text,
			    n->family == AF_INET
			        ? "the prefix length must be 0 to 32"
			        : "the prefix length must be 0 to 128");
		n->prefix = (uint8_t)len;
	}
	if (n->family == AF_INET6 && memcmp(n->bytes, mapped, 12) == 0 &&
	    n->prefix >= 96) {
		/* ::ffff:a.b.c.d/n is the IPv4 network, as peers are. */
		memmove(n->bytes, n->bytes + 12, 4);
		memset(n->bytes + 4, 0, 12);
		n->family = AF_INET;
		n->prefix = (uint8_t)(n->prefix - 96);
	}
	conf_daemons_mask(n);
	return 0;
}

int
conf_daemons_add_proxy_from(
    struct conf_service *s, const char *text, char **err)
{
	struct conf_cidr n, *v;

	if (s->nproxy_from >= CONF_MAX_PROXY_FROM) {
		if (err != NULL)
			*err = conf__asprintf(
			    "accept_proxy_from: more than %d networks",
			    CONF_MAX_PROXY_FROM);
		return -1;
	}
	if (conf_daemons_cidr_parse(text, &n, err) != 0)
		return -1;
	v = realloc(s->proxy_from, (s->nproxy_from + 1) * sizeof(*v));
	if (v == NULL)
		abort();
	v[s->nproxy_from++] = n;
	s->proxy_from = v;
	return 0;
}

bool
conf_daemons_cidr_contains(
    const struct conf_cidr *v, size_t n, int family, const uint8_t *bytes)
{
	size_t i;
	unsigned full, rest;

	for (i = 0; i < n; i++) {
		if (v[i].family != family)
			continue;
		full = v[i].prefix / 8u;
		rest = v[i].prefix % 8u;
		if (memcmp(v[i].bytes, bytes, full) != 0)
			continue;
		if (rest != 0 &&
		    ((bytes[full] ^ v[i].bytes[full]) & (0xff00u >> rest)) != 0)
			continue;
		return true;
	}
	return false;
}

/* services[].accept_proxy_from: a list of networks. */
void
conf__set_cidrs(struct conf_ctx *cx, const struct conf_key *k,
    const struct conf_node *v, struct conf_service *svc)
{
	size_t i;
	char *err;

	(void)k;
	if (v->kind != CONF_NODE_SEQ) {
		conf__err(cx, v->line, v->col,
		    "accept_proxy_from: expected a list such as "
		    "[\"192.0.2.10\", \"2001:db8::/64\"], got %s",
		    v->kind == CONF_NODE_MAP ? "a mapping" : "a string");
		return;
	}
	if (v->nkids == 0) {
		conf__err(cx, v->line, v->col,
		    "accept_proxy_from: the list is empty (leave the key out "
		    "to take no PROXY headers)");
		return;
	}
	for (i = 0; i < v->nkids && !cx->full; i++) {
		const struct conf_node *it = v->kids[i];

		err = NULL;
		if (it->kind != CONF_NODE_SCALAR || it->is_null ||
		    memchr(it->str, '\0', it->len) != NULL) {
			conf__err(cx, it->line, it->col,
			    "accept_proxy_from: expected a network");
			continue;
		}
		if (conf_daemons_add_proxy_from(svc, it->str, &err) != 0) {
			conf__err(cx, it->line, it->col,
			    "accept_proxy_from: %s", err);
			free(err);
		}
	}
}

void
conf__warn(
    struct conf_ctx *cx, unsigned line, unsigned col, const char *fmt, ...)
{
	struct wrapd_conf *c = cx->conf;
	va_list ap;

	if (c->warnings == NULL &&
	    (c->warnings = calloc(1, sizeof(*c->warnings))) == NULL)
		abort();
	va_start(ap, fmt);
	conf__errv(c->warnings, cx->file, line, col, fmt, ap);
	va_end(ap);
}

/* The ports of SMTP (25), submissions (465) and submission (587). */
static bool
conf_daemons_mail_port(uint16_t port)
{
	return port == 25 || port == 465 || port == 587;
}

/* A mail service: its backend, or one of its listen addresses, is on a
 * mail port (the backend of "listen :25" is often on 2525). */
static bool
conf_daemons_mail_service(const struct conf_service *s)
{
	size_t i;

	if (conf_daemons_mail_port(s->backend_port))
		return true;
	for (i = 0; i < s->nlisten; i++)
		if (s->listen[i].kind == CONF_LISTEN_ADDR &&
		    conf_daemons_mail_port(s->listen[i].port))
			return true;
	return false;
}

/*
 * Checks across the keys of this file, for one service: each of them
 * needs a backend of a kind that can carry it.
 */
void
conf__check_daemons(struct conf_ctx *cx, const struct conf_service *s)
{
	const char *name = s->name ? s->name : "?";
	bool exec = s->exec_argv != NULL;
	bool unix_backend = s->backend_kind == CONF_BACKEND_UNIX;

	if (s->transparent && (exec || unix_backend))
		conf__err(cx, s->line, s->col,
		    "service \"%s\": transparent needs a TCP backend (an "
		    "exec'd program already has the client's socket; a UNIX "
		    "socket has no source address)",
		    name);
	if (s->nproxy_from > 0 && exec)
		conf__err(cx, s->line, s->col,
		    "service \"%s\": accept_proxy_from needs a backend: an "
		    "exec'd program would see the load balancer's address",
		    name);
	if (s->protocol == CONF_PROTOCOL_FTP && exec)
		conf__err(cx, s->line, s->col,
		    "service \"%s\": protocol ftp is for a backend; an exec'd "
		    "FTP server makes its own data connections (leave "
		    "protocol out)",
		    name);
	if (s->protocol == CONF_PROTOCOL_FTP && unix_backend)
		conf__err(cx, s->line, s->col,
		    "service \"%s\": protocol ftp needs a TCP backend (its "
		    "data ports are on the backend's address)",
		    name);
	if (s->protocol == CONF_PROTOCOL_FTP && s->nproxy_from > 0)
		conf__err(cx, s->line, s->col,
		    "service \"%s\": protocol ftp cannot be combined with "
		    "accept_proxy_from (the data connections would come from "
		    "the load balancer, not from the client)",
		    name);
	if (s->backend_kind == CONF_BACKEND_TCP &&
	    conf_daemons_mail_service(s) &&
	    s->proxy_protocol == CONF_PROXY_PROTOCOL_NONE && !s->transparent)
		conf__warn(cx, s->line, s->col,
		    "service \"%s\": a mail service forwarded to %s without "
		    "the client: the mail server will see every client as %s, "
		    "and if it trusts that address (Debian's exim and postfix "
		    "trust loopback), it relays for anyone; give it the client "
		    "with proxy_protocol, transparent, or exec",
		    name, s->backend,
		    s->backend_host != NULL ? s->backend_host : "wrapd");
}

/* The keys of this file in `wrapd check -v` form, after "group" (the
 * timeouts are on the line of the others). */
void
conf__dump_daemons(FILE *fp, const struct conf_service *s)
{
	char buf[INET6_ADDRSTRLEN];
	size_t i;

	fprintf(fp, "    transparent: %s\n", s->transparent ? "true" : "false");
	if (s->nproxy_from > 0) {
		fputs("    accept_proxy_from: [", fp);
		for (i = 0; i < s->nproxy_from; i++) {
			if (inet_ntop(s->proxy_from[i].family,
			        s->proxy_from[i].bytes, buf,
			        sizeof(buf)) == NULL)
				strcpy(buf, "?");
			fprintf(fp, "%s\"%s/%u\"", i > 0 ? ", " : "", buf,
			    (unsigned)s->proxy_from[i].prefix);
		}
		fputs("]\n", fp);
	}
	fprintf(fp, "    protocol: %s\n",
	    s->protocol == CONF_PROTOCOL_FTP ? "ftp" : "tcp");
}
