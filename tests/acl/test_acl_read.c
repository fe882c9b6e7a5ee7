/*
 * test_acl_read.c - reading tables as libwrap's xgets()/table_match() do:
 * continuations, comments, blank lines, the 2046-character limit, a
 * missing final newline, NUL bytes, lines without a colon, and what a
 * broken or unopenable table does to the decision (semantics A3-A5, B).
 */
#include <errno.h>
#include <sys/stat.h>

#include "acl_test.h"

struct read_case {
	const char *name;
	const char *allow;
	size_t alen; /* 0: strlen */
	const char *deny;
	size_t dlen;
	struct t_req req;
	const char *expect;
};

static const struct read_case read_cases[] = {
    {"plain deny", "", 0, "sshd: 10.0.0.1\n", 0, {"sshd", "10.0.0.1"},
        "deny:deny:1"},
    {"no match grants", "", 0, "sshd: 10.0.0.2\n", 0, {"sshd", "10.0.0.1"},
        "grant:none:0"},
    {"allow first", "sshd: 10.0.0.1\n", 0, "ALL: ALL\n", 0,
        {"sshd", "10.0.0.1"}, "grant:allow:1"},
    {"continuation joins", "", 0, "ss\\\nhd: 10.0.0.1\n", 0,
        {"sshd", "10.0.0.1"}, "deny:deny:1"},
    {"continuation keeps leading blanks", "", 0, "sshd:\\\n 10.0.0.1\n", 0,
        {"sshd", "10.0.0.1"}, "deny:deny:1"},
    {"backslash CR LF is no continuation", "", 0, "ss\\\r\nhd: 10.0.0.1\n", 0,
        {"sshd", "10.0.0.1"}, "grant:none:0"},
    {"backslash blank LF is no continuation", "", 0, "ss\\ \nhd: 10.0.0.1\n", 0,
        {"hd", "10.0.0.1"}, "deny:deny:2"},
    {"comment swallows continued line", "", 0, "# comment \\\nsshd: 10.0.0.1\n",
        0, {"sshd", "10.0.0.1"}, "grant:none:0"},
    {"hash after blanks is a daemon", "", 0, "  # sshd: 10.0.0.1\n", 0,
        {"sshd", "10.0.0.1"}, "deny:deny:1"},
    {"hash daemon itself", "", 0, "  # sshd: 10.0.0.1\n", 0, {"#", "10.0.0.1"},
        "deny:deny:1"},
    {"blank lines skipped", "", 0, "\n \t\r\n\nsshd: 10.0.0.1\n", 0,
        {"sshd", "10.0.0.1"}, "deny:deny:4"},
    {"no colon skipped, scan goes on", "", 0, "sshd 10.0.0.1\nsshd: 10.0.0.1\n",
        0, {"sshd", "10.0.0.1"}, "deny:deny:2"},
    {"missing final newline denies in deny", "", 0, "sshd: 10.0.0.9\nfoo: bar",
        0, {"sshd", "10.0.0.1"}, "deny:deny:2:error"},
    {"earlier match wins over broken line", "", 0, "sshd: 10.0.0.1\nfoo: bar",
        0, {"sshd", "10.0.0.1"}, "deny:deny:1"},
    {"missing newline ends allow silently", "sshd: 10.0.0.9\nsshd: ALL", 0, "",
        0, {"sshd", "10.0.0.1"}, "grant:none:0"},
    {"broken allow falls through to deny", "x: y", 0, "ALL: ALL\n", 0,
        {"sshd", "10.0.0.1"}, "deny:deny:1"},
    {"file ending in backslash newline", "", 0, "foo: bar\nx\\\n", 0,
        {"sshd", "10.0.0.1"}, "deny:deny:2:error"},
    {"lone backslash newline at end is nothing", "", 0, "foo: bar\n\\\n", 0,
        {"sshd", "10.0.0.1"}, "grant:none:0"},
    {"colon in brackets does not split", "", 0, "sshd: [::1] 10.0.0.1\n", 0,
        {"sshd", "10.0.0.1"}, "deny:deny:1"},
    {"unbracketed colon splits", "", 0, "sshd: 10.0.0.1:allow\n", 0,
        {"sshd", "10.0.0.1"}, "grant:deny:1"},
    {"separators", "", 0, "a,,b\tc\r,sshd: x\t,\r10.0.0.1\n", 0,
        {"sshd", "10.0.0.1"}, "deny:deny:1"},
    {"empty daemon list never matches", "", 0, " : ALL\n", 0,
        {"sshd", "10.0.0.1"}, "grant:none:0"},
    {"empty client list never matches", "", 0, "ALL: ,\n", 0,
        {"sshd", "10.0.0.1"}, "grant:none:0"},
};

