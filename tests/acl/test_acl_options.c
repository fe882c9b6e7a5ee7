/*
 * test_acl_options.c - the option text after the second colon (semantics
 * F): field splitting, "\:", keyword/value separation, every keyword and
 * its checks, the errors that make a match deny, and the verdict the
 * allow/deny/twist keywords give.
 */
#include <syslog.h>

#include "acl_test.h"

static const struct acl_rule *
first_rule(struct acl_ruleset *rs)
{
	const struct acl_rule *r = acl_ruleset_rule(rs, ACL_TABLE_ALLOW, 0);

	assert_non_null(r);
	return r;
}

struct opt_case {
	const char *opts;    /* after "sshd: ALL :" */
	const char *error;   /* substring of opt_error, or NULL */
	size_t nopts;        /* options before the error */
	const char *verdict; /* decision when the rule matches (allow table) */
};

static const struct opt_case opt_cases[] = {
    {" allow", NULL, 1, "grant:allow:1"},
    {" deny", NULL, 1, "deny:allow:1"},
    {" DENY", NULL, 1, "deny:allow:1"},
    {" twist echo hi", NULL, 1, "twist:allow:1"},
    {" spawn echo %a", NULL, 1, "grant:allow:1"},
    {" spawn echo a\\:b : deny", NULL, 2, "deny:allow:1"},
    {"", "missing option name", 0, "deny:allow:1"},
    {" spawn x :", "missing option name", 1, "deny:allow:1"},
    {" spawn x :: allow", "missing option name", 1, "deny:allow:1"},
    {" bogus", "bad option name", 0, "deny:allow:1"},
    {" allow : spawn x", "must be at end", 0, "deny:allow:1"},
    {" deny : allow", "must be at end", 0, "deny:allow:1"},
    {" twist x : spawn y", "must be at end", 0, "deny:allow:1"},
    {" spawn", "value required", 0, "deny:allow:1"},
    {" twist", "value required", 0, "deny:allow:1"},
    {" aclexec", "value required", 0, "deny:allow:1"},
    {" setenv", "value required", 0, "deny:allow:1"},
    {" banners", "value required", 0, "deny:allow:1"},
    {" allow x", "requires no value", 0, "deny:allow:1"},
    {" keepalive 1", "requires no value", 0, "deny:allow:1"},
    {" keepalive : allow", NULL, 2, "grant:allow:1"},
    {" linger 5", NULL, 1, "grant:allow:1"},
    {" linger 0", NULL, 1, "grant:allow:1"},
    {" linger -1", "bad linger value", 0, "deny:allow:1"},
    {" linger x", "bad linger value", 0, "deny:allow:1"},
    {" linger 5x", "bad linger value", 0, "deny:allow:1"},
    {" linger", "value required", 0, "deny:allow:1"},
    {" rfc931", NULL, 1, "grant:allow:1"},
    {" rfc931 3", NULL, 1, "grant:allow:1"},
    {" rfc931 0", "bad rfc931 timeout", 0, "deny:allow:1"},
    {" rfc931 -3", "bad rfc931 timeout", 0, "deny:allow:1"},
    {" rfc931 1.5", "bad rfc931 timeout", 0, "deny:allow:1"},
    {" nice", NULL, 1, "grant:allow:1"},
    {" nice -5", NULL, 1, "grant:allow:1"},
    {" nice = 5", NULL, 1, "grant:allow:1"},
    {" nice five", "bad nice value", 0, "deny:allow:1"},
    {" umask 022", NULL, 1, "grant:allow:1"},
    {" umask 0777", NULL, 1, "grant:allow:1"},
    {" umask 1000", "bad umask", 0, "deny:allow:1"},
    {" umask 8", "bad umask", 0, "deny:allow:1"},
    {" umask 0x1", "bad umask", 0, "deny:allow:1"},
    {" severity auth.info", NULL, 1, "grant:allow:1"},
    {" severity=LOCAL0.Debug", NULL, 1, "grant:allow:1"},
    {" severity warning", NULL, 1, "grant:allow:1"},
    {" severity auth", "bad syslog", 0, "deny:allow:1"},
    {" severity bogus.info", "bad syslog", 0, "deny:allow:1"},
    {" severity auth.bogus", "bad syslog", 0, "deny:allow:1"},
    {" user root", NULL, 1, "grant:allow:1"},
    {" user root.root", NULL, 1, "grant:allow:1"},
    {" user nosuchuser-wrapd", "unknown user", 0, "deny:allow:1"},
    {" user root.nosuchgroup-wrapd", "unknown group", 0, "deny:allow:1"},
    {" group root", NULL, 1, "grant:allow:1"},
    {" group nosuchgroup-wrapd", "unknown group", 0, "deny:allow:1"},
    {" setenv FOO bar baz", NULL, 1, "grant:allow:1"},
    {" setenv FOO=bar", "bad setenv name", 0, "deny:allow:1"},
    {" setenv A=%u x", "bad setenv name", 0, "deny:allow:1"},
    {" setenv %x", "bad setenv name", 0, "deny:allow:1"},
    {" setenv %x FOO bar", NULL, 1, "grant:allow:1"},
    {" setenv %u x", NULL, 1, "grant:allow:1"},
    {" setenv A%=B x", NULL, 1, "grant:allow:1"},
    {" setenv A%%=B x", "bad setenv name", 0, "deny:allow:1"},
    {" banners /tmp", NULL, 1, "grant:allow:1"},
    {" aclexec /bin/true : allow", NULL, 2, "grant:allow:1"},
    {" Spawn echo : ALLOW", NULL, 2, "grant:allow:1"},
    {" spawn echo : bogus : allow", "bad option name", 1, "deny:allow:1"},
};

