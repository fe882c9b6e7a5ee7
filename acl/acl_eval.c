/*
 * acl_eval.c - deciding a request: allow table, then deny table, first
 * match, as libwrap's hosts_access() does, on the compiled rules.
 *
 * Evaluation is a pure function of the rule set and the request.  When a
 * pattern needs a fact the request does not have yet (a host name, the
 * ident user, a GeoIP fact), the scan stops and says which; the caller
 * finds it and starts again from the top, which takes the same path up to
 * that point.
 *
 * A GeoIP fact that has no answer (no database, a failed look-up) is a
 * third outcome beside match and no match: "cannot tell" (ACL_M_FAIL).  An
 * item list is still a match when another item matches; otherwise the
 * request is denied at that rule, whatever the rule or the later ones say,
 * so that a database problem can never make a deny rule stop matching.
 */
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "acl_int.h"

enum acl_m {
	ACL_M_NO,
	ACL_M_YES,
	ACL_M_NEED_CLIENT,
	ACL_M_NEED_SERVER,
	ACL_M_NEED_USER,
	ACL_M_NEED_GEO,
	ACL_M_FAIL, /* a GeoIP fact without an answer: deny here */
};

/* A need: stop and ask (ACL_M_FAIL is not one: it may still be outvoted). */
static bool
acl_eval_m_need(enum acl_m m)
{
	return m == ACL_M_NEED_CLIENT || m == ACL_M_NEED_SERVER ||
	    m == ACL_M_NEED_USER || m == ACL_M_NEED_GEO;
}

struct acl_side {
	const struct acl_endpoint *ep;
	char addr[64]; /* numeric text, or "unknown"; made when needed */
	bool addr_ready;
	const char *name; /* NULL: not looked up yet */
	char namebuf[ACL_STRING_MAX];
	enum acl_m need; /* what to ask for when name is NULL */
};

struct acl_evalctx {
	const struct acl_ruleset *rs;
	const struct acl_request *req;
	struct acl_side client, server;
	const char *daemon;
	char daemonbuf[ACL_STRING_MAX];
	const char *user;
	char userbuf[ACL_STRING_MAX];
	const struct acl_geo *geo;
	char country[2]; /* geo->country in upper case */
};

/*
 * libwrap keeps request strings in 128-byte fields: cut longer ones (the
 * common short string is used in place, without a copy).
 */
static const char *
acl_eval_trunc(char *buf, const char *s)
{
	size_t n = strnlen(s, ACL_STRING_MAX);

	if (n < ACL_STRING_MAX)
		return s;
	memcpy(buf, s, ACL_STRING_MAX - 1);
	buf[ACL_STRING_MAX - 1] = '\0';
	return buf;
}

static void
acl_eval_side_init(
    struct acl_side *sd, const struct acl_endpoint *ep, enum acl_m need)
{
	sd->ep = ep;
	sd->need = need;
	sd->addr_ready = false;
	if (ep->name != NULL)
		sd->name = acl_eval_trunc(sd->namebuf, ep->name);
	else if (ep->addr.family != AF_INET && ep->addr.family != AF_INET6)
		sd->name = ACL_UNKNOWN; /* nothing to look up */
	else
		sd->name = NULL;
}

/* The address text, formatted on first use: most rules never need it. */
static const char *
acl_eval_side_addr(struct acl_side *sd)
{
	if (!sd->addr_ready) {
		acl_addr_format(&sd->ep->addr, sd->addr, sizeof sd->addr);
		sd->addr_ready = true;
	}
	return sd->addr;
}

