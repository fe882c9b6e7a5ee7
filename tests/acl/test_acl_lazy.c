/*
 * test_acl_lazy.c - look-ups happen exactly when libwrap would do them
 * (semantics E3/E4): evaluation asks for a name or the user only when the
 * first pattern that needs it is reached, never for rules whose daemon
 * list failed, never for exception lists whose head did not match, and
 * the user only after the host part of user@host matched.  Restarting with
 * the fact filled in must continue on the same path.
 */
#include "acl_test.h"

struct lazy_case {
	const char *deny;
	struct t_req req;
	/* What each evaluation returns as the facts are filled in turn. */
	const char *steps[4];
	/* Facts supplied after each need (client name, server name, user). */
	const char *cname, *sname, *user;
};

static const struct lazy_case lazy_cases[] = {
    {"ftpd: .example.com", {"sshd", "10.0.0.1"}, {"grant:none:0"}},
    {"sshd: .example.com", {"sshd", "10.0.0.1"}, {"need-client", "deny:deny:1"},
        "a.example.com"},
    {"sshd: .example.com", {"sshd", "10.0.0.1"},
        {"need-client", "grant:none:0"}, "a.example.org"},
    {"sshd: ALL", {"sshd", "10.0.0.1"}, {"deny:deny:1"}},
    {"sshd: 10.0.0.1 .example.com", {"sshd", "10.0.0.1"}, {"deny:deny:1"}},
    /* wrapd tries address items first: no look-up (documented). */
    {"sshd: .example.com 10.0.0.1", {"sshd", "10.0.0.1"}, {"deny:deny:1"}},
    {"sshd: .example.com 10.0.0.1", {"sshd", "10.0.0.2"},
        {"need-client", "grant:none:0"}, "x.example.org"},
    {"sshd: joe@10.0.0.0/8", {"sshd", "11.0.0.1"}, {"grant:none:0"}},
    {"sshd: joe@10.0.0.0/8", {"sshd", "10.0.0.1"}, {"need-user", "deny:deny:1"},
        .user = "joe"},
    {"sshd: joe@10.0.0.0/8", {"sshd", "10.0.0.1"},
        {"need-user", "grant:none:0"}, .user = "unknown"},
    {"sshd: joe@.example.com", {"sshd", "10.0.0.1"},
        {"need-client", "need-user", "deny:deny:1"}, "a.example.com",
        .user = "joe"},
    {"sshd: joe@.example.com", {"sshd", "10.0.0.1"},
        {"need-client", "grant:none:0"}, "a.example.org"},
    {"sshd: ALL EXCEPT .evil.com", {"sshd", "10.0.0.1"},
        {"need-client", "grant:none:0"}, "x.evil.com"},
    {"sshd: 10.0.0.0/8 EXCEPT .evil.com", {"sshd", "11.0.0.1"},
        {"grant:none:0"}},
    {"sshd: 10.0.0.0/8 EXCEPT joe@ALL", {"sshd", "11.0.0.1"}, {"grant:none:0"}},
    {"sshd: 10.0.0.0/8 EXCEPT joe@ALL", {"sshd", "10.0.0.1"},
        {"need-user", "deny:deny:1"}, .user = "bob"},
    {"sshd@.srv.com: ALL", {"sshd", "10.0.0.1", .saddr = "10.0.0.9"},
        {"need-server", "deny:deny:1"}, .sname = "a.srv.com"},
    {"sshd@.srv.com: ALL", {"sshd", "10.0.0.1"}, {"grant:none:0"}},
    {"ftpd@.srv.com: ALL", {"sshd", "10.0.0.1", .saddr = "10.0.0.9"},
        {"grant:none:0"}},
    {"sshd@.srv.com: .cl.com", {"sshd", "10.0.0.1", .saddr = "10.0.0.9"},
        {"need-server", "need-client", "deny:deny:1"}, "a.cl.com", "a.srv.com"},
    {"sshd: KNOWN", {"sshd", "10.0.0.1"}, {"need-client", "deny:deny:1"},
        "h.dom"},
    {"sshd: LOCAL", {"sshd", "10.0.0.1"}, {"need-client", "deny:deny:1"}, "h"},
    {"sshd: @grp", {"sshd", "10.0.0.1"}, {"need-client", "grant:none:0"}, "h"},
    {"sshd: PARANOID", {"sshd", "10.0.0.1"}, {"need-client", "deny:deny:1"},
        "paranoid"},
    {"sshd: UNKNOWN", {"sshd", "10.0.0.1"}, {"need-client", "deny:deny:1"},
        "unknown"},
    {"sshd: KNOWN", {"sshd", NULL}, {"grant:none:0"}},
    {"sshd: 10.0.0.*", {"sshd", "10.0.0.1"}, {"deny:deny:1"}},
    {"sshd: 10.0.0.*", {"sshd", "11.0.0.1"}, {"need-client", "grant:none:0"},
        "h"},
    {"sshd: 10.0.0.", {"sshd", "11.0.0.1"}, {"grant:none:0"}},
    {"sshd: .1", {"sshd", "11.0.0.2"}, {"grant:none:0"}},
    {"sshd: [::1]", {"sshd", "10.0.0.1"}, {"grant:none:0"}},
    {"sshd: [::1]/128", {"sshd", "10.0.0.1"}, {"grant:none:0"}},
    /* Rule order: the first rule needs the name before rule 2 matches. */
    {"sshd: .a.com\nsshd: 10.0.0.1", {"sshd", "10.0.0.1"},
        {"need-client", "deny:deny:2"}, "b.com"},
    /* A name already known is used, not asked for. */
    {"sshd: .a.com", {"sshd", "10.0.0.1", "x.a.com"}, {"deny:deny:1"}},
};