static void
test_opt_cases(void **state)
{
	size_t i;
	int fails = 0;

	(void)state;
	for (i = 0; i < sizeof(opt_cases) / sizeof(opt_cases[0]); i++) {
		const struct opt_case *c = &opt_cases[i];
		char text[256];
		struct acl_ruleset *rs;
		const struct acl_rule *r;
		const char *got;

		snprintf(text, sizeof text, "sshd: ALL :%s\n", c->opts);
		rs = t_load(text, "");
		r = first_rule(rs);
		got = t_eval(rs, &(struct t_req){"sshd", "1.2.3.4"});
		if ((c->error == NULL) != (r->opt_error == NULL) ||
		    (c->error != NULL &&
		        strstr(r->opt_error, c->error) == NULL) ||
		    r->nopts != c->nopts || strcmp(got, c->verdict) != 0) {
			fprintf(stderr,
			    "options \"%s\": error %s, nopts %zu, "
			    "%s\n",
			    c->opts, r->opt_error ? r->opt_error : "(none)",
			    r->nopts, got);
			fails++;
		}
		acl_ruleset_unref(rs);
	}
	assert_int_equal(fails, 0);
}

/* Values, numbers and columns as parsed. */
static void
test_opt_values(void **state)
{
	struct acl_ruleset *rs =
	    t_load("sshd: ALL : spawn  echo a\\:b  : "
	           "nice=7 : rfc931 : severity local3.notice : umask 027 : "
	           "setenv X %n y : linger 3 : twist /bin/echo %u\n",
	        "");
	const struct acl_rule *r = first_rule(rs);

	(void)state;
	assert_null(r->opt_error);
	assert_int_equal(r->nopts, 8);
	assert_int_equal(r->opts[0].kind, ACL_OPT_SPAWN);
	assert_string_equal(r->opts[0].value, "echo a:b");
	assert_int_equal(r->opts[0].col, 13);
	assert_int_equal(r->opts[1].kind, ACL_OPT_NICE);
	assert_int_equal(r->opts[1].num, 7);
	assert_int_equal(r->opts[2].kind, ACL_OPT_RFC931);
	assert_null(r->opts[2].value);
	assert_int_equal(r->opts[2].num, 10);
	assert_int_equal(r->opts[3].kind, ACL_OPT_SEVERITY);
	assert_int_equal(r->opts[3].severity, LOG_LOCAL3 | LOG_NOTICE);
	assert_int_equal(r->opts[4].num, 027);
	assert_string_equal(r->opts[5].value, "X %n y");
	assert_int_equal(r->opts[6].num, 3);
	assert_int_equal(r->opts[7].kind, ACL_OPT_TWIST);
	/* %n (setenv), %u (twist) and rfc931 need facts. */
	assert_int_equal(r->opt_needs, ACL_NEEDS_CLIENT_NAME | ACL_NEEDS_USER);
	assert_string_equal(acl_parse_opt_name(ACL_OPT_ACLEXEC), "aclexec");
	assert_string_equal(acl_parse_opt_name(ACL_OPT_KEEPALIVE), "keepalive");
	acl_ruleset_unref(rs);
}