static void
test_read_cases(void **state)
{
	size_t i;
	int fails = 0;

	(void)state;
	for (i = 0; i < sizeof(read_cases) / sizeof(read_cases[0]); i++) {
		const struct read_case *c = &read_cases[i];
		struct acl_ruleset *rs;
		const char *got;

		rs = t_load_n(c->allow, c->alen ? c->alen : strlen(c->allow),
		    c->deny, c->dlen ? c->dlen : strlen(c->deny), false, NULL);
		got = t_eval(rs, &c->req);
		if (strcmp(got, c->expect) != 0) {
			fprintf(stderr, "case \"%s\": got %s, want %s\n",
			    c->name, got, c->expect);
			fails++;
		}
		acl_ruleset_unref(rs);
	}
	assert_int_equal(fails, 0);
}

/* A NUL drops the rest of its physical line, newline included. */
static void
test_nul_joins_lines(void **state)
{
	static const char deny[] = "ss\0junk\nhd: 10.0.0.1\n";
	struct acl_ruleset *rs;

	(void)state;
	rs = t_load_n("", 0, deny, sizeof(deny) - 1, false, NULL);
	assert_string_equal(
	    t_eval(rs, &(struct t_req){"sshd", "10.0.0.1"}), "deny:deny:1");
	assert_string_equal(
	    t_eval(rs, &(struct t_req){"hd", "10.0.0.1"}), "grant:none:0");
	acl_ruleset_unref(rs);
}

/* Build "foo: 10.0.0.1 xxx...\n" with a logical length of exactly n. */
static char *
long_line(size_t n, size_t cont_at)
{
	char *s = malloc(n + 8);
	size_t i, o = 0;
	const char *head = "foo: 10.0.0.1 ";

	for (i = 0; head[i] != '\0' && o < n; i++)
		s[o++] = head[i];
	while (o < n) {
		if (cont_at > 0 && o == cont_at) {
			s[o++] = '\\';
			s[o++] = '\n';
			cont_at = 0;
			n += 2;
			continue;
		}
		s[o++] = 'x';
	}
	s[o++] = '\n';
	s[o] = '\0';
	return s;
}

/* 2046 characters plus newline fit; 2047 make the deny table deny. */
static void
test_length_limit(void **state)
{
	size_t n;

	(void)state;
	for (n = 2044; n <= 2049; n++) {
		char *line = long_line(n, 0);
		char *line2 = long_line(n, 1000);
		struct acl_ruleset *rs = t_load("", line);
		struct acl_ruleset *rs2 = t_load("", line2);
		const char *want =
		    n <= 2046 ? "grant:none:0" : "deny:deny:1:error";

		assert_string_equal(
		    t_eval(rs, &(struct t_req){"sshd", "10.0.0.1"}), want);
		assert_string_equal(
		    t_eval(rs2, &(struct t_req){"sshd", "10.0.0.1"}), want);
		acl_ruleset_unref(rs);
		acl_ruleset_unref(rs2);
		free(line);
		free(line2);
	}
}

