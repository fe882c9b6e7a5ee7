/*
 * test_acl_geo.c - the GeoIP patterns country=XX and asn=N: how they are
 * read (errors and warnings at file:line:col), how they match the facts
 * the caller gives (lists, EXCEPT, /file, user@), what happens without a
 * fact (ACL_NEED_GEO) and without an answer (the request is denied where
 * the rules reach it), and that the index decides as the linear scan does.
 */
#include "acl_test.h"

/* ---------------------------------------------------------------------
 * Reading.
 */
enum t_sev {
	T_NONE,
	T_WARN,
	T_ERR
};

struct parse_case {
	const char *deny;
	enum t_sev sev;
	const char *text; /* in the one diagnostic expected */
	unsigned col;
};

static const struct parse_case parse_cases[] = {
    {"ALL: country=DE", T_NONE, NULL, 0},
    {"ALL: country=de", T_NONE, NULL, 0},
    {"ALL: COUNTRY=De", T_NONE, NULL, 0},
    {"ALL: country=XX", T_NONE, NULL, 0}, /* user-assigned */
    {"ALL: country=xk", T_NONE, NULL, 0},
    {"ALL: country=ZZ", T_NONE, NULL, 0},
    {"ALL: country=AA", T_NONE, NULL, 0},
    {"ALL: country=QM", T_NONE, NULL, 0},
    {"ALL: asn=1", T_NONE, NULL, 0},
    {"ALL: asn=4294967295", T_NONE, NULL, 0},
    {"ALL: ASN=0013335", T_NONE, NULL, 0},
    {"ALL: country=UK", T_WARN, "GB", 6},
    {"ALL: country=QB", T_WARN, "not an ISO 3166-1 country code", 6},
    {"ALL: country=EU", T_WARN, "not an ISO 3166-1 country code", 6},
    {"ALL: country=D", T_ERR, "not a country", 6},
    {"ALL: country=DEU", T_ERR, "not a country", 6},
    {"ALL: country=", T_ERR, "not a country", 6},
    {"ALL: country=1A", T_ERR, "not a country", 6},
    {"ALL: country=D-", T_ERR, "not a country", 6},
    {"ALL: country=\xc3\x89S", T_ERR, "not a country", 6},
    {"ALL: country=DE/24", T_ERR, "not a country", 6},
    {"ALL: asn=0", T_ERR, "not an AS number", 6},
    {"ALL: asn=", T_ERR, "not an AS number", 6},
    {"ALL: asn=4294967296", T_ERR, "not an AS number", 6},
    /* 2^64 + 1: a 64-bit wrap would make it 1. */
    {"ALL: asn=18446744073709551617", T_ERR, "not an AS number", 6},
    {"ALL: asn=99999999999999999999999999999", T_ERR, "not an AS number", 6},
    {"ALL: asn=AS13335", T_ERR, "without \"AS\"", 6},
    {"ALL: asn=-1", T_ERR, "not an AS number", 6},
    {"ALL: asn=+1", T_ERR, "not an AS number", 6},
    {"ALL: asn=1x", T_ERR, "not an AS number", 6},
    {"ALL: asn=0x10", T_ERR, "not an AS number", 6},
    {"sshd, ftpd: 10.0.0.1, country=D", T_ERR, "not a country", 23},
    {"ALL: joe@country=D", T_ERR, "not a country", 10},
    {"ALL: 10.0.0.1 EXCEPT asn=0", T_ERR, "not an AS number", 22},
    /* The server side: the facts are the client's. */
    {"sshd@country=DE: ALL", T_ERR, "about the client", 6},
    {"sshd@asn=0: ALL", T_ERR, "not an AS number", 6},
    /* Only the prefix makes a GeoIP pattern; daemon names are names. */
    {"ALL: foo.country=DE", T_NONE, NULL, 0},
    {"country=DE: ALL", T_NONE, NULL, 0},
};