/* Option errors deny even in hosts.allow, and are reported at load. */
static void
test_opt_error_denies(void **state)
{
	struct acl_diags dg = {0};
	const char *allow = "sshd: ALL : spawn x : nice bad\nftpd: ALL\n";
	struct acl_ruleset *rs = t_load_n(
	    allow, strlen(allow), "ALL: ALL : allow\n", 17, false, &dg);
	const struct acl_rule *r = first_rule(rs);

	(void)state;
	assert_string_equal(
	    t_eval(rs, &(struct t_req){"sshd", "1.2.3.4"}), "deny:allow:1");
	assert_string_equal(
	    t_eval(rs, &(struct t_req){"ftpd", "1.2.3.4"}), "grant:allow:2");
	assert_int_equal(r->nopts, 1);
	assert_int_equal(r->opt_error_col, 23);
	assert_true(t_has_diag(&dg, 1, 23, "bad nice value"));
	assert_int_equal(acl_diags_errors(&dg), 1);
	acl_ruleset_unref(rs);
	acl_diags_free(&dg);
}

/* In hosts.deny, allow grants; plain rules keep the table's meaning. */
static void
test_opt_deny_table(void **state)
{
	struct acl_ruleset *rs = t_load("",
	    "sshd: ALL : allow\n"
	    "ftpd: ALL : spawn echo\nfingerd: ALL : twist echo no\n");

	(void)state;
	assert_string_equal(
	    t_eval(rs, &(struct t_req){"sshd", "1.2.3.4"}), "grant:deny:1");
	assert_string_equal(
	    t_eval(rs, &(struct t_req){"ftpd", "1.2.3.4"}), "deny:deny:2");
	assert_string_equal(
	    t_eval(rs, &(struct t_req){"fingerd", "1.2.3.4"}), "twist:deny:3");
	acl_ruleset_unref(rs);
}

/* The caller restarts in the deny table after a failed aclexec. */
static void
test_start_deny(void **state)
{
	struct acl_ruleset *rs =
	    t_load("sshd: ALL : aclexec /bin/false\n", "sshd: 10.0.0.0/8\n");
	struct acl_request req;
	struct acl_decision d;
	char buf[64];

	(void)state;
	t_request(&req, &(struct t_req){"sshd", "10.0.0.1"});
	assert_int_equal(acl_eval(rs, &req, ACL_TABLE_ALLOW, &d), ACL_DONE);
	assert_string_equal(
	    t_describe(ACL_DONE, &d, buf, sizeof buf), "grant:allow:1");
	assert_int_equal(d.rule->opts[0].kind, ACL_OPT_ACLEXEC);
	assert_int_equal(acl_eval(rs, &req, ACL_TABLE_DENY, &d), ACL_DONE);
	assert_string_equal(
	    t_describe(ACL_DONE, &d, buf, sizeof buf), "deny:deny:1");
	t_request(&req, &(struct t_req){"sshd", "11.0.0.1"});
	assert_int_equal(acl_eval(rs, &req, ACL_TABLE_DENY, &d), ACL_DONE);
	assert_string_equal(
	    t_describe(ACL_DONE, &d, buf, sizeof buf), "grant:none:0");
	acl_ruleset_unref(rs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_opt_cases),
	    cmocka_unit_test(test_opt_values),
	    cmocka_unit_test(test_opt_error_denies),
	    cmocka_unit_test(test_opt_deny_table),
	    cmocka_unit_test(test_start_deny),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
