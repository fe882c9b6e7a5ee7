/*
 * test_acl_match.c - every pattern form of hosts_access(5) as Debian's
 * libwrap matches it (semantics C and D): one rule in hosts.deny per case,
 * and whether a request matches it.  The expectations come from the
 * semantics document, verified there against the installed libwrap.
 */
#include <fcntl.h>
#include <sys/stat.h>

#include "acl_test.h"

struct match_case {
	const char *rule;
	struct t_req req;
	bool match;
};

#define U "unknown"

static const struct match_case match_cases[] = {
    /* Daemon lists (D1-D3). */
    {"sshd: ALL", {"sshd", "10.0.0.1"}, true},
    {"SSHD: ALL", {"sshd", "10.0.0.1"}, true},
    {"ftpd: ALL", {"sshd", "10.0.0.1"}, false},
    {"ALL: ALL", {"sshd", "10.0.0.1"}, true},
    {"ALL: ALL", {NULL, NULL}, true},
    {"UNKNOWN: ALL", {NULL, "10.0.0.1"}, true},
    {"KNOWN: ALL", {NULL, "10.0.0.1"}, false},
    {"KNOWN: ALL", {"x", "10.0.0.1"}, true},
    {"in.*: ALL", {"in.fingerd", "10.0.0.1"}, true},
    {"in.?ingerd: ALL", {"in.fingerd", "10.0.0.1"}, true},
    {".fingerd: ALL", {"in.fingerd", "10.0.0.1"}, true},
    {"in.: ALL", {"in.fingerd", "10.0.0.1"}, true},
    {"@grp: ALL", {"@grp", "10.0.0.1"}, true},
    {"/etc/x: ALL", {"/etc/x", "10.0.0.1"}, true},
    {"a,b c\td: ALL", {"c", "10.0.0.1"}, true},
    /* Ports (Debian match_port). */
    {"22: ALL", {"sshd", "10.0.0.1", .sport = 22}, true},
    {"22: ALL", {"22", "10.0.0.1", .sport = 23}, false},
    {"22: ALL", {"22", "10.0.0.1"}, false},
    {"+0022: ALL", {"sshd", "10.0.0.1", .sport = 22}, true},
    {"65535: ALL", {"x", "10.0.0.1", .sport = 65535}, true},
    {"65536: ALL", {"65536", "10.0.0.1", .sport = 1}, true},
    {"0x16: ALL", {"0x16", "10.0.0.1", .sport = 22}, true},
    {"0x16: ALL", {"x", "10.0.0.1", .sport = 22}, false},
    {"4294967318: ALL", {"x", "10.0.0.1", .sport = 22}, true},
    /* daemon@host: the server side. */
    {"sshd@10.9.9.9: ALL", {"sshd", "10.0.0.1", .saddr = "10.9.9.9"}, true},
    {"sshd@10.9.9.8: ALL", {"sshd", "10.0.0.1", .saddr = "10.9.9.9"}, false},
    {"22@10.9.9.0/24: ALL", {"x", "10.0.0.1", .sport = 22, .saddr = "10.9.9.9"},
        true},
    {"sshd@.example.com: ALL",
        {"sshd", "10.0.0.1", .saddr = "10.9.9.9", .sname = "srv.example.com"},
        true},
    {"@x@ALL: ALL", {"@x", "10.0.0.1"}, true},
    /* EXCEPT (C). */
    {"ALL EXCEPT sshd: ALL", {"sshd", "10.0.0.1"}, false},
    {"ALL except sshd: ALL", {"ftpd", "10.0.0.1"}, true},
    {"ALL EXCEPT sshd EXCEPT sshd: ALL", {"sshd", "10.0.0.1"}, true},
    {"EXCEPT sshd: ALL", {"sshd", "10.0.0.1"}, false},
    {"sshd EXCEPT: ALL", {"sshd", "10.0.0.1"}, true},
    {"sshd: ALL EXCEPT 10.0.0.0/8", {"sshd", "10.0.0.1"}, false},
    {"sshd: ALL EXCEPT 10.0.0.0/8 EXCEPT 10.0.0.1", {"sshd", "10.0.0.1"}, true},
    {"sshd: ALL EXCEPT 10.0.0.0/8 EXCEPT 10.0.0.1", {"sshd", "10.0.0.2"},
        false},
    {"sshd: EXCEPT ALL", {"sshd", "10.0.0.1"}, false},
    {"sshd: ALL EXCEPT EXCEPT ALL", {"sshd", "10.0.0.1"}, true},
    /* Address strings (D10, D15). */
    {"ALL: 10.0.0.1", {"x", "10.0.0.1"}, true},
    {"ALL: 10.0.0.10", {"x", "10.0.0.1"}, false},
    {"ALL: 10.0.0.", {"x", "10.0.0.1"}, true},
    {"ALL: 10.1.", {"x", "10.10.0.1"}, false},
    {"ALL: 10.", {"x", "10.10.0.1"}, true},
    {"ALL: 010.", {"x", "10.10.0.1"}, false},
    {"ALL: .1", {"x", "10.0.0.1"}, true},
    {"ALL: .0.0.1", {"x", "10.0.0.1"}, true},
    {"ALL: .10.0.0.1", {"x", "10.0.0.1"}, false},
    {"ALL: 10.0.0.*", {"x", "10.0.0.1", U}, true},
    {"ALL: 10.0.0.?", {"x", "10.0.0.12", U}, false},
    {"ALL: 10.0.0.1.", {"x", "10.0.0.1"}, false},
    {"ALL: 10.0.0", {"x", "10.0.0.1"}, false},
    {"ALL: 255.255.255.255", {"x", "255.255.255.255"}, true},
    {"ALL: UNKNOWN", {"x", NULL}, true},
    {"ALL: unknown", {"x", "10.0.0.1", U}, true},
    {"ALL: UNKNOWN", {"x", "10.0.0.1", "a.b"}, false},
    {"ALL: PARANOID", {"x", "10.0.0.1", "paranoid"}, true},
    {"ALL: PARANOID", {"x", "10.0.0.1", "a.b"}, false},
    /* IPv6 strings. */
    {"ALL: [2001:DB8:0::1]", {"x", "2001:db8::1"}, true},
    {"ALL: [2001:db8::2]", {"x", "2001:db8::1", U}, false},
    {"ALL: [::ffff:10.0.0.1]", {"x", "::ffff:10.0.0.1"}, false},
    {"ALL: [::ffff:10.0.0.1]", {"x", "10.0.0.1"}, false},
    {"ALL: 2001:db8::1", {"x", "2001:db8::1", U}, false},
    /* IPv4-mapped clients behave as IPv4. */
    {"ALL: 10.0.0.1", {"x", "::ffff:10.0.0.1"}, true},
    {"ALL: 10.0.", {"x", "::ffff:10.0.0.1"}, true},
    {"ALL: 10.0.0.0/8", {"x", "::ffff:10.0.0.1"}, true},
    {"ALL: [::]/0", {"x", "::ffff:10.0.0.1"}, false},
    {"ALL: [::ffff:0:0]/96", {"x", "::ffff:10.0.0.1"}, false},
    /* net/mask (D12). */
    {"ALL: 10.0.0.0/255.0.0.0", {"x", "10.1.2.3"}, true},
    {"ALL: 10.0.0.0/255.0.0.0", {"x", "11.1.2.3"}, false},
    {"ALL: 012.0.0.0/255.0.0.0", {"x", "10.1.2.3"}, true},
    {"ALL: 0x0a.0.0.0/0xff.0.0.0", {"x", "10.1.2.3"}, true},
    {"ALL: 10.0.0/255.0.0.0", {"x", "10.1.2.3"}, false},
    {"ALL: 10.0.0.1/255.0.0.0", {"x", "10.0.0.1"}, false},
    {"ALL: 10.0.0.1/255.255.255.255", {"x", "10.0.0.1"}, false},
    {"ALL: 10.0.0.1/32", {"x", "10.0.0.1"}, true},
    {"ALL: 10.0.0.0/8", {"x", "10.200.0.1"}, true},
    {"ALL: 10.0.0.0/12junk", {"x", "10.15.0.1"}, true},
    {"ALL: 10.0.0.0/12junk", {"x", "10.16.0.1"}, false},
    {"ALL: 10.0.0.0/0", {"x", "10.0.0.1"}, false},
    {"ALL: 0.0.0.0/0", {"x", "10.0.0.1"}, false},
    {"ALL: 0.0.0.0/0.0.0.0", {"x", "10.0.0.1"}, true},
    {"ALL: 0.0.0.0/0.0.0.0", {"x", "::1"}, false},
    {"ALL: 0.0.0.0/0.0.0.0", {"x", NULL}, false},
    {"ALL: 10.0.0.0/33", {"x", "10.0.0.1"}, false},
    {"ALL: 10.0.0.0/255.0.255.0", {"x", "10.7.0.9"}, true},
    {"ALL: 10.0.0.0/255.0.255.0", {"x", "10.7.1.9"}, false},
    {"ALL: 255.255.255.0/24", {"x", "255.255.255.255"}, false},
    {"ALL: 255.255.255.0/24", {"x", "255.255.255.254"}, true},
    {"ALL: [2001:db8::]/32", {"x", "2001:db8:1::1"}, true},
    {"ALL: [2001:db8::]/32", {"x", "2001:db9::1"}, false},
    {"ALL: [2001:db8::1]/32", {"x", "2001:db8:1::1"}, true},
    {"ALL: [::]/0", {"x", "2001:db8::1"}, true},
    {"ALL: [::]/129", {"x", "2001:db8::1"}, false},
    {"ALL: [::]/-1", {"x", "2001:db8::1"}, false},
    {"ALL: [2001:db8::]/32", {"x", "10.0.0.1"}, false},
    {"ALL: 10.0.0.0/8", {"x", "2001:db8::1"}, false},
    /* Names (D10, D15). */
    {"ALL: .example.com", {"x", "10.0.0.1", "a.example.com"}, true},
    {"ALL: .example.com", {"x", "10.0.0.1", "example.com"}, false},
    {"ALL: .EXAMPLE.com", {"x", "10.0.0.1", "A.example.COM"}, true},
    {"ALL: example.com", {"x", "10.0.0.1", "EXAMPLE.COM"}, true},
    {"ALL: www.", {"x", "10.0.0.1", "www.example.com"}, true},
    {"ALL: *.example.com", {"x", "10.0.0.1", "a.b.example.com"}, true},
    {"ALL: .exam*", {"x", "10.0.0.1", "b.example.com"}, false},
    {"ALL: .exam*", {"x", "10.0.0.1", ".example.com"}, true},
    {"ALL: a?c", {"x", "10.0.0.1", "abc"}, true},
    {"ALL: a?c", {"x", "10.0.0.1", "ac"}, false},
    {"ALL: *", {"x", "10.0.0.1"}, true},
    {"ALL: KNOWN", {"x", "10.0.0.1", "a.b"}, true},
    {"ALL: KNOWN", {"x", "10.0.0.1", "paranoid"}, false},
    {"ALL: KNOWN", {"x", "10.0.0.1", "unknown"}, false},
    {"ALL: KNOWN", {"x", NULL, "a.b"}, false},
    {"ALL: LOCAL", {"x", "10.0.0.1", "host"}, true},
    {"ALL: LOCAL", {"x", "10.0.0.1", "host.dom"}, false},
    {"ALL: LOCAL", {"x", "10.0.0.1", "unknown"}, false},
    {"ALL: local", {"x", "10.0.0.1", "paranoid"}, false},
    {"ALL: ALL", {"x", NULL, "paranoid"}, true},
    /* user@host (D4). */
    {"ALL: joe@ALL", {"x", "10.0.0.1", .user = "joe"}, true},
    {"ALL: joe@ALL", {"x", "10.0.0.1", .user = "bob"}, false},
    {"ALL: JOE@10.0.0.0/8", {"x", "10.0.0.1", .user = "joe"}, true},
    {"ALL: j*@10.0.0.1", {"x", "10.0.0.1", .user = "jim"}, true},
    {"ALL: KNOWN@10.0.0.1", {"x", "10.0.0.1", .user = "jim"}, true},
    {"ALL: KNOWN@10.0.0.1", {"x", "10.0.0.1", .user = U}, false},
    {"ALL: UNKNOWN@10.0.0.1", {"x", "10.0.0.1", .user = U}, true},
    {"ALL: joe@10.0.0.2", {"x", "10.0.0.1", .user = "joe"}, false},
    /* Netgroups: no NIS here, so never; the name comes first. */
    {"ALL: @nosuchgroup", {"x", "10.0.0.1", "a.b"}, false},
};