static void
test_geo_parse(void **state)
{
	size_t i;
	int fails = 0;

	(void)state;
	for (i = 0; i < sizeof parse_cases / sizeof parse_cases[0]; i++) {
		const struct parse_case *c = &parse_cases[i];
		struct acl_diags dg = {0};
		struct acl_ruleset *rs;
		char deny[256];
		bool ok;

		snprintf(deny, sizeof deny, "%s\n", c->deny);
		rs = t_load_n("", 0, deny, strlen(deny), false, &dg);
		if (c->sev == T_NONE)
			ok = dg.n == 0;
		else
			ok = dg.n == 1 &&
			    dg.v[0].severity ==
			        (c->sev == T_ERR ? ACL_SEV_ERROR
			                         : ACL_SEV_WARNING) &&
			    t_has_diag(&dg, 1, c->col, c->text) &&
			    strcmp(dg.v[0].file, "hosts.deny") == 0;
		if (!ok) {
			fprintf(stderr, "case \"%s\":\n", c->deny);
			t_dump_diags(&dg);
			fails++;
		}
		acl_diags_free(&dg);
		acl_ruleset_unref(rs);
	}
	assert_int_equal(fails, 0);
}

/* Rules that need a database the caller does not have are errors. */
static void
test_geo_no_database(void **state)
{
	static const char list[] = "10.0.0.2\n  asn=64500\n";
	const char *file = t_tmpfile(2, list, sizeof list - 1);
	const char *allow = t_tmpfile(0, "", 0);
	char deny_text[512];
	const char *deny;
	struct acl_load_opts lo;
	struct acl_diags dg = {0};
	struct acl_ruleset *rs;

	(void)state;
	snprintf(deny_text, sizeof deny_text,
	    "ALL: 10.0.0.1\nsshd: country=DE, asn=3320\nftpd: %s\n", file);
	deny = t_tmpfile(1, deny_text, strlen(deny_text));
	memset(&lo, 0, sizeof lo);
	lo.allow_path = allow;
	lo.deny_path = deny;

	/* No database at all. */
	rs = acl_ruleset_load(&lo, &dg);
	assert_non_null(rs);
	assert_int_equal(
	    acl_ruleset_geo_uses(rs), ACL_GEO_COUNTRY | ACL_GEO_ASN);
	assert_int_equal(acl_diags_errors(&dg), 3);
	assert_true(t_has_diag(&dg, 2, 7, "no GeoIP country database"));
	assert_true(t_has_diag(&dg, 2, 19, "no GeoIP ASN database"));
	assert_true(t_has_diag(&dg, 2, 3, "no GeoIP ASN database"));
	assert_true(t_has_diag(&dg, 2, 3, "--geoip-asn"));
	acl_diags_free(&dg);
	acl_ruleset_unref(rs);

	/* Only a country database. */
	lo.geo = ACL_GEO_COUNTRY;
	rs = acl_ruleset_load(&lo, &dg);
	assert_int_equal(acl_diags_errors(&dg), 2);
	assert_false(t_has_diag(&dg, 0, 0, "country database"));
	acl_diags_free(&dg);
	acl_ruleset_unref(rs);

	/* Both. */
	lo.geo = ACL_GEO_COUNTRY | ACL_GEO_ASN;
	rs = acl_ruleset_load(&lo, &dg);
	assert_int_equal(dg.n, 0);
	acl_diags_free(&dg);
	acl_ruleset_unref(rs);

	/* A plain libwrap rule set needs none. */
	lo.geo = 0;
	lo.deny_path = allow;
	rs = acl_ruleset_load(&lo, &dg);
	assert_int_equal(dg.n, 0);
	assert_int_equal(acl_ruleset_geo_uses(rs), 0);
	acl_ruleset_unref(rs);
	unlink(file);
	unlink(deny);
	unlink(allow);
}

/* ---------------------------------------------------------------------
 * Matching: one table, one request, the outcome (acl_test.h t_describe).
 */
struct geo_case {
	const char *allow, *deny;
	struct t_req req;
	const char *want;
};