static void
test_lazy_cases(void **state)
{
	size_t i, k;
	int fails = 0;

	(void)state;
	for (i = 0; i < sizeof(lazy_cases) / sizeof(lazy_cases[0]); i++) {
		const struct lazy_case *c = &lazy_cases[i];
		char rules[256];
		struct acl_ruleset *rs;
		struct acl_request r;
		struct acl_decision d;
		char buf[64];

		snprintf(rules, sizeof rules, "%s\n", c->deny);
		rs = t_load("", rules);
		t_request(&r, &c->req);
		for (k = 0; k < 4 && c->steps[k] != NULL; k++) {
			enum acl_status st =
			    acl_eval(rs, &r, ACL_TABLE_ALLOW, &d);
			const char *got = t_describe(st, &d, buf, sizeof buf);

			if (strcmp(got, c->steps[k]) != 0) {
				fprintf(stderr,
				    "\"%s\" step %zu: got %s, want "
				    "%s\n",
				    c->deny, k, got, c->steps[k]);
				fails++;
				break;
			}
			/* The same state must give the same answer again. */
			assert_int_equal(
			    acl_eval(rs, &r, ACL_TABLE_ALLOW, &d), st);
			if (st == ACL_NEED_CLIENT_NAME)
				r.client.name = c->cname;
			else if (st == ACL_NEED_SERVER_NAME)
				r.server.name = c->sname;
			else if (st == ACL_NEED_USER)
				r.user = c->user;
			else if (c->steps[k + 1] != NULL) {
				fprintf(stderr, "\"%s\": done too early\n",
				    c->deny);
				fails++;
				break;
			}
		}
		acl_ruleset_unref(rs);
	}
	assert_int_equal(fails, 0);
}

/* The allow table's needs come before anything in the deny table. */
static void
test_lazy_tables(void **state)
{
	struct acl_ruleset *rs = t_load("sshd: joe@ALL\n", "sshd: .x.com\n");
	struct acl_request r;
	struct acl_decision d;

	(void)state;
	t_request(&r, &(struct t_req){"sshd", "10.0.0.1"});
	assert_int_equal(acl_eval(rs, &r, ACL_TABLE_ALLOW, &d), ACL_NEED_USER);
	/* Starting at the deny table skips the allow table's need. */
	assert_int_equal(
	    acl_eval(rs, &r, ACL_TABLE_DENY, &d), ACL_NEED_CLIENT_NAME);
	r.user = "bob";
	assert_int_equal(
	    acl_eval(rs, &r, ACL_TABLE_ALLOW, &d), ACL_NEED_CLIENT_NAME);
	r.client.name = "a.x.com";
	assert_int_equal(acl_eval(rs, &r, ACL_TABLE_ALLOW, &d), ACL_DONE);
	assert_int_equal(d.verdict, ACL_DENY);
	acl_ruleset_unref(rs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lazy_cases),
	    cmocka_unit_test(test_lazy_tables),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