static void
test_match_cases(void **state)
{
	size_t i;
	int fails = 0;

	(void)state;
	for (i = 0; i < sizeof(match_cases) / sizeof(match_cases[0]); i++) {
		const struct match_case *c = &match_cases[i];
		char rule[512], want[64];
		struct acl_ruleset *rs;
		struct acl_ruleset *rs_allow;
		const char *got;

		snprintf(rule, sizeof rule, "%s\n", c->rule);
		rs = t_load("", rule);
		got = t_eval(rs, &c->req);
		snprintf(want, sizeof want, "%s",
		    c->match ? "deny:deny:1" : "grant:none:0");
		if (strcmp(got, want) != 0) {
			fprintf(stderr,
			    "deny \"%s\" for %s@%s (%s): got %s, "
			    "want %s\n",
			    c->rule, c->req.daemon ? c->req.daemon : "-",
			    c->req.caddr ? c->req.caddr : "-",
			    c->req.cname ? c->req.cname : "-", got, want);
			fails++;
		}
		/* Same in the allow table. */
		rs_allow = t_load(rule, "");
		got = t_eval(rs_allow, &c->req);
		snprintf(want, sizeof want, "%s",
		    c->match ? "grant:allow:1" : "grant:none:0");
		if (strcmp(got, want) != 0) {
			fprintf(stderr, "allow \"%s\": got %s, want %s\n",
			    c->rule, got, want);
			fails++;
		}
		acl_ruleset_unref(rs);
		acl_ruleset_unref(rs_allow);
	}
	assert_int_equal(fails, 0);
}

