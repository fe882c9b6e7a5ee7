/*
 * test_acl_lint.c - diagnostics: what libwrap itself reports (always), the
 * tcpdchk-style checks (lint only), their line and column, shadowed rules,
 * scanning past table-ending errors, and the host-name introspection.
 */
#include "acl_test.h"

struct lint_case {
	const char *text; /* hosts.deny */
	unsigned line, col;
	const char *msg; /* substring expected with lint */
	bool always;     /* also reported without lint */
};

static const struct lint_case lint_cases[] = {
    {"sshd 10.0.0.1\n", 1, 0, "missing \":\"", true},
    {"sshd: ALL : bogus\n", 1, 13, "bad option name", true},
    {"sshd: 2001:db8::1\n", 1, 7, "unbracketed IPv6", false},
    {"sshd: ALL EXCEPT [::1] 10.0.0.1 fe80::1\n", 1, 33, "unbracketed IPv6",
        false},
    {"sshd:\n", 1, 0, "empty client list", false},
    {" , : ALL\n", 1, 0, "empty daemon list", false},
    {"sshd: EXCEPT 10.0.0.1\n", 1, 7, "starts with EXCEPT", false},
    {"sshd: ALL EXCEPT\n", 1, 11, "ends in EXCEPT", false},
    {"sshd: 10.0.0.1/24\n", 1, 7, "host bits", false},
    {"sshd: 10.0.0.0/33\n", 1, 7, "bad net/mask", false},
    {"sshd: 10.0.0.1/255.255.255.255\n", 1, 7, "bad net/mask", false},
    {"sshd: 10.0.0/8\n", 1, 7, "bad net/mask", false},
    {"sshd: [::1/128\n", 1, 7, "bad bracketed", false},
    {"sshd: [::1]x/128\n", 1, 7, "bad IPv6", false},
    {"sshd: [::1]/200\n", 1, 7, "prefix length", false},
    {"x, @grp@ALL: ALL\n", 1, 4, "daemon pattern \"@grp\" starts with", false},
    {"/bin/sshd: ALL\n", 1, 1, "starts with \"/\"", false},
    {".d: ALL\n", 1, 1, "starts with a dot", false},
    {"d.: ALL\n", 1, 1, "ends in a dot", false},
    {"sshd: @joe@ALL\n", 1, 7, "user pattern", false},
    {"sshd: .10.0.0.1\n", 1, 7, "numeric pattern", false},
    {"sshd:\thost.example.com.\n", 1, 7, "ends in a dot", false},
    {"sshd: FAIL\n", 1, 7, "FAIL is obsolete", false},
    {"sshd: [junk]\n", 1, 7, "bad bracketed", false},
    {"sshd: ALL\nsshd: ALL\n", 2, 1, "line 1 matches", false},
    {"ALL: ALL : deny\nsshd, ftpd: 10.0.0.1 : allow\n", 2, 1, "line 1 matches",
        false},
    {"sshd: 10.0.0.0/8\nsshd: 10.1.2.3 10.2.0.0/16\n", 2, 1, "line 1 matches",
        false},
    {"sshd: 10.0.0.0/8 .x.com\nsshd: .x.com 10.1.\n", 2, 1, "line 1 matches",
        false},
    {"ALL: ALL\nsshd: ALL EXCEPT 10.0.0.1\n", 2, 1, "line 1 matches", false},
    {"sshd: 10.0.0.0/24 : deny\nsshd: 10.0.0.5\n", 2, 1, "line 1 matches",
        false},
    {"ftpd: 10.0.0.5\nALL: 10.0.0.\nsshd: [::1]\nsshd: 10.0.0.5\n", 4, 1,
        "line 2 matches", false},
    {"ALL: [2001:db8::]/32\nsshd: [2001:db8::1]\n", 2, 1, "line 1 matches",
        false},
    {"sshd: 10.0.0.1 # office\n", 1, 16, "comment only in column 1", false},
    {" #sshd: ALL\n", 1, 2, "\"#sshd\": a \"#\" starts a comment", false},
    {"sshd: 192.168.1\n", 1, 7, "\"192.168.1\" is not a net", false},
    {"sshd: alice@10.1\n", 1, 13, "\"10.1\" is not a net", false},
    {"sshd: 10.0.0.5 10\n", 1, 16, "\"10\" is not a net", false},
};