/*
 * Each physical line must fit what is left of the buffer when it is
 * read: 2033 x's after the 13-character head plus "\\\n" do not fit even
 * though the joined line would be short.
 */
static void
test_physical_line_fit(void **state)
{
	char *s = malloc(4200);
	size_t n, o;
	struct acl_ruleset *rs;

	(void)state;
	for (n = 2030; n <= 2034; n++) {
		o = (size_t)sprintf(s, "foo: 10.0.0.1");
		memset(s + o, 'x', n);
		o += n;
		memcpy(s + o, "\\\n\n", 4);
		rs = t_load("", s);
		/* head 13 + n + "\\\n" must be <= 2047 bytes */
		assert_string_equal(
		    t_eval(rs, &(struct t_req){"sshd", "10.0.0.1"}),
		    13 + n + 2 <= 2047 ? "grant:none:0" : "deny:deny:1:error");
		acl_ruleset_unref(rs);
	}
	free(s);
}

/* The over-long line ends the table: later lines are never rules. */
static void
test_error_ends_table(void **state)
{
	char *line = long_line(3000, 0);
	char *text = malloc(strlen(line) + 64);
	struct acl_ruleset *rs;
	struct acl_diags dg = {0};

	(void)state;
	sprintf(text, "sshd: 10.0.0.2\n%ssshd: 10.0.0.1\n", line);
	rs = t_load_n(text, strlen(text), "", 0, false, &dg);
	assert_int_equal(acl_ruleset_rule_count(rs, ACL_TABLE_ALLOW), 1);
	assert_string_equal(
	    t_eval(rs, &(struct t_req){"sshd", "10.0.0.2"}), "grant:allow:1");
	assert_string_equal(
	    t_eval(rs, &(struct t_req){"sshd", "10.0.0.1"}), "grant:none:0");
	assert_true(t_has_diag(&dg, 2, 0, "line too long"));
	acl_ruleset_unref(rs);
	acl_diags_free(&dg);
	/* In the deny table the same line denies whatever reaches it. */
	dg = (struct acl_diags){0};
	rs = t_load_n("", 0, text, strlen(text), true, &dg);
	assert_int_equal(acl_ruleset_rule_count(rs, ACL_TABLE_DENY), 1);
	assert_string_equal(t_eval(rs, &(struct t_req){"ftpd", "10.0.0.7"}),
	    "deny:deny:2:error");
	acl_ruleset_unref(rs);
	acl_diags_free(&dg);
	free(line);
	free(text);
}

/*
 * Lines that are only backslash-newline add nothing to the logical line,
 * however many there are (libwrap's xgets() loops over them): the rule
 * after them still parses, counts from the first physical line, and a
 * diagnostic in it points at its own physical line.  Thousands of them
 * once overflowed the reader's segment table.
 */
static void
test_many_empty_continuations(void **state)
{
	static const size_t counts[] = {1, 100, 2047, 2048, 5000};
	static const char rule[] = "sshd: 10.0.0.1: nosuchoption\n";
	size_t k, i;

	(void)state;
	for (k = 0; k < sizeof(counts) / sizeof(counts[0]); k++) {
		size_t n = counts[k], len = 2 * n + sizeof(rule) - 1;
		char *text = malloc(len + 1);
		struct acl_diags dg = {0};
		struct acl_ruleset *rs;

		assert_non_null(text);
		for (i = 0; i < n; i++)
			memcpy(text + 2 * i, "\\\n", 2);
		memcpy(text + 2 * n, rule, sizeof(rule));
		rs = t_load_n("", 0, text, len, true, &dg);
		assert_int_equal(acl_ruleset_rule_count(rs, ACL_TABLE_DENY), 1);
		/* A bad option makes a matching rule deny; it is rule 1. */
		assert_string_equal(
		    t_eval(rs, &(struct t_req){"sshd", "10.0.0.1"}),
		    "deny:deny:1");
		assert_string_equal(
		    t_eval(rs, &(struct t_req){"sshd", "10.0.0.2"}),
		    "grant:none:0");
		if (!t_has_diag(&dg, (unsigned)n + 1, 17, "nosuchoption")) {
			t_dump_diags(&dg);
			fail_msg("%zu continuations: diagnostic position", n);
		}
		acl_ruleset_unref(rs);
		acl_diags_free(&dg);
		free(text);
	}
}