/* First match only: later, more specific rules are never looked at. */
static void
test_first_match(void **state)
{
	struct acl_ruleset *rs = t_load("sshd: 10.0.0.0/8 : deny\n"
	                                "sshd: 10.0.0.1 : allow\n",
	    "ALL: ALL : allow\nsshd: ALL\n");

	(void)state;
	assert_string_equal(
	    t_eval(rs, &(struct t_req){"sshd", "10.0.0.1"}), "deny:allow:1");
	assert_string_equal(
	    t_eval(rs, &(struct t_req){"sshd", "11.0.0.1"}), "grant:deny:1");
	acl_ruleset_unref(rs);
}

/* /file patterns: compiled at load, words as fscanf("%s") reads them. */
static void
test_file_patterns(void **state)
{
	static const char words[] = "# only ALL hosts\n";
	static const char list[] =
	    "10.1.0.0/16 192.168.7.9\t.example.com\n"
	    "[2001:db8::]/48\n @nosuchgroup 172.16.\0x172.17.\n";
	const char *f1, *f2, *f3;
	char rules[1024], nested[300];
	struct acl_ruleset *rs;
	struct acl_diags dg = {0};

	(void)state;
	f1 = t_tmpfile(1, words, sizeof(words) - 1);
	f2 = t_tmpfile(2, list, sizeof(list) - 1);
	snprintf(nested, sizeof nested, "%s\n10.99.0.0/16\n", f2);
	f3 = t_tmpfile(3, nested, strlen(nested));

	/* "# only ALL hosts" contributes the word ALL. */
	snprintf(rules, sizeof rules, "sshd: %s\n", f1);
	rs = t_load("", rules);
	assert_string_equal(
	    t_eval(rs, &(struct t_req){"sshd", "1.2.3.4"}), "deny:deny:1");
	acl_ruleset_unref(rs);

	snprintf(rules, sizeof rules,
	    "sshd: %s\nftpd: joe@%s\n"
	    "telnetd@%s: ALL\nlpd: %s\n",
	    f2, f2, f2, f3);
	rs = t_load_n("", 0, rules, strlen(rules), true, &dg);
	assert_string_equal(
	    t_eval(rs, &(struct t_req){"sshd", "10.1.2.3"}), "deny:deny:1");
	assert_string_equal(
	    t_eval(rs, &(struct t_req){"sshd", "192.168.7.9"}), "deny:deny:1");
	assert_string_equal(
	    t_eval(rs, &(struct t_req){"sshd", "172.16.1.1"}), "deny:deny:1");
	assert_string_equal(
	    t_eval(rs, &(struct t_req){"sshd", "172.17.1.1", U}),
	    "grant:none:0");
	assert_string_equal(
	    t_eval(rs, &(struct t_req){"sshd", "2001:db8:0:1::5"}),
	    "deny:deny:1");
	/* A name word needs the name when no address word matched. */
	assert_string_equal(
	    t_eval(rs, &(struct t_req){"sshd", "10.2.0.1"}), "need-client");
	assert_string_equal(
	    t_eval(rs, &(struct t_req){"sshd", "10.2.0.1", "h.example.com"}),
	    "deny:deny:1");
	assert_string_equal(
	    t_eval(rs, &(struct t_req){"sshd", "10.2.0.1", "h.example.org"}),
	    "grant:none:0");
	/* After user@, after daemon@, and nested. */
	assert_string_equal(
	    t_eval(rs, &(struct t_req){"ftpd", "10.1.0.1", .user = "joe"}),
	    "deny:deny:2");
	assert_string_equal(
	    t_eval(rs, &(struct t_req){"ftpd", "10.1.0.1", .user = "bob"}),
	    "grant:none:0");
	assert_string_equal(
	    t_eval(
	        rs, &(struct t_req){"telnetd", "1.1.1.1", .saddr = "10.1.0.1"}),
	    "deny:deny:3");
	assert_string_equal(
	    t_eval(rs, &(struct t_req){"lpd", "10.1.0.1"}), "deny:deny:4");
	assert_string_equal(
	    t_eval(rs, &(struct t_req){"lpd", "10.99.0.1"}), "deny:deny:4");
	acl_ruleset_unref(rs);
	acl_diags_free(&dg);

	/*
	 * Missing: no match, as in libwrap, but an error where it is named
	 * (a deny list that silently matches nothing grants what it
	 * lists), lint or not.  As daemon pattern: literal.
	 */
	dg = (struct acl_diags){0};
	snprintf(rules, sizeof rules, "sshd: /nonexistent/wrapd-x\n/x: ALL\n");
	rs = t_load_n("", 0, rules, strlen(rules), false, &dg);
	assert_int_equal(dg.n, 1);
	assert_true(t_has_diag(
	    &dg, 1, 7, "/nonexistent/wrapd-x does not exist: never matches"));
	assert_int_equal(acl_diags_errors(&dg), 1);
	assert_string_equal(
	    t_eval(rs, &(struct t_req){"sshd", "1.2.3.4", "a.b"}),
	    "grant:none:0");
	assert_string_equal(
	    t_eval(rs, &(struct t_req){"/x", "1.2.3.4"}), "deny:deny:2");
	acl_ruleset_unref(rs);
	acl_diags_free(&dg);

	/* Unopenable: no match, not an error verdict; an error diagnostic. */
	snprintf(rules, sizeof rules, "sshd: %s/x\n", f1);
	rs = t_load_n("", 0, rules, strlen(rules), false, &dg);
	assert_true(t_has_diag(&dg, 1, 7, "cannot open"));
	assert_true(t_has_diag(&dg, 1, 7, "Not a directory: never matches"));
	assert_int_equal(acl_diags_errors(&dg), 1);
	assert_string_equal(
	    t_eval(rs, &(struct t_req){"sshd", "1.2.3.4", "a.b"}),
	    "grant:none:0");
	acl_ruleset_unref(rs);
	acl_diags_free(&dg);
	unlink(f1);
	unlink(f2);
	unlink(f3);
}