static bool
acl_eval_geo_letter(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

static void
acl_eval_ctx_init(struct acl_evalctx *c, const struct acl_ruleset *rs,
    const struct acl_request *req)
{
	c->rs = rs;
	c->req = req;
	acl_eval_side_init(&c->client, &req->client, ACL_M_NEED_CLIENT);
	acl_eval_side_init(&c->server, &req->server, ACL_M_NEED_SERVER);
	c->daemon = acl_eval_trunc(
	    c->daemonbuf, req->daemon != NULL ? req->daemon : ACL_UNKNOWN);
	c->user =
	    req->user != NULL ? acl_eval_trunc(c->userbuf, req->user) : NULL;
	c->geo = &req->geo;
	/* Only ASCII letters change: any other byte matches no pattern. */
	c->country[0] = (char)((unsigned char)req->geo.country[0] & 0xdf);
	c->country[1] = (char)((unsigned char)req->geo.country[1] & 0xdf);
	if (!acl_eval_geo_letter(req->geo.country[0]) ||
	    !acl_eval_geo_letter(req->geo.country[1]))
		c->country[0] = c->country[1] = '\0';
}

/*
 * The state of a GeoIP fact: what a pattern needing it yields when it has
 * no value, or ACL_M_YES when it has one.
 */
static enum acl_m
acl_eval_geo_state(const struct acl_evalctx *c, unsigned fact)
{
	enum acl_geo_state st =
	    fact == ACL_GEO_COUNTRY ? c->geo->country_state : c->geo->asn_state;

	switch (st) {
	case ACL_GEO_UNASKED:
		return ACL_M_NEED_GEO;
	case ACL_GEO_FOUND:
		return ACL_M_YES;
	case ACL_GEO_NONE:
		return ACL_M_NO;
	default:
		return ACL_M_FAIL;
	}
}

/* A GeoIP pattern against the client's facts (never the server's). */
static enum acl_m
acl_eval_geo_match(const struct acl_evalctx *c, const struct acl_hostpat *hp,
    const struct acl_side *sd)
{
	enum acl_m m;

	if (sd != &c->client)
		return ACL_M_FAIL; /* reported at load: a daemon@ list */
	m = acl_eval_geo_state(c, acl__hostpat_geo(hp));
	if (m != ACL_M_YES)
		return m;
	if (hp->kind == ACL_HP_COUNTRY)
		return memcmp(hp->country, c->country, 2) == 0 ? ACL_M_YES
		                                               : ACL_M_NO;
	return hp->asn == c->geo->asn ? ACL_M_YES : ACL_M_NO;
}

/*
 * The GeoIP keys of an index (those of the facts in `facts`): ACL_M_YES
 * with *r set when the client's value is a key; else what a fact without a
 * value asks for (a need before a failure), or ACL_M_NO.
 */
static enum acl_m
acl_eval_geo_index(const struct acl_evalctx *c, const struct acl_index *idx,
    unsigned facts, struct acl_irange *r)
{
	enum acl_m out = ACL_M_NO, m;
	uint8_t key[4];
	unsigned f;

	for (f = ACL_GEO_COUNTRY; f <= ACL_GEO_ASN; f <<= 1) {
		if (!(facts & f))
			continue;
		m = acl_eval_geo_state(c, f);
		if (m == ACL_M_YES) {
			if (f == ACL_GEO_COUNTRY) {
				memcpy(key, c->country, 2);
				key[2] = key[3] = 0;
			} else {
				key[0] = (uint8_t)(c->geo->asn >> 24);
				key[1] = (uint8_t)(c->geo->asn >> 16);
				key[2] = (uint8_t)(c->geo->asn >> 8);
				key[3] = (uint8_t)c->geo->asn;
			}
			if (acl__index_lookup_geo(idx,
			        f == ACL_GEO_COUNTRY ? ACL_IFAM_COUNTRY
			                             : ACL_IFAM_ASN,
			        key, r) > 0)
				return ACL_M_YES;
		} else if (m == ACL_M_NEED_GEO ||
		    (m == ACL_M_FAIL && out == ACL_M_NO)) {
			out = m;
		}
	}
	return out;
}

static bool
acl_eval_name_known(const char *n)
{
	return strcasecmp(n, ACL_UNKNOWN) != 0 &&
	    strcasecmp(n, ACL_PARANOID) != 0;
}

static enum acl_m acl_eval_set_match(
    struct acl_evalctx *c, const struct acl_hostset *set, struct acl_side *sd);

static enum acl_m
acl_eval_host_match(
    struct acl_evalctx *c, const struct acl_hostpat *hp, struct acl_side *sd)
{
	const struct acl_addr *a = &sd->ep->addr;
	uint32_t v;
	unsigned i, p;

	switch (hp->kind) {
	case ACL_HP_NEVER:
		return ACL_M_NO;
	case ACL_HP_NETGROUP:
		if (sd->name == NULL)
			return sd->need;
		return innetgr(hp->group, sd->name, NULL, c->rs->nis_domain)
		    ? ACL_M_YES
		    : ACL_M_NO;
	case ACL_HP_FILE:
		return acl_eval_set_match(c, hp->set, sd);
	case ACL_HP_KNOWN:
		if (sd->name == NULL)
			return sd->need;
		return a->family != AF_UNSPEC && acl_eval_name_known(sd->name)
		    ? ACL_M_YES
		    : ACL_M_NO;
	case ACL_HP_LOCAL:
		if (sd->name == NULL)
			return sd->need;
		return strchr(sd->name, '.') == NULL &&
		        acl_eval_name_known(sd->name)
		    ? ACL_M_YES
		    : ACL_M_NO;
	case ACL_HP_NET4:
		if (a->family != AF_INET)
			return ACL_M_NO;
		v = (uint32_t)a->bytes[0] << 24 | (uint32_t)a->bytes[1] << 16 |
		    (uint32_t)a->bytes[2] << 8 | a->bytes[3];
		/* libwrap cannot parse 255.255.255.255 (INADDR_NONE). */
		if (v == 0xffffffffu)
			return ACL_M_NO;
		return (v & hp->mask4) == hp->net4 ? ACL_M_YES : ACL_M_NO;
	case ACL_HP_NET6:
		if (a->family != AF_INET6)
			return ACL_M_NO;
		for (i = 0, p = hp->plen6; i < 16 && p > 0; i++) {
			uint8_t m = p >= 8 ? 0xff : (uint8_t)(0xff00u >> p);

			if ((a->bytes[i] & m) != hp->net6[i])
				return ACL_M_NO;
			p = p >= 8 ? p - 8 : 0;
		}
		return ACL_M_YES;
	case ACL_HP_STRING:
		if (hp->sp.kind == ACL_SP_V6) {
			return a->family == AF_INET6 &&
			        memcmp(a->bytes, hp->sp.v6, 16) == 0
			    ? ACL_M_YES
			    : ACL_M_NO;
		}
		if (acl__strpat_match(&hp->sp, acl_eval_side_addr(sd)))
			return ACL_M_YES;
		if (!hp->name_too)
			return ACL_M_NO;
		if (sd->name == NULL)
			return sd->need;
		return acl__strpat_match(&hp->sp, sd->name) ? ACL_M_YES
		                                            : ACL_M_NO;
	case ACL_HP_COUNTRY:
	case ACL_HP_ASN:
		return acl_eval_geo_match(c, hp, sd);
	case ACL_HP_GEO_BAD:
		return ACL_M_FAIL;
	}
	return ACL_M_NO;
}

static enum acl_m
acl_eval_set_match(
    struct acl_evalctx *c, const struct acl_hostset *set, struct acl_side *sd)
{
	struct acl_irange r[1];
	enum acl_m m, failed = ACL_M_NO;
	size_t i;

	if (acl__index_lookup(&set->idx, &sd->ep->addr, r, 1) > 0)
		return ACL_M_YES;
	if (set->ix_geo != 0) {
		m = sd == &c->client
		    ? acl_eval_geo_index(c, &set->idx, set->ix_geo, r)
		    : ACL_M_FAIL;
		if (m == ACL_M_YES || acl_eval_m_need(m))
			return m;
		failed = m;
	}
	for (i = 0; i < set->nitems; i++) {
		m = acl_eval_host_match(c, &set->items[i], sd);
		if (m == ACL_M_FAIL)
			failed = m; /* unless another word matches */
		else if (m != ACL_M_NO)
			return m;
	}
	return failed;
}

static enum acl_m
acl_eval_item_match(
    struct acl_evalctx *c, const struct acl_item *it, bool server)
{
	const struct acl_endpoint *sv = &c->req->server;
	enum acl_m m;

	if (server) {
		if (it->port >= 0) {
			if (sv->port < 0 || sv->port != it->port)
				return ACL_M_NO;
		} else if (!acl__strpat_match(&it->name, c->daemon)) {
			return ACL_M_NO;
		}
		if (!it->has_host)
			return ACL_M_YES;
		return acl_eval_host_match(c, &it->host, &c->server);
	}
	m = acl_eval_host_match(c, &it->host, &c->client);
	if (m != ACL_M_YES || !it->has_name)
		return m;
	if (c->user == NULL)
		return ACL_M_NEED_USER;
	return acl__strpat_match(&it->name, c->user) ? ACL_M_YES : ACL_M_NO;
}

/*
 * list_match(): a EXCEPT b EXCEPT c = a and not (b and not c).  Going
 * forward, the first segment that does not match decides by its parity.
 */
static enum acl_m
acl_eval_list_match(
    struct acl_evalctx *c, const struct acl_list *l, bool server)
{
	unsigned s, i;

	for (s = 0; s < l->nseg; s++) {
		const struct acl_seg *sg = &l->segs[s];
		bool hit = false;

		bool failed = false;

		for (i = 0; i < sg->n && !hit; i++) {
			enum acl_m m =
			    acl_eval_item_match(c, &sg->items[i], server);

			if (m == ACL_M_YES)
				hit = true;
			else if (m == ACL_M_FAIL)
				failed = true; /* unless another item matches */
			else if (m != ACL_M_NO)
				return m;
		}
		if (!hit && failed)
			return ACL_M_FAIL;
		if (!hit)
			return s % 2 == 1 ? ACL_M_YES : ACL_M_NO;
	}
	return (l->nseg - 1) % 2 == 0 ? ACL_M_YES : ACL_M_NO;
}

static enum acl_m
acl_eval_rule_match(struct acl_evalctx *c, const struct acl_irule *r)
{
	enum acl_m m = acl_eval_list_match(c, &r->daemons, true);

	if (m != ACL_M_YES)
		return m;
	return acl_eval_list_match(c, &r->clients, false);
}

static enum acl_status
acl_eval_need_status(enum acl_m m)
{
	switch (m) {
	case ACL_M_NEED_CLIENT:
		return ACL_NEED_CLIENT_NAME;
	case ACL_M_NEED_SERVER:
		return ACL_NEED_SERVER_NAME;
	case ACL_M_NEED_GEO:
		return ACL_NEED_GEO;
	default:
		return ACL_NEED_USER;
	}
}

#define ACL_MAX_RANGES 200

/*
 * The GeoIP candidates of a table: the rules keyed by the client's country
 * and AS number, and while a fact has no value the rules keyed by any
 * value of it (they ask for it, or fail closed).  At most 2 ranges.
 */
static size_t
acl_eval_geo_ranges(const struct acl_evalctx *c, const struct acl_tab *tab,
    struct acl_irange *rg)
{
	size_t nr = 0;
	unsigned k;

	for (k = 0; k < 2; k++) {
		unsigned f = k == 0 ? ACL_GEO_COUNTRY : ACL_GEO_ASN;
		enum acl_m m;

		if (tab->ngeo_ids[k] == 0)
			continue;
		m = acl_eval_geo_state(c, f);
		if (m == ACL_M_YES) {
			if (acl_eval_geo_index(c, &tab->idx, f, &rg[nr]) ==
			    ACL_M_YES)
				nr++;
		} else if (m != ACL_M_NO) {
			rg[nr].ids = tab->geo_ids[k];
			rg[nr].n = (uint32_t)tab->ngeo_ids[k];
			nr++;
		}
	}
	return nr;
}

/*
 * Scan one table.  Returns ACL_M_YES with *hit set, ACL_M_NO, or a need.
 * Candidates: the rules the index finds for the client address merged in
 * rule order with the rules that are always candidates.
 */
static enum acl_m
acl_eval_tab_scan(struct acl_evalctx *c, const struct acl_tab *tab,
    const struct acl_irule **hit)
{
	struct acl_irange rg[ACL_MAX_RANGES + 3];
	size_t nr, i;
	uint32_t last = UINT32_MAX;

	nr = acl__index_lookup(
	    &tab->idx, &c->req->client.addr, rg, ACL_MAX_RANGES);
	nr += acl_eval_geo_ranges(c, tab, rg + nr);
	rg[nr].ids = tab->always;
	rg[nr].n = (uint32_t)tab->nalways;
	nr++;
	for (;;) {
		size_t best = nr;
		uint32_t id = UINT32_MAX;
		enum acl_m m;

		for (i = 0; i < nr; i++) {
			if (rg[i].n > 0 && rg[i].ids[0] < id) {
				id = rg[i].ids[0];
				best = i;
			}
		}
		if (best == nr)
			return ACL_M_NO;
		rg[best].ids++;
		rg[best].n--;
		if (id == last)
			continue; /* the same rule under two keys */
		last = id;
		m = acl_eval_rule_match(c, &tab->rules[id]);
		if (m == ACL_M_YES || m == ACL_M_FAIL) {
			*hit = &tab->rules[id];
			return m;
		}
		if (m != ACL_M_NO)
			return m;
	}
}

static enum acl_verdict
acl_eval_rule_verdict(const struct acl_rule *r, int t)
{
	if (r->opt_error != NULL)
		return ACL_DENY;
	if (r->nopts > 0) {
		switch (r->opts[r->nopts - 1].kind) {
		case ACL_OPT_ALLOW:
			return ACL_GRANT;
		case ACL_OPT_DENY:
			return ACL_DENY;
		case ACL_OPT_TWIST:
			return ACL_TWIST;
		default:
			break;
		}
	}
	return t == 0 ? ACL_GRANT : ACL_DENY;
}

/* The decision when rule r of table t (0: allow, 1: deny) matches. */
static void
acl_eval_decide_rule(struct acl_decision *out, const struct acl_rule *r, int t)
{
	out->rule = r;
	out->table = t == 0 ? ACL_TABLE_ALLOW : ACL_TABLE_DENY;
	out->verdict = acl_eval_rule_verdict(r, t);
}

/* Rule r of table t reached a GeoIP fact without an answer: deny there. */
static void
acl_eval_decide_fact_error(
    struct acl_decision *out, const struct acl_rule *r, int t)
{
	out->verdict = ACL_DENY;
	out->table = t == 0 ? ACL_TABLE_ALLOW : ACL_TABLE_DENY;
	out->rule = NULL;
	out->fact_error = true;
	out->error_file = r->file;
	out->error_line = r->line;
}

/* A need ends the scan; what is in *out then must not grant. */
static enum acl_status
acl_eval_need(struct acl_decision *out, enum acl_m m)
{
	memset(out, 0, sizeof(*out));
	out->verdict = ACL_DENY;
	return acl_eval_need_status(m);
}

/*
 * A scan stopped at rule r of table t with m (not ACL_M_NO): a match, a
 * fact that failed (fail closed), or a fact still to be looked up.
 */
static enum acl_status
acl_eval_settle(
    struct acl_decision *out, enum acl_m m, const struct acl_irule *r, int t)
{
	if (m == ACL_M_YES) {
		acl_eval_decide_rule(out, &r->pub, t);
		return ACL_DONE;
	}
	if (m == ACL_M_FAIL) {
		acl_eval_decide_fact_error(out, &r->pub, t);
		return ACL_DONE;
	}
	return acl_eval_need(out, m);
}

/* The deny table could not be read to the end: deny, and say where. */
static void
acl_eval_decide_deny_error(struct acl_decision *out, const struct acl_tab *tab)
{
	out->verdict = ACL_DENY;
	out->table = ACL_TABLE_DENY;
	out->table_error = true;
	out->error_file = tab->path;
	out->error_line = tab->term_line;
}

enum acl_status
acl_eval(const struct acl_ruleset *rs, const struct acl_request *req,
    enum acl_table start, struct acl_decision *out)
{
	struct acl_evalctx c;
	int t;

	memset(out, 0, sizeof(*out));
	out->verdict = ACL_GRANT;
	out->table = ACL_TABLE_NONE;
	acl_eval_ctx_init(&c, rs, req);
	for (t = start == ACL_TABLE_DENY ? 1 : 0; t < 2; t++) {
		const struct acl_tab *tab = &rs->tabs[t];
		const struct acl_irule *hit = NULL;
		enum acl_m m = acl_eval_tab_scan(&c, tab, &hit);

		if (m != ACL_M_NO)
			return acl_eval_settle(out, m, hit, t);
		if (tab->term && t == 1) {
			acl_eval_decide_deny_error(out, tab);
			return ACL_DONE;
		}
	}
	return ACL_DONE;
}

enum acl_status
acl__eval_linear(const struct acl_ruleset *rs, const struct acl_request *req,
    struct acl_decision *out)
{
	struct acl_evalctx c;
	int t;
	size_t i;

	memset(out, 0, sizeof(*out));
	out->verdict = ACL_GRANT;
	acl_eval_ctx_init(&c, rs, req);
	for (t = 0; t < 2; t++) {
		const struct acl_tab *tab = &rs->tabs[t];

		for (i = 0; i < tab->nrules; i++) {
			enum acl_m m = acl_eval_rule_match(&c, &tab->rules[i]);

			if (m != ACL_M_NO)
				return acl_eval_settle(
				    out, m, &tab->rules[i], t);
		}
		if (tab->term && t == 1) {
			acl_eval_decide_deny_error(out, tab);
			return ACL_DONE;
		}
	}
	return ACL_DONE;
}