#define DE(c, a)                                                               \
	{                                                                      \
		"sshd", "10.0.0.1", .country = (c), .asn = (a)                 \
	}
#define DEU(c, a, u)                                                           \
	{                                                                      \
		"sshd", "10.0.0.1", .user = (u), .country = (c), .asn = (a)    \
	}

static const struct geo_case geo_cases[] = {
    /* One pattern, each state of its fact. */
    {"", "ALL: country=DE\n", DE("DE", 1), "deny:deny:1"},
    {"", "ALL: country=DE\n", DE("de", 1), "deny:deny:1"},
    {"", "ALL: country=de\n", DE("DE", 1), "deny:deny:1"},
    {"", "ALL: country=DE\n", DE("FR", 1), "grant:none:0"},
    {"", "ALL: country=DE\n", DE("", 1), "grant:none:0"},
    {"", "ALL: country=DE\n", DE(NULL, 1), "need-geo"},
    {"", "ALL: country=DE\n", DE("!", 1), "deny:deny:1:fact"},
    {"", "ALL: country=DE\n", DE("D\xc5", 1), "grant:none:0"},
    {"", "ALL: asn=3320\n", DE("DE", 3320), "deny:deny:1"},
    {"", "ALL: asn=3320\n", DE("DE", 3321), "grant:none:0"},
    {"", "ALL: asn=3320\n", DE("DE", -1), "grant:none:0"},
    {"", "ALL: asn=3320\n", DE("DE", 0), "need-geo"},
    {"", "ALL: asn=3320\n", DE("DE", -2), "deny:deny:1:fact"},
    {"", "ALL: asn=4294967295\n", DE("DE", 4294967295LL), "deny:deny:1"},
    /* The country fact does not matter to asn= and the other way. */
    {"", "ALL: asn=3320\n", DE("!", 3320), "deny:deny:1"},
    {"", "ALL: asn=3320\n", DE(NULL, 1), "grant:none:0"},
    {"", "ALL: country=DE\n", DE("DE", -2), "deny:deny:1"},
    /* Lists: another item that matches outvotes a fact without answer. */
    {"", "ALL: 10.0.0.1, country=DE\n", DE("!", -2), "deny:deny:1"},
    {"", "ALL: 10.0.0.9, country=DE\n", DE("!", -2), "deny:deny:1:fact"},
    {"", "ALL: country=DE asn=3320\n", DE("DE", -2), "deny:deny:1"},
    {"", "ALL: country=DE asn=3320\n", DE("FR", -2), "deny:deny:1:fact"},
    {"", "ALL: country=FR asn=3320\n", DE("DE", 3320), "deny:deny:1"},
    {"", "ALL: country=FR asn=3320\n", DE("DE", 1), "grant:none:0"},
    /* EXCEPT. */
    {"", "ALL: country=DE EXCEPT asn=3320\n", DE("DE", 3320), "grant:none:0"},
    {"", "ALL: country=DE EXCEPT asn=3320\n", DE("DE", 1), "deny:deny:1"},
    {"", "ALL: country=DE EXCEPT asn=3320\n", DE("FR", 3320), "grant:none:0"},
    {"", "ALL: country=DE EXCEPT asn=3320\n", DE("DE", -1), "deny:deny:1"},
    {"", "ALL: country=DE EXCEPT asn=3320\n", DE("DE", -2), "deny:deny:1:fact"},
    {"", "ALL: country=DE EXCEPT asn=3320\n", DE("FR", -2), "grant:none:0"},
    {"", "ALL: ALL EXCEPT country=DE\n", DE("DE", 1), "grant:none:0"},
    {"", "ALL: ALL EXCEPT country=DE\n", DE("FR", 1), "deny:deny:1"},
    {"", "ALL: ALL EXCEPT country=DE\n", DE("", 1), "deny:deny:1"},
    {"", "ALL: ALL EXCEPT country=DE\n", DE("!", 1), "deny:deny:1:fact"},
    {"", "ALL: ALL EXCEPT country=DE EXCEPT 10.0.0.1\n", DE("DE", 1),
        "deny:deny:1"},
    /* user@: the host part first, then the user. */
    {"", "ALL: joe@country=DE\n", DEU("DE", 1, "joe"), "deny:deny:1"},
    {"", "ALL: joe@country=DE\n", DEU("DE", 1, "bob"), "grant:none:0"},
    {"", "ALL: joe@country=DE\n", DEU("DE", 1, NULL), "need-user"},
    {"", "ALL: joe@country=DE\n", DEU("FR", 1, NULL), "grant:none:0"},
    {"", "ALL: joe@asn=3320\n", DEU("FR", -2, NULL), "deny:deny:1:fact"},
    /* A rule never reached, or whose daemons do not match: no fact. */
    {"", "ftpd: country=DE\n", DE("!", -2), "grant:none:0"},
    {"", "ALL: 10.0.0.1\nALL: country=DE\n", DE("!", 1), "deny:deny:1"},
    {"", "ALL: 10.0.0.2\nALL: country=DE\n", DE("!", 1), "deny:deny:2:fact"},
    {"sshd: 10.0.0.1\n", "ALL: country=DE\n", DE("!", 1), "grant:allow:1"},
    /* In hosts.allow a fact error denies all the same. */
    {"sshd: country=DE\n", "", DE("!", 1), "deny:allow:1:fact"},
    {"sshd: country=DE\n", "", DE("DE", 1), "grant:allow:1"},
    {"sshd: country=DE\n", "ALL: ALL\n", DE("FR", 1), "deny:deny:1"},
    /* GeoIP items take no network: tried before the name. */
    {"", "ALL: .example.com, country=DE\n", DE(NULL, 1), "need-geo"},
    {"", "ALL: .example.com, country=DE\n", DE("DE", 1), "deny:deny:1"},
    {"", "ALL: .example.com, country=DE\n", DE("FR", 1), "need-client"},
    /* daemon@country=: an error at load; reaching it denies. */
    {"", "sshd@country=DE: ALL\n", DE("DE", 1), "deny:deny:1:fact"},
    {"", "sshd@country=DE: ALL\n", DE("", -1), "deny:deny:1:fact"},
    /* A bad value: an error at load; reaching it denies. */
    {"", "ALL: asn=0\n", DE("DE", 1), "deny:deny:1:fact"},
    {"", "ALL: 10.0.0.1 asn=0\n", DE("DE", 1), "deny:deny:1"},
    /* Not GeoIP patterns. */
    {"", "ALL: foo.country=DE\n", DE("DE", 1), "need-client"},
    {"", "country=DE: ALL\n", {"country=de", "10.0.0.1"}, "deny:deny:1"},
};

