/*
 * test_acl_expand.c - % expansions (semantics G): every letter, unknown
 * letters, the trailing %, sanitising of expanded values (never of the
 * template), the 8190-character limit, and which facts an expansion needs.
 */
#include <errno.h>

#include "acl_test.h"

struct exp_case {
	const char *tmpl;
	struct t_req req;
	int cport;
	const char *expect; /* NULL: the status below */
	int status;
};

static const struct exp_case exp_cases[] = {
    {"%a %A", {"d", "10.0.0.1", .saddr = "10.0.0.2"}, 0, "10.0.0.1 10.0.0.2"},
    {"%a", {"d", NULL}, 0, "unknown"},
    {"%a", {"d", "::ffff:10.0.0.1"}, 0, "10.0.0.1"},
    {"%a", {"d", "2001:DB8::1"}, 0, "2001:db8::1"},
    {"%h", {"d", "10.0.0.1"}, 0, "10.0.0.1"},
    {"%h", {"d", "10.0.0.1", "a.example.com"}, 0, "a.example.com"},
    {"%h", {"d", "10.0.0.1", "paranoid"}, 0, "10.0.0.1"},
    {"%h", {"d", "10.0.0.1", "unknown"}, 0, "10.0.0.1"},
    {"%H", {"d", "10.0.0.1", .saddr = "10.0.0.2", .sname = "srv"}, 0, "srv"},
    {"%n", {"d", "10.0.0.1", "paranoid"}, 0, "paranoid"},
    {"%n", {"d", "10.0.0.1"}, 0, NULL, ACL_NEED_CLIENT_NAME},
    {"%n", {"d", NULL}, 0, "unknown"},
    {"%N", {"d", "10.0.0.1", .saddr = "10.0.0.2"}, 0, NULL,
        ACL_NEED_SERVER_NAME},
    {"%N", {"d", "10.0.0.1"}, 0, "unknown"},
    {"%u", {"d", "10.0.0.1"}, 0, NULL, ACL_NEED_USER},
    {"%u", {"d", "10.0.0.1", .user = "joe"}, 0, "joe"},
    {"%c", {"d", "10.0.0.1"}, 0, "10.0.0.1"},
    {"%c", {"d", "10.0.0.1", "h.dom", "joe"}, 0, "joe@h.dom"},
    {"%c", {"d", "10.0.0.1", .user = "unknown"}, 0, "10.0.0.1"},
    {"%s", {"sshd", "10.0.0.1", .saddr = "10.0.0.2"}, 0, "sshd@10.0.0.2"},
    {"%s", {"sshd", "10.0.0.1"}, 0, "sshd"},
    {"%s", {"sshd", "10.0.0.1", .saddr = "10.0.0.2", .sname = "srv"}, 0,
        "sshd@srv"},
    {"%d", {NULL, "10.0.0.1"}, 0, "unknown"},
    {"%p", {"d", "10.0.0.1"}, 0, "4242"},
    {"%r:%R", {"d", "10.0.0.1", .sport = 22}, 40000, "40000:22"},
    {"%r:%R", {"d", "10.0.0.1"}, 0, "0:0"},
    {"100%%", {"d", "10.0.0.1"}, 0, "100%"},
    {"a%xb", {"d", "10.0.0.1"}, 0, "ab"},
    {"a% b", {"d", "10.0.0.1"}, 0, "ab"},
    {"a%", {"d", "10.0.0.1"}, 0, "a%"},
    {"%%%", {"d", "10.0.0.1"}, 0, "%%"},
    {"; rm -rf / `x` $(y) %u", {"d", "10.0.0.1", .user = "a b;c|d&e$f`g"}, 0,
        "; rm -rf / `x` $(y) a_b_c_d_e_f_g"},
    {"%u", {"d", "10.0.0.1", .user = "\xc3\xa9t\xc3\xa9"}, 0, "__t__"},
    {"%u", {"d", "10.0.0.1", .user = "'\"()<>*?[]{}~#^\\\t"}, 0,
        "_________________"},
    {"%u", {"d", "10.0.0.1", .user = "ok!@%-_=+:,./Az09"}, 0,
        "ok!@%-_=+:,./Az09"},
    {"%h", {"d", "10.0.0.1", "evil;name"}, 0, "evil_name"},
    {"%d", {"in.fingerd;x", "10.0.0.1"}, 0, "in.fingerd_x"},
};

static void
test_exp_cases(void **state)
{
	size_t i;
	int fails = 0;

	(void)state;
	for (i = 0; i < sizeof(exp_cases) / sizeof(exp_cases[0]); i++) {
		const struct exp_case *c = &exp_cases[i];
		struct acl_request r;
		char out[256];
		int st;

		t_request(&r, &c->req);
		if (c->cport > 0)
			r.client.port = c->cport;
		memset(out, 0, sizeof out);
		st = acl_expand(c->tmpl, &r, out, sizeof out);
		if (c->expect != NULL
		        ? (st != ACL_DONE || strcmp(out, c->expect) != 0)
		        : st != c->status) {
			fprintf(stderr, "expand \"%s\": status %d \"%s\"\n",
			    c->tmpl, st, st == ACL_DONE ? out : "");
			fails++;
		}
	}
	assert_int_equal(fails, 0);
}

/* libwrap's limit: 8190 characters fit, 8191 do not. */
static void
test_exp_limit(void **state)
{
	char *tmpl = malloc(9000), *out = malloc(ACL_EXPAND_MAX);
	struct acl_request r;
	char small[8];

	(void)state;
	t_request(&r, &(struct t_req){"d", "10.0.0.1"});
	memset(tmpl, 'x', 8190);
	tmpl[8190] = '\0';
	assert_int_equal(acl_expand(tmpl, &r, out, ACL_EXPAND_MAX), ACL_DONE);
	assert_int_equal(strlen(out), 8190);
	tmpl[8190] = 'x';
	tmpl[8191] = '\0';
	errno = 0;
	assert_int_equal(acl_expand(tmpl, &r, out, ACL_EXPAND_MAX), -1);
	assert_int_equal(errno, E2BIG);
	/* Also when an expansion pushes it over. */
	memset(tmpl, 'x', 8185);
	strcpy(tmpl + 8185, "%a");
	assert_int_equal(acl_expand(tmpl, &r, out, ACL_EXPAND_MAX), -1);
	strcpy(tmpl + 8180, "%a");
	assert_int_equal(acl_expand(tmpl, &r, out, ACL_EXPAND_MAX), ACL_DONE);
	/* And the caller's buffer bounds it too. */
	assert_int_equal(
	    acl_expand("1234567", &r, small, sizeof small), ACL_DONE);
	assert_int_equal(acl_expand("12345678", &r, small, sizeof small), -1);
	free(tmpl);
	free(out);
}

static void
test_exp_needs(void **state)
{
	(void)state;
	assert_int_equal(acl_expand_needs("echo %a %h %c %H %s %d %p %r"), 0);
	assert_int_equal(acl_expand_needs("%n"), ACL_NEEDS_CLIENT_NAME);
	assert_int_equal(
	    acl_expand_needs("%N %u"), ACL_NEEDS_SERVER_NAME | ACL_NEEDS_USER);
	assert_int_equal(acl_expand_needs("%%n"), 0);
	assert_int_equal(acl_expand_needs("%"), 0);
	assert_int_equal(acl_expand_needs(NULL), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_exp_cases),
	    cmocka_unit_test(test_exp_limit),
	    cmocka_unit_test(test_exp_needs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
