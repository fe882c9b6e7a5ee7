/*
 * fuzz_rules.c - hosts.allow / hosts.deny parsing and evaluation.
 *
 * Input: one flag byte, then table text.  Flag bit 0: lint on; bit 1:
 * split the text into allow and deny at the first "\xff\xff" (else it is
 * all hosts.allow).  Every load is evaluated for a few fixed requests,
 * answering each ACL_NEED_* with a fixed fact until the decision is done
 * (GeoIP facts found, in no network, or failed), and the matched rule's
 * option values are expanded.  Invariants checked: evaluation ends, a
 * decision names a rule of the right table, a table error or a fact error
 * (which denies), GeoIP facts are asked for only by rules that use them,
 * and expansions stay within their buffer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"

static void
fuzz_check(int cond)
{
	if (!cond)
		abort();
}

static void
fuzz_name_cb(
    void *arg, const char *file, unsigned line, unsigned col, const char *name)
{
	size_t *n = arg;

	fuzz_check(file != NULL && name != NULL && line > 0 && col > 0);
	*n += strlen(name);
}

static void
fuzz_eval(const struct acl_ruleset *rs, const char *daemon, const char *addr,
    const char *name, const char *user, int sport, const struct acl_geo *geo)
{
	struct acl_request req;
	struct acl_decision d;
	enum acl_status st;
	int steps = 0;
	char out[ACL_EXPAND_MAX];
	size_t i;

	acl_request_init(&req);
	req.daemon = daemon;
	if (addr != NULL)
		acl_addr_parse(&req.client.addr, addr);
	acl_addr_parse(&req.server.addr, "127.0.0.1");
	req.server.port = sport;
	req.client.port = 40000;
	req.pid = 1;
	while ((st = acl_eval(rs, &req, ACL_TABLE_ALLOW, &d)) != ACL_DONE) {
		/* Each fact is asked for at most once; a need never grants. */
		fuzz_check(++steps <= 4 && d.verdict == ACL_DENY);
		if (st == ACL_NEED_CLIENT_NAME) {
			fuzz_check(req.client.name == NULL);
			req.client.name = name;
		} else if (st == ACL_NEED_SERVER_NAME) {
			fuzz_check(req.server.name == NULL);
			req.server.name = "localhost";
		} else if (st == ACL_NEED_GEO) {
			fuzz_check(acl_ruleset_geo_uses(rs) != 0);
			fuzz_check(req.geo.country_state == ACL_GEO_UNASKED ||
			    req.geo.asn_state == ACL_GEO_UNASKED);
			req.geo = *geo;
		} else {
			fuzz_check(st == ACL_NEED_USER && req.user == NULL);
			req.user = user;
		}
	}
	if (d.table_error || d.fact_error) {
		fuzz_check(d.verdict == ACL_DENY && d.error_file != NULL &&
		    d.rule == NULL && !(d.table_error && d.fact_error));
		return;
	}
	if (d.rule == NULL) {
		fuzz_check(d.verdict == ACL_GRANT && d.table == ACL_TABLE_NONE);
		return;
	}
	fuzz_check(d.table == ACL_TABLE_ALLOW || d.table == ACL_TABLE_DENY);
	if (d.rule->opt_error != NULL)
		fuzz_check(d.verdict == ACL_DENY);
	for (i = 0; i < d.rule->nopts; i++) {
		const char *v = d.rule->opts[i].value;
		int rc;

		if (v == NULL)
			continue;
		(void)acl_expand_needs(v);
		rc = acl_expand(v, &req, out, sizeof out);
		if (rc == ACL_DONE)
			fuzz_check(strlen(out) < sizeof out);
		rc = acl_expand(v, &req, out, 16);
		if (rc == ACL_DONE)
			fuzz_check(strlen(out) < 16);
	}
}

static void
fuzz_one(const char *a, size_t alen, const char *d, size_t dlen, int lint)
{
	struct acl_diags dg = {0};
	struct acl_ruleset *rs;
	size_t n = 0, i;

	rs = acl_ruleset_load_mem(
	    "hosts.allow", a, alen, "hosts.deny", d, dlen, lint, &dg);
	if (rs == NULL) {
		acl_diags_free(&dg);
		return;
	}
	for (i = 0; i < dg.n; i++)
		fuzz_check(dg.v[i].file != NULL && dg.v[i].msg != NULL);
	fuzz_eval(rs, "sshd", "10.0.0.1", "host.example.com", "joe", 22,
	    &(struct acl_geo){ACL_GEO_FOUND, ACL_GEO_FOUND, "DE", 3320});
	fuzz_eval(rs, "in.fingerd", "2001:db8::1", "paranoid", "unknown", 79,
	    &(struct acl_geo){ACL_GEO_FAILED, ACL_GEO_FOUND, "", 64500});
	fuzz_eval(rs, NULL, NULL, "unknown", "root", -1,
	    &(struct acl_geo){ACL_GEO_NONE, ACL_GEO_NONE, "", 0});
	fuzz_eval(rs, "ftpd", "::ffff:192.168.1.1", "local", "a b;c", 21,
	    &(struct acl_geo){ACL_GEO_FOUND, ACL_GEO_FAILED, "us", 0});
	acl_ruleset_foreach_hostname(rs, fuzz_name_cb, &n);
	for (i = 0; i < acl_ruleset_rule_count(rs, ACL_TABLE_ALLOW); i++)
		fuzz_check(acl_ruleset_rule(rs, ACL_TABLE_ALLOW, i) != NULL);
	acl_ruleset_unref(rs);
	acl_diags_free(&dg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text, *sep = NULL;
	size_t len, i;
	int flags;

	if (size < 1)
		return 0;
	flags = data[0];
	text = (const char *)data + 1;
	len = size - 1;
	if (flags & 2) {
		for (i = 0; i + 1 < len; i++) {
			if ((uint8_t)text[i] == 0xff &&
			    (uint8_t)text[i + 1] == 0xff) {
				sep = text + i;
				break;
			}
		}
	}
	if (sep != NULL)
		fuzz_one(text, (size_t)(sep - text), sep + 2,
		    len - (size_t)(sep - text) - 2, flags & 1);
	else
		fuzz_one(text, len, "", 0, flags & 1);
	return 0;
}