static void
test_geo_match(void **state)
{
	size_t i;
	int fails = 0;

	(void)state;
	for (i = 0; i < sizeof geo_cases / sizeof geo_cases[0]; i++) {
		const struct geo_case *c = &geo_cases[i];
		struct acl_ruleset *rs = t_load(c->allow, c->deny);
		struct acl_request r;
		struct acl_decision d1, d2;
		char b1[128], b2[128];
		const char *g1, *g2;

		t_request(&r, &c->req);
		g1 = t_describe(
		    acl_eval(rs, &r, ACL_TABLE_ALLOW, &d1), &d1, b1, sizeof b1);
		g2 = t_describe(
		    acl__eval_linear(rs, &r, &d2), &d2, b2, sizeof b2);
		if (strcmp(g1, c->want) != 0 || strcmp(g2, c->want) != 0) {
			fprintf(stderr,
			    "allow \"%s\" deny \"%s\" country %s asn %lld: "
			    "got %s (linear %s), want %s\n",
			    c->allow, c->deny,
			    c->req.country ? c->req.country : "(unasked)",
			    c->req.asn, g1, g2, c->want);
			fails++;
		}
		acl_ruleset_unref(rs);
	}
	assert_int_equal(fails, 0);
}

/* A need leaves a decision that denies: a caller ignoring it fails closed. */
static void
test_geo_need_denies(void **state)
{
	struct acl_ruleset *rs = t_load("sshd: country=DE\n", "");
	struct acl_request r;
	struct acl_decision d;

	(void)state;
	t_request(&r, &(struct t_req){"sshd", "10.0.0.1"});
	assert_int_equal(acl_eval(rs, &r, ACL_TABLE_ALLOW, &d), ACL_NEED_GEO);
	assert_int_equal(d.verdict, ACL_DENY);
	assert_null(d.rule);
	/* Asked again in the same state: the same answer. */
	assert_int_equal(acl_eval(rs, &r, ACL_TABLE_ALLOW, &d), ACL_NEED_GEO);
	r.geo.country_state = ACL_GEO_FOUND;
	memcpy(r.geo.country, "DE", 3);
	assert_int_equal(acl_eval(rs, &r, ACL_TABLE_ALLOW, &d), ACL_DONE);
	assert_int_equal(d.verdict, ACL_GRANT);
	assert_false(d.fact_error);
	/* A fact error names the rule that reached it. */
	r.geo.country_state = ACL_GEO_FAILED;
	assert_int_equal(acl_eval(rs, &r, ACL_TABLE_ALLOW, &d), ACL_DONE);
	assert_int_equal(d.verdict, ACL_DENY);
	assert_true(d.fact_error);
	assert_false(d.table_error);
	assert_string_equal(d.error_file, "hosts.allow");
	assert_int_equal(d.error_line, 1);
	acl_ruleset_unref(rs);
}