/*
 * A /file list that cannot be read, whatever the reason, matches nothing,
 * as in libwrap, and is an error where it is named: the daemon refuses
 * rules with errors, so a deny list that lost its entries never goes live.
 */
static void
test_file_unreadable(void **state)
{
	char dir[] = "/tmp/wrapd-acl-unreadXXXXXX";
	char big[128], rules[512], want[256];
	struct {
		const char *path;
		const char *problem;
	} cases[3];
	struct acl_ruleset *rs;
	struct acl_diags dg;
	size_t i;
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(big, sizeof big, "%s/big", dir);
	fd = open(big, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)ACL_FILE_MAX + 1), 0);
	close(fd);
	cases[0].path = dir;
	cases[0].problem = "is not a regular file";
	cases[1].path = big;
	cases[1].problem = "is larger than 64 MiB: never matches";
	/* Reading at offset 0 of one's own memory fails with EIO. */
	cases[2].path = "/proc/self/mem";
	cases[2].problem = "cannot read /proc/self/mem: Input/output error";
	for (i = 0; i < 3; i++) {
		memset(&dg, 0, sizeof(dg));
		snprintf(
		    rules, sizeof rules, "sshd: 10.0.0.1 %s\n", cases[i].path);
		rs = t_load_n("", 0, rules, strlen(rules), false, &dg);
		snprintf(want, sizeof want, "%s", cases[i].problem);
		if (!t_has_diag(&dg, 1, 16, want) || acl_diags_errors(&dg) != 1)
			t_dump_diags(&dg);
		assert_true(t_has_diag(&dg, 1, 16, want));
		assert_int_equal(acl_diags_errors(&dg), 1);
		assert_string_equal(
		    t_eval(
		        rs, &(struct t_req){"sshd", "10.0.0.2", "a.example"}),
		    "grant:none:0");
		assert_string_equal(
		    t_eval(rs, &(struct t_req){"sshd", "10.0.0.1"}),
		    "deny:deny:1");
		acl_ruleset_unref(rs);
		acl_diags_free(&dg);
	}
	unlink(big);
	rmdir(dir);
}

