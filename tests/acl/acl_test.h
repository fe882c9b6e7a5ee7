/*
 * acl_test.h - helpers shared by the rule engine's unit tests: load rules
 * from strings, describe a request compactly, and print a decision as a
 * short string ("grant:allow:3") so tables of cases stay readable.
 */
#ifndef WRAPD_ACL_TEST_H
#define WRAPD_ACL_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "acl.h"
#include "acl_int.h"

/* A request, compactly: NULL fields stay unknown / not looked up. */
struct t_req {
	const char *daemon;
	const char *caddr; /* NULL: address unknown */
	const char *cname; /* NULL: not looked up yet */
	const char *user;  /* NULL: not asked yet */
	int sport;         /* 0: unknown */
	const char *saddr;
	const char *sname;
	/*
	 * GeoIP facts: country NULL unasked, "" in no network, "!" failed,
	 * else found; asn 0 unasked, -1 in no network, -2 failed, else found.
	 */
	const char *country;
	long long asn;
};

static inline void
t_request(struct acl_request *r, const struct t_req *q)
{
	acl_request_init(r);
	r->daemon = q->daemon;
	if (q->caddr != NULL)
		assert_int_equal(acl_addr_parse(&r->client.addr, q->caddr), 0);
	r->client.name = q->cname;
	r->user = q->user;
	r->server.port = q->sport > 0 ? q->sport : -1;
	if (q->saddr != NULL)
		assert_int_equal(acl_addr_parse(&r->server.addr, q->saddr), 0);
	r->server.name = q->sname;
	r->pid = 4242;
	if (q->country == NULL)
		r->geo.country_state = ACL_GEO_UNASKED;
	else if (q->country[0] == '\0')
		r->geo.country_state = ACL_GEO_NONE;
	else if (strcmp(q->country, "!") == 0)
		r->geo.country_state = ACL_GEO_FAILED;
	else {
		r->geo.country_state = ACL_GEO_FOUND;
		snprintf(
		    r->geo.country, sizeof r->geo.country, "%s", q->country);
	}
	if (q->asn == 0)
		r->geo.asn_state = ACL_GEO_UNASKED;
	else if (q->asn == -1)
		r->geo.asn_state = ACL_GEO_NONE;
	else if (q->asn == -2)
		r->geo.asn_state = ACL_GEO_FAILED;
	else {
		r->geo.asn_state = ACL_GEO_FOUND;
		r->geo.asn = (uint32_t)q->asn;
	}
}

static inline struct acl_ruleset *
t_load_n(const char *allow, size_t alen, const char *deny, size_t dlen,
    bool lint, struct acl_diags *dg)
{
	struct acl_ruleset *rs = acl_ruleset_load_mem(
	    "hosts.allow", allow, alen, "hosts.deny", deny, dlen, lint, dg);

	assert_non_null(rs);
	return rs;
}

static inline struct acl_ruleset *
t_load(const char *allow, const char *deny)
{
	return t_load_n(allow, allow != NULL ? strlen(allow) : 0, deny,
	    deny != NULL ? strlen(deny) : 0, false, NULL);
}

static inline const char *
t_verdict_name(enum acl_verdict v)
{
	return v == ACL_GRANT ? "grant" : v == ACL_DENY ? "deny" : "twist";
}

/*
 * "need-client", "need-server", "need-user", "need-geo", or
 * "<verdict>:<allow|deny|none>:<line>" with ":error" appended for a table
 * error and ":fact" for a GeoIP fact error (line = the error's line).
 */
static inline const char *
t_describe(
    enum acl_status st, const struct acl_decision *d, char *buf, size_t n)
{
	switch (st) {
	case ACL_NEED_CLIENT_NAME:
		return "need-client";
	case ACL_NEED_SERVER_NAME:
		return "need-server";
	case ACL_NEED_USER:
		return "need-user";
	case ACL_NEED_GEO:
		return "need-geo";
	case ACL_DONE:
		break;
	}
	snprintf(buf, n, "%s:%s:%u%s", t_verdict_name(d->verdict),
	    d->table == ACL_TABLE_ALLOW      ? "allow"
	        : d->table == ACL_TABLE_DENY ? "deny"
	                                     : "none",
	    d->table_error || d->fact_error ? d->error_line
	        : d->rule != NULL           ? d->rule->line
	                                    : 0,
	    d->table_error      ? ":error"
	        : d->fact_error ? ":fact"
	                        : "");
	return buf;
}

static inline const char *
t_eval(const struct acl_ruleset *rs, const struct t_req *q)
{
	static char buf[128];
	struct acl_request r;
	struct acl_decision d;
	enum acl_status st;

	t_request(&r, q);
	st = acl_eval(rs, &r, ACL_TABLE_ALLOW, &d);
	return t_describe(st, &d, buf, sizeof buf);
}

/* A small deterministic generator (xorshift); tests seed rng_state. */
static uint64_t rng_state;

static inline uint32_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 11);
}

static inline unsigned
pick(unsigned n)
{
	return rng() % n;
}

/* Write a temporary file; returns its path (static buffer per slot). */
static inline const char *
t_tmpfile(int slot, const char *content, size_t len)
{
	static char paths[8][64];
	int fd;

	snprintf(paths[slot], sizeof paths[slot], "/tmp/wrapd-acl-XXXXXX");
	fd = mkstemp(paths[slot]);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, len), (ssize_t)len);
	close(fd);
	return paths[slot];
}

/* Whether some diagnostic contains text (and, if line > 0, is there). */
static inline bool
t_has_diag(
    const struct acl_diags *dg, unsigned line, unsigned col, const char *text)
{
	size_t i;

	for (i = 0; i < dg->n; i++) {
		if (strstr(dg->v[i].msg, text) == NULL)
			continue;
		if (line > 0 && dg->v[i].line != line)
			continue;
		if (col > 0 && dg->v[i].col != col)
			continue;
		return true;
	}
	return false;
}

static inline void
t_dump_diags(const struct acl_diags *dg)
{
	size_t i;

	for (i = 0; i < dg->n; i++)
		fprintf(stderr, "  diag %s:%u:%u: %s\n", dg->v[i].file,
		    dg->v[i].line, dg->v[i].col, dg->v[i].msg);
}

#endif /* WRAPD_ACL_TEST_H */