/* ---------------------------------------------------------------------
 * /file lists: one pattern a line, GeoIP ones too.
 */
static void
test_geo_file(void **state)
{
	static const char list[] = "10.0.0.1\ncountry=DE\n\tasn=64500\n"
	                           ".example.com\n";
	static const char geo_only[] = "country=FR\nasn=3215\n";
	static const char bad[] = "10.0.0.1\ncountry=FRA\n";
	const char *file = t_tmpfile(3, list, sizeof list - 1);
	const char *file2 = t_tmpfile(4, geo_only, sizeof geo_only - 1);
	const char *file3 = t_tmpfile(5, bad, sizeof bad - 1);
	struct {
		const char *deny_fmt;
		struct t_req req;
		const char *want;
	} cases[] = {
	    {"ALL: %s\n", {"sshd", "10.0.0.9", .country = "DE", .asn = 1},
	        "deny:deny:1"},
	    {"ALL: %s\n", {"sshd", "10.0.0.9", .country = "FR", .asn = 64500},
	        "deny:deny:1"},
	    {"ALL: %s\n", {"sshd", "10.0.0.9", .country = "FR", .asn = 1},
	        "need-client"},
	    {"ALL: %s\n",
	        {"sshd", "10.0.0.9", "a.example.com", .country = "FR",
	            .asn = 1},
	        "deny:deny:1"},
	    {"ALL: %s\n",
	        {"sshd", "10.0.0.9", "a.example.org", .country = "FR",
	            .asn = 1},
	        "grant:none:0"},
	    {"ALL: %s\n", {"sshd", "10.0.0.9", .asn = 1}, "need-geo"},
	    {"ALL: %s\n", {"sshd", "10.0.0.1", .country = "!", .asn = -2},
	        "deny:deny:1"},
	    {"ALL: %s\n",
	        {"sshd", "10.0.0.9", "a.example.com", .country = "!",
	            .asn = -2},
	        "deny:deny:1"},
	    {"ALL: %s\n",
	        {"sshd", "10.0.0.9", "a.example.org", .country = "!", .asn = 1},
	        "deny:deny:1:fact"},
	    {"ALL: joe@%s\n",
	        {"sshd", "10.0.0.9", .user = "joe", .country = "DE", .asn = 1},
	        "deny:deny:1"},
	    {"ALL: joe@%s\n",
	        {"sshd", "10.0.0.9", .user = "bob", .country = "DE", .asn = 1},
	        "grant:none:0"},
	    {"ALL: ALL EXCEPT %s\n",
	        {"sshd", "10.0.0.9", .country = "DE", .asn = 1},
	        "grant:none:0"},
	};
	size_t i;
	int fails = 0;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char deny[256], b1[128], b2[128];
		struct acl_ruleset *rs;
		struct acl_request r;
		struct acl_decision d1, d2;
		const char *g1, *g2;

		snprintf(deny, sizeof deny, cases[i].deny_fmt, file);
		rs = t_load("", deny);
		assert_int_equal(
		    acl_ruleset_geo_uses(rs), ACL_GEO_COUNTRY | ACL_GEO_ASN);
		t_request(&r, &cases[i].req);
		g1 = t_describe(
		    acl_eval(rs, &r, ACL_TABLE_ALLOW, &d1), &d1, b1, sizeof b1);
		g2 = t_describe(
		    acl__eval_linear(rs, &r, &d2), &d2, b2, sizeof b2);
		if (strcmp(g1, cases[i].want) != 0 ||
		    strcmp(g2, cases[i].want) != 0) {
			fprintf(stderr, "case %zu (%s): got %s (linear %s)\n",
			    i, deny, g1, g2);
			fails++;
		}
		acl_ruleset_unref(rs);
	}
	assert_int_equal(fails, 0);

	/* A /file of GeoIP patterns only: the rule is found by index. */
	{
		char deny[256];
		struct acl_ruleset *rs;

		snprintf(deny, sizeof deny, "ALL: 10.0.0.3\nALL: %s\n", file2);
		rs = t_load("", deny);
		assert_true(rs->tabs[1].rules[1].indexed);
		assert_int_equal(rs->tabs[1].nalways, 0);
		assert_int_equal(rs->tabs[1].ngeo_ids[0], 1);
		assert_int_equal(rs->tabs[1].ngeo_ids[1], 1);
		assert_int_equal(
		    acl_ruleset_geo_uses(rs), ACL_GEO_COUNTRY | ACL_GEO_ASN);
		assert_string_equal(t_eval(rs,
		                        &(struct t_req){"sshd", "10.0.0.9",
		                            .country = "FR", .asn = 1}),
		    "deny:deny:2");
		assert_string_equal(t_eval(rs,
		                        &(struct t_req){"sshd", "10.0.0.9",
		                            .country = "DE", .asn = 3215}),
		    "deny:deny:2");
		assert_string_equal(t_eval(rs,
		                        &(struct t_req){"sshd", "10.0.0.9",
		                            .country = "DE", .asn = 1}),
		    "grant:none:0");
		acl_ruleset_unref(rs);
	}

	/*
	 * A bad word of a /file, and GeoIP words in daemon@/file: an error
	 * where it is written; a request that reaches it is denied there
	 * (the address word of the first still matches).
	 */
	{
		const struct {
			const char *fmt, *file;
			unsigned line, col;
			const char *text, *addr, *want;
		} errs[] = {
		    {"ALL: %s\n", file3, 2, 1, "not a country", "10.0.0.1",
		        "deny:deny:1"},
		    {"ALL: %s\n", file3, 2, 1, "not a country", "10.0.0.2",
		        "deny:deny:1:fact"},
		    {"sshd@%s: ALL\n", file2, 1, 6, "about the client",
		        "10.0.0.2", "deny:deny:1:fact"},
		};

		for (i = 0; i < sizeof errs / sizeof errs[0]; i++) {
			char deny[256];
			struct acl_diags dg = {0};
			struct acl_ruleset *rs;

			snprintf(deny, sizeof deny, errs[i].fmt, errs[i].file);
			rs = t_load_n("", 0, deny, strlen(deny), false, &dg);
			assert_int_equal(acl_diags_errors(&dg), 1);
			assert_true(t_has_diag(
			    &dg, errs[i].line, errs[i].col, errs[i].text));
			assert_string_equal(
			    t_eval(rs,
			        &(struct t_req){
			            "sshd", errs[i].addr, .country = "FR"}),
			    errs[i].want);
			acl_diags_free(&dg);
			acl_ruleset_unref(rs);
		}
	}
	unlink(file);
	unlink(file2);
	unlink(file3);
}