static void
test_rule_lines_and_text(void **state)
{
	struct acl_ruleset *rs = t_load("# c\n\nsshd: \\\n  ALL : allow\n"
	                                "ftpd: ALL\n",
	    "");
	const struct acl_rule *r;

	(void)state;
	assert_int_equal(acl_ruleset_rule_count(rs, ACL_TABLE_ALLOW), 2);
	r = acl_ruleset_rule(rs, ACL_TABLE_ALLOW, 0);
	assert_int_equal(r->line, 3);
	assert_string_equal(r->text, "sshd:   ALL : allow");
	assert_string_equal(r->file, "hosts.allow");
	r = acl_ruleset_rule(rs, ACL_TABLE_ALLOW, 1);
	assert_int_equal(r->line, 5);
	assert_null(acl_ruleset_rule(rs, ACL_TABLE_ALLOW, 2));
	assert_string_equal(acl_ruleset_path(rs, ACL_TABLE_DENY), "hosts.deny");
	acl_ruleset_unref(rs);
}

/* Load from disk with fresh diagnostics; check the errors and a decision. */
static void
t_load_files(const char *allow, const char *deny, size_t errors,
    const char *diag, const struct t_req *q, const char *expect)
{
	struct acl_load_opts lo = {0};
	struct acl_diags dg = {0};
	struct acl_ruleset *rs;

	lo.allow_path = allow;
	lo.deny_path = deny;
	rs = acl_ruleset_load(&lo, &dg);
	assert_non_null(rs);
	if (acl_diags_errors(&dg) != errors ||
	    (diag != NULL && !t_has_diag(&dg, 0, 0, diag)))
		t_dump_diags(&dg);
	assert_int_equal(acl_diags_errors(&dg), errors);
	if (diag != NULL)
		assert_true(t_has_diag(&dg, 0, 0, diag));
	assert_string_equal(t_eval(rs, q), expect);
	acl_ruleset_unref(rs);
	acl_diags_free(&dg);
}

/*
 * Tables on disk: missing, directory, unopenable.  The decisions are
 * libwrap's; what could silently grant (a missing table other than the
 * defaults, a directory) is an error diagnostic, for callers that fail
 * closed.
 */