static void
test_lint_cases(void **state)
{
	size_t i;
	int fails = 0;

	(void)state;
	for (i = 0; i < sizeof(lint_cases) / sizeof(lint_cases[0]); i++) {
		const struct lint_case *c = &lint_cases[i];
		struct acl_diags on = {0}, off = {0};
		struct acl_ruleset *rs;

		rs = t_load_n("", 0, c->text, strlen(c->text), true, &on);
		acl_ruleset_unref(rs);
		rs = t_load_n("", 0, c->text, strlen(c->text), false, &off);
		acl_ruleset_unref(rs);
		if (!t_has_diag(&on, c->line, c->col, c->msg) ||
		    t_has_diag(&off, 0, 0, c->msg) != c->always) {
			fprintf(stderr, "lint \"%s\": want %u:%u %s\n", c->text,
			    c->line, c->col, c->msg);
			t_dump_diags(&on);
			fails++;
		}
		acl_diags_free(&on);
		acl_diags_free(&off);
	}
	assert_int_equal(fails, 0);
}

/* No unbracketed-IPv6 warning for things that only look like one. */
static void
test_not_v6(void **state)
{
	static const char *const texts[] = {
	    "sshd: ALL :: allow\n",
	    "sshd: [2001:db8::1] [::]/0 : spawn echo 12:30\n",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		struct acl_diags dg = {0};
		struct acl_ruleset *rs =
		    t_load_n("", 0, texts[i], strlen(texts[i]), true, &dg);

		assert_false(t_has_diag(&dg, 0, 0, "unbracketed"));
		acl_ruleset_unref(rs);
		acl_diags_free(&dg);
	}
}

/* Rules that must NOT be called shadowed. */
static void
test_not_shadowed(void **state)
{
	static const char *const texts[] = {
	    "ALL: ALL EXCEPT 10.0.0.1\nsshd: 10.0.0.2\n",
	    "ALL EXCEPT ftpd: ALL\nsshd: 10.0.0.2\n",
	    "ALL: ALL : aclexec /bin/true\nsshd: 10.0.0.2\n",
	    "sshd: 10.0.0.0/16\nsshd: 10.0.0.0/8\n",
	    "sshd: 10.0.0.1\nftpd: 10.0.0.1\n",
	    "sshd: joe@ALL\nsshd: ALL\n",
	    "sshd@10.0.0.1: ALL\nsshd: ALL\n",
	    "sshd: 10.0.0.0/8\nsshd: 10.0.0.1 .x.com\n",
	    "sshd: 10.0.0.0/8 EXCEPT 10.0.0.7\nsshd: 10.0.0.1\n",
	    "ftpd: 10.0.0.0/8\nsshd: 10.0.0.1\n",
	    "sshd: 10.0.0.0/24\nsshd: 10.0.0.0/16\n",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		struct acl_diags dg = {0};
		struct acl_ruleset *rs =
		    t_load_n("", 0, texts[i], strlen(texts[i]), true, &dg);

		if (t_has_diag(&dg, 0, 0, "never decides")) {
			fprintf(stderr, "wrongly shadowed: %s", texts[i]);
			t_dump_diags(&dg);
		}
		assert_false(t_has_diag(&dg, 0, 0, "never decides"));
		acl_ruleset_unref(rs);
		acl_diags_free(&dg);
	}
}

/* Lint goes on after a table-ending error, the rule set does not. */
static void
test_lint_past_errors(void **state)
{
	char *text = malloc(4000);
	struct acl_diags on = {0}, off = {0};
	struct acl_ruleset *rs;
	size_t o;

	(void)state;
	o = (size_t)sprintf(text, "sshd: 10.0.0.1\nfoo: ");
	memset(text + o, 'x', 2100);
	o += 2100;
	sprintf(text + o, "\nftpd: 10.0.0.1/24\nbar: ALL : bogus\nx: y");
	rs = t_load_n("", 0, text, strlen(text), true, &on);
	assert_int_equal(acl_ruleset_rule_count(rs, ACL_TABLE_DENY), 1);
	assert_true(t_has_diag(&on, 2, 0, "line too long"));
	assert_true(t_has_diag(&on, 3, 7, "host bits"));
	assert_true(t_has_diag(&on, 4, 12, "bad option name"));
	assert_true(t_has_diag(&on, 5, 0, "missing newline"));
	acl_ruleset_unref(rs);
	rs = t_load_n("", 0, text, strlen(text), false, &off);
	assert_int_equal(acl_ruleset_rule_count(rs, ACL_TABLE_DENY), 1);
	assert_int_equal(off.n, 1);
	assert_int_equal(acl_diags_errors(&off), 1);
	acl_ruleset_unref(rs);
	acl_diags_free(&on);
	acl_diags_free(&off);
	free(text);
}