/* ---------------------------------------------------------------------
 * The index must never change a decision.
 */
/* Patterns from a small space, so that rules overlap often. */
static void
rand_pattern(char *buf, size_t n, const char *file)
{
	static const char *const pats[] = {"country=DE", "country=FR",
	    "country=de", "country=US", "asn=3320", "asn=64500",
	    "asn=4294967295", "10.0.0.0", "10.0.0.1", "10.0.0.2", "10.0.0.0/30",
	    "10.0.0.0/31", "joe@country=DE", "joe@country=fr", ".example.com",
	    "ALL", "asn=0", /* an error: denies when reached */
	    NULL,           /* the /file */
	    NULL};
	const char *p = pats[pick(sizeof pats / sizeof pats[0])];

	snprintf(buf, n, "%s", p != NULL ? p : file);
}

static char *
rand_table(unsigned nrules, const char *file)
{
	size_t cap = 256 * (nrules + 1), o = 0;
	char *t = malloc(cap);
	unsigned i, k;

	assert_non_null(t);
	for (i = 0; i < nrules; i++) {
		char p[64];
		unsigned nitems = 1 + pick(3);

		o += (size_t)snprintf(
		    t + o, cap - o, "%s:", pick(3) ? "ALL" : "ftpd");
		for (k = 0; k < nitems; k++) {
			rand_pattern(p, sizeof p, file);
			o += (size_t)snprintf(t + o, cap - o, " %s", p);
		}
		if (pick(4) == 0) {
			rand_pattern(p, sizeof p, file);
			o += (size_t)snprintf(t + o, cap - o, " EXCEPT %s", p);
		}
		o += (size_t)snprintf(t + o, cap - o, "\n");
	}
	t[o] = '\0';
	return t;
}