static void
test_files(void **state)
{
	char dir[] = "/tmp/wrapd-acl-dirXXXXXX";
	char path[256], link[256], loop[256], notdir[256];
	const char *deny;

	(void)state;
	assert_non_null(mkdtemp(dir));
	deny = t_tmpfile(0, "sshd: 10.0.0.1\n", 15);

	/* A missing allow table named on purpose: empty, and an error. */
	snprintf(path, sizeof path, "%s/missing", dir);
	t_load_files(path, deny, 1,
	    "missing does not exist: a table named on purpose must exist",
	    &(struct t_req){"sshd", "10.0.0.1"}, "deny:deny:1");

	/* A dangling symlink is missing too. */
	snprintf(link, sizeof link, "%s/dangling", dir);
	assert_int_equal(symlink(path, link), 0);
	t_load_files(path, link, 2, "dangling does not exist",
	    &(struct t_req){"sshd", "10.0.0.1"}, "grant:none:0");

	/* A directory reads as empty. */
	t_load_files(deny, dir, 1, "is not a regular file",
	    &(struct t_req){"ftpd", "10.0.0.1"}, "grant:none:0");

	/* ENOTDIR: a table error; in the deny table every request denies. */
	snprintf(notdir, sizeof notdir, "%s/x", deny);
	t_load_files(deny, notdir, 1, "Not a directory (treated as a table",
	    &(struct t_req){"ftpd", "1.2.3.4"}, "deny:deny:0:error");

	/* ELOOP in the allow table: no match, the deny table decides. */
	snprintf(loop, sizeof loop, "%s/loop", dir);
	assert_int_equal(symlink(loop, loop), 0);
	t_load_files(loop, deny, 1, "the allow table never matches",
	    &(struct t_req){"sshd", "10.0.0.1"}, "deny:deny:1");
	t_load_files(loop, deny, 1, NULL, &(struct t_req){"ftpd", "10.0.0.1"},
	    "grant:none:0");

	/*
	 * /dev/null is an empty table an admin may name on purpose
	 * (--deny /dev/null); /dev/zero never ends: refused.
	 */
	t_load_files("/dev/null", "/dev/zero", 1,
	    "/dev/zero is larger than 64 MiB",
	    &(struct t_req){"sshd", "10.0.0.1"}, "deny:deny:0:error");
	t_load_files("/dev/null", deny, 0, NULL,
	    &(struct t_req){"sshd", "10.0.0.1"}, "deny:deny:1");

	/* A read error keeps what came before it, and is an error. */
	t_load_files("/proc/self/mem", deny, 1,
	    "cannot read /proc/self/mem: Input/output error",
	    &(struct t_req){"sshd", "10.0.0.1"}, "deny:deny:1");

	unlink(loop);
	unlink(link);
	unlink(deny);
	rmdir(dir);
}

/* A vet that refuses every path with "no <path>". */
static int
t_vet_refuse(void *arg, const char *path, char *why, size_t whysz)
{
	(*(int *)arg)++;
	snprintf(why, whysz, "no %s", path);
	return -1;
}

/*
 * acl_load_opts.vet is asked about each table, each /file list and each
 * banners directory; a refusal is an error where the file is named, and
 * the decisions do not change.
 */
static void
test_vet(void **state)
{
	char rules[512];
	const char *list, *allow, *deny;
	struct acl_load_opts lo = {0};
	struct acl_diags dg = {0};
	struct acl_ruleset *rs;
	int asked = 0;

	(void)state;
	list = t_tmpfile(1, "10.0.0.7\n", 9);
	allow = t_tmpfile(2, "ftpd: ALL: banners /srv/banners\n", 32);
	snprintf(rules, sizeof rules, "sshd: %s %s\n", list, list);
	deny = t_tmpfile(3, rules, strlen(rules));
	lo.allow_path = allow;
	lo.deny_path = deny;
	lo.vet = t_vet_refuse;
	lo.vet_arg = &asked;
	rs = acl_ruleset_load(&lo, &dg);
	assert_non_null(rs);
	/* Each file once: the list named twice is read (and vetted) once. */
	assert_int_equal(asked, 4);
	assert_int_equal(acl_diags_errors(&dg), 4);
	snprintf(rules, sizeof rules, "no %s", allow);
	assert_true(t_has_diag(&dg, 0, 0, rules));
	assert_true(t_has_diag(&dg, 1, 12, "no /srv/banners"));
	snprintf(rules, sizeof rules, "no %s", list);
	assert_true(t_has_diag(&dg, 1, 7, rules));
	assert_string_equal(
	    t_eval(rs, &(struct t_req){"sshd", "10.0.0.7"}), "deny:deny:1");
	acl_ruleset_unref(rs);
	acl_diags_free(&dg);
	unlink(list);
	unlink(allow);
	unlink(deny);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_read_cases),
	    cmocka_unit_test(test_nul_joins_lines),
	    cmocka_unit_test(test_length_limit),
	    cmocka_unit_test(test_physical_line_fit),
	    cmocka_unit_test(test_error_ends_table),
	    cmocka_unit_test(test_many_empty_continuations),
	    cmocka_unit_test(test_rule_lines_and_text),
	    cmocka_unit_test(test_files),
	    cmocka_unit_test(test_vet),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