/* Lint of a 100k-line blocklist stays linear and finds the duplicate. */
static void
test_lint_big(void **state)
{
	char *text = malloc(100000 * 32 + 64);
	size_t o = 0;
	unsigned i;
	struct acl_diags dg = {0};
	struct acl_ruleset *rs;

	(void)state;
	for (i = 0; i < 100000; i++)
		o += (size_t)sprintf(text + o, "ALL: 10.%u.%u.%u\n", i >> 16,
		    (i >> 8) & 255, i & 255);
	o += (size_t)sprintf(text + o, "sshd: 10.0.1.2\n");
	rs = t_load_n("", 0, text, o, true, &dg);
	assert_int_equal(dg.n, 1);
	assert_true(t_has_diag(&dg, 100001, 1, "line 259 matches"));
	acl_ruleset_unref(rs);
	acl_diags_free(&dg);
	free(text);
}

/* Columns on continued lines count from their own physical line. */
static void
test_columns_continued(void **state)
{
	const char *text = "sshd: ALL \\\n  EXCEPT 10.0.0.1/8\n";
	struct acl_diags dg = {0};
	struct acl_ruleset *rs = t_load_n("", 0, text, strlen(text), true, &dg);

	(void)state;
	assert_true(t_has_diag(&dg, 2, 10, "host bits"));
	acl_ruleset_unref(rs);
	acl_diags_free(&dg);
}

struct names {
	char buf[512];
};

static void
collect(
    void *arg, const char *file, unsigned line, unsigned col, const char *name)
{
	struct names *n = arg;
	size_t o = strlen(n->buf);

	snprintf(n->buf + o, sizeof n->buf - o, "%s:%u:%u:%s ", file, line, col,
	    name);
}

static void
test_foreach_hostname(void **state)
{
	struct acl_ruleset *rs = t_load(
	    "sshd@srv.example.com: a.example.com "
	    ".dom www. *.x joe@b.example.com 10.0.0.1 [::1] KNOWN unknown "
	    "@grp\n",
	    "ALL: host\n");
	struct names n = {{0}};

	(void)state;
	acl_ruleset_foreach_hostname(rs, collect, &n);
	assert_string_equal(n.buf,
	    "hosts.allow:1:6:srv.example.com "
	    "hosts.allow:1:23:a.example.com hosts.allow:1:55:b.example.com "
	    "hosts.deny:1:6:host ");
	acl_ruleset_unref(rs);
}

/* Daemon patterns no configured daemon name matches (check --config). */
static void
test_foreach_unused_daemon(void **state)
{
	static const char *const daemons[] = {"sshd", "in.ftpd"};
	struct acl_ruleset *rs = t_load(
	    "sshd, in.fptd, ALL EXCEPT telnetd: ALL\n"
	    "in.*, ssh?, *x, 22, KNOWN: ALL\n",
	    "sshd@10.0.0.1, mail@10.0.0.2: ALL\n");
	struct names n = {{0}};

	(void)state;
	acl_ruleset_foreach_unused_daemon(rs, daemons, 2, collect, &n);
	assert_string_equal(n.buf,
	    "hosts.allow:1:7:in.fptd hosts.allow:1:27:telnetd "
	    "hosts.allow:2:13:*x hosts.deny:1:16:mail ");
	acl_ruleset_unref(rs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lint_cases),
	    cmocka_unit_test(test_not_shadowed),
	    cmocka_unit_test(test_not_v6),
	    cmocka_unit_test(test_lint_past_errors),
	    cmocka_unit_test(test_columns_continued),
	    cmocka_unit_test(test_lint_big),
	    cmocka_unit_test(test_foreach_hostname),
	    cmocka_unit_test(test_foreach_unused_daemon),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