static void
rand_facts(struct t_req *q)
{
	static const char *const cs[] = {
	    NULL, "", "!", "DE", "FR", "de", "US", "JP"};
	static const long long as[] = {0, -1, -2, 3320, 64500, 4294967295LL, 7};
	static const char *const names[] = {NULL, "a.example.com", "b.org"};
	static const char *const users[] = {NULL, "joe", "bob"};
	static char addr[32];

	snprintf(addr, sizeof addr, "10.0.0.%u", pick(4));
	memset(q, 0, sizeof *q);
	q->daemon = pick(4) ? "sshd" : "ftpd";
	q->caddr = addr;
	q->cname = names[pick(3)];
	q->user = users[pick(3)];
	q->country = cs[pick(8)];
	q->asn = as[pick(7)];
}

static void
test_geo_index_equivalence(void **state)
{
	static const char fdata[] = "country=FR asn=3320 10.0.0.3\n";
	static const char fdata2[] = "asn=64500 .example.com\n";
	const char *file = t_tmpfile(6, fdata, sizeof fdata - 1);
	const char *file2 = t_tmpfile(7, fdata2, sizeof fdata2 - 1);
	unsigned round, q, diffs = 0, indexed = 0, geo_ids = 0;

	(void)state;
	rng_state = 0x2545f4914f6cdd1dull;
	for (round = 0; round < 300; round++) {
		char *allow = rand_table(pick(8), pick(2) ? file : file2);
		char *deny = rand_table(pick(30), pick(2) ? file : file2);
		struct acl_ruleset *rs = t_load(allow, deny);
		size_t t, i;

		for (t = 0; t < 2; t++) {
			for (i = 0; i < rs->tabs[t].nrules; i++)
				indexed += rs->tabs[t].rules[i].indexed;
			geo_ids += (unsigned)(rs->tabs[t].ngeo_ids[0] +
			    rs->tabs[t].ngeo_ids[1]);
		}
		for (q = 0; q < 60; q++) {
			struct t_req tq;
			struct acl_request r;
			struct acl_decision d1, d2;
			enum acl_status s1, s2;

			rand_facts(&tq);
			t_request(&r, &tq);
			s1 = acl_eval(rs, &r, ACL_TABLE_ALLOW, &d1);
			s2 = acl__eval_linear(rs, &r, &d2);
			if (s1 != s2 ||
			    (s1 == ACL_DONE &&
			        (d1.rule != d2.rule ||
			            d1.verdict != d2.verdict ||
			            d1.table != d2.table ||
			            d1.fact_error != d2.fact_error ||
			            d1.error_line != d2.error_line))) {
				if (diffs++ < 5)
					fprintf(stderr,
					    "diff for %s country %s asn %lld: "
					    "%d/%u vs "
					    "%d/%u\nallow:\n%sdeny:\n%s",
					    tq.caddr,
					    tq.country ? tq.country : "-",
					    tq.asn, (int)s1,
					    d1.rule ? d1.rule->line
					            : d1.error_line,
					    (int)s2,
					    d2.rule ? d2.rule->line
					            : d2.error_line,
					    allow, deny);
			}
		}
		acl_ruleset_unref(rs);
		free(allow);
		free(deny);
	}
	/* The generator must exercise the GeoIP keys of the index. */
	assert_true(indexed > 500);
	assert_true(geo_ids > 500);
	assert_int_equal(diffs, 0);
	unlink(file);
	unlink(file2);
}