/* A /file that names itself: libwrap would recurse; wrapd stops. */
static void
test_file_loop(void **state)
{
	char path[] = "/tmp/wrapd-acl-loopXXXXXX";
	char content[128], rules[128];
	int fd;
	struct acl_ruleset *rs;
	struct acl_diags dg = {0};

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	snprintf(content, sizeof content, "%s 10.0.0.1\n", path);
	assert_int_equal(
	    write(fd, content, strlen(content)), (ssize_t)strlen(content));
	close(fd);
	snprintf(rules, sizeof rules, "ALL: %s\n", path);
	rs = t_load_n("", 0, rules, strlen(rules), false, &dg);
	assert_true(t_has_diag(&dg, 1, 1, "loop"));
	assert_string_equal(
	    t_eval(rs, &(struct t_req){"x", "10.0.0.1"}), "deny:deny:1");
	assert_string_equal(
	    t_eval(rs, &(struct t_req){"x", "10.0.0.2"}), "grant:none:0");
	acl_ruleset_unref(rs);
	acl_diags_free(&dg);
	unlink(path);
}

/* Request strings are cut at 127 characters, as libwrap stores them. */
static void
test_truncation(void **state)
{
	char daemon[300], rule[300];
	struct acl_ruleset *rs;

	(void)state;
	memset(daemon, 'd', 200);
	daemon[200] = '\0';
	memset(rule, 'd', 127);
	snprintf(rule + 127, sizeof rule - 127, ": ALL\n");
	rs = t_load("", rule);
	assert_string_equal(
	    t_eval(rs, &(struct t_req){daemon, "1.2.3.4"}), "deny:deny:1");
	acl_ruleset_unref(rs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_match_cases),
	    cmocka_unit_test(test_first_match),
	    cmocka_unit_test(test_file_patterns),
	    cmocka_unit_test(test_file_unreadable),
	    cmocka_unit_test(test_file_loop),
	    cmocka_unit_test(test_truncation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