/* 10,000 rules of every kind: every one is found through the index. */
static void
test_geo_big(void **state)
{
	enum {
		N = 10000
	};
	size_t cap = (size_t)N * 40, o = 0;
	char *deny = malloc(cap);
	struct acl_ruleset *rs;
	unsigned i;

	(void)state;
	assert_non_null(deny);
	for (i = 0; i < N; i++) {
		if (i % 3 == 0)
			o += (size_t)snprintf(deny + o, cap - o,
			    "ALL: country=%c%c\n", 'A' + i / 26 % 26,
			    'A' + i % 26);
		else if (i % 3 == 1)
			o += (size_t)snprintf(
			    deny + o, cap - o, "ALL: asn=%u\n", 100000 + i);
		else
			o += (size_t)snprintf(deny + o, cap - o,
			    "ALL: 10.%u.%u.%u\n", i >> 16, (i >> 8) & 255,
			    i & 255);
	}
	deny[o] = '\0';
	rs = t_load("", deny);
	assert_int_equal(rs->tabs[1].nalways, 0);
	/* The first rule with a country decides, not a later duplicate. */
	assert_string_equal(
	    t_eval(rs,
	        &(struct t_req){"sshd", "11.0.0.1", .country = "AA", .asn = 1}),
	    "deny:deny:1");
	assert_string_equal(t_eval(rs,
	                        &(struct t_req){"sshd", "11.0.0.1",
	                            .country = "", .asn = 100000 + 9997}),
	    "deny:deny:9998");
	assert_string_equal(t_eval(rs,
	                        &(struct t_req){"sshd", "10.0.39.14",
	                            .country = "", .asn = -1}),
	    "deny:deny:9999");
	assert_string_equal(
	    t_eval(rs,
	        &(struct t_req){"sshd", "11.0.0.1", .country = "", .asn = -1}),
	    "grant:none:0");
	/* Without an answer, the first GeoIP rule denies: line 1 or 2. */
	assert_string_equal(t_eval(rs,
	                        &(struct t_req){"sshd", "11.0.0.1",
	                            .country = "DE", .asn = -2}),
	    "deny:deny:2:fact");
	acl_ruleset_unref(rs);
	free(deny);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_geo_parse),
	    cmocka_unit_test(test_geo_no_database),
	    cmocka_unit_test(test_geo_match),
	    cmocka_unit_test(test_geo_need_denies),
	    cmocka_unit_test(test_geo_file),
	    cmocka_unit_test(test_geo_index_equivalence),
	    cmocka_unit_test(test_geo_big),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
