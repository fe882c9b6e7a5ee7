/*
 * test_acl_index.c - the address index must never change a decision:
 * random rule sets evaluated through the index and by the plain linear
 * scan (acl__eval_linear) give the same rule, table and verdict for random
 * requests; large blocklists (100k lines, 100k-entry /file) decide with
 * the right first-match line.
 */
#include "acl_test.h"

/* Addresses come from a tiny space so that patterns overlap often. */
static void
rand_v4(char *buf, size_t n)
{
	snprintf(buf, n, "10.%u.%u.%u", pick(3), pick(4), pick(4));
}

static const char *names[] = {"a.example.com", "b.example.com", "host",
    "unknown", "paranoid", "x.example.org"};
static const char *users[] = {"joe", "bob", "unknown"};
static const char *daemons[] = {"sshd", "ftpd", "in.fingerd"};

static void
rand_pattern(char *buf, size_t n, const char *file)
{
	char a[32];
	unsigned k = pick(24);

	rand_v4(a, sizeof a);
	switch (k) {
	case 0:
	case 1:
	case 2:
		snprintf(buf, n, "%s", a);
		break;
	case 3:
		snprintf(buf, n, "10.%u.%u.0/24", pick(3), pick(4));
		break;
	case 4:
		snprintf(buf, n, "10.%u.0.0/255.255.0.0", pick(3));
		break;
	case 5:
		snprintf(buf, n, "10.%u.", pick(3));
		break;
	case 6:
		snprintf(buf, n, "10.%u.%u.", pick(3), pick(4));
		break;
	case 7:
		snprintf(buf, n, "10.0.0.0/%u", 8 + pick(25));
		break;
	case 8:
		snprintf(buf, n, "[2001:db8::%x]", pick(4));
		break;
	case 9:
		snprintf(buf, n, "[2001:db8::]/%u", 120 + pick(9));
		break;
	case 10:
		snprintf(buf, n, ".example.com");
		break;
	case 11:
		snprintf(buf, n, "%s", names[pick(3)]);
		break;
	case 12:
		snprintf(buf, n, "KNOWN");
		break;
	case 13:
		snprintf(buf, n, "LOCAL");
		break;
	case 14:
		snprintf(buf, n, "ALL");
		break;
	case 15:
		snprintf(buf, n, "%s@%s", users[pick(2)], a);
		break;
	case 16:
		snprintf(buf, n, "%s", file);
		break;
	case 17:
		snprintf(buf, n, "10.0.0.0/255.0.255.0");
		break;
	case 18:
		snprintf(buf, n, ".%u", pick(4));
		break;
	case 19:
		snprintf(buf, n, "10.%u.*", pick(3));
		break;
	case 20:
		snprintf(buf, n, "10.0.0.1/8");
		break;
	case 21:
		snprintf(buf, n, "PARANOID");
		break;
	default:
		snprintf(buf, n, "%s", a);
		break;
	}
}

static char *
rand_table(unsigned nrules, const char *file)
{
	size_t cap = 256 * (nrules + 1), o = 0;
	char *t = malloc(cap);
	unsigned i, k;

	for (i = 0; i < nrules; i++) {
		char p[64];
		unsigned nitems = 1 + pick(3);

		switch (pick(6)) {
		case 0:
			o += (size_t)snprintf(t + o, cap - o, "ALL:");
			break;
		case 1:
			o += (size_t)snprintf(t + o, cap - o,
			    "%s,%s:", daemons[pick(3)], daemons[pick(3)]);
			break;
		case 2:
			o += (size_t)snprintf(t + o, cap - o,
			    "%s@10.9.9.%u:", daemons[pick(3)], pick(2));
			break;
		case 3:
			o += (size_t)snprintf(
			    t + o, cap - o, "ALL EXCEPT %s:", daemons[pick(3)]);
			break;
		default:
			o += (size_t)snprintf(
			    t + o, cap - o, "%s:", daemons[pick(3)]);
			break;
		}
		for (k = 0; k < nitems; k++) {
			rand_pattern(p, sizeof p, file);
			o += (size_t)snprintf(t + o, cap - o, " %s", p);
		}
		if (pick(4) == 0) {
			rand_pattern(p, sizeof p, file);
			o += (size_t)snprintf(t + o, cap - o, " EXCEPT %s", p);
		}
		if (pick(5) == 0)
			o += (size_t)snprintf(t + o, cap - o, " : %s",
			    pick(2) ? "allow" : "deny");
		o += (size_t)snprintf(t + o, cap - o, "\n");
	}
	t[o] = '\0';
	return t;
}

static void
test_index_equivalence(void **state)
{
	static const char fdata[] = "10.1.0.0/16 10.2.3.3 10.0.1.\n"
	                            "[2001:db8::2]\n";
	static const char fdata2[] = "10.2.0.0/16 .example.com\n";
	const char *file, *file2;
	unsigned round, q, diffs = 0, indexed = 0;

	(void)state;
	rng_state = 0x9e3779b97f4a7c15ull;
	file = t_tmpfile(4, fdata, sizeof(fdata) - 1);
	file2 = t_tmpfile(5, fdata2, sizeof(fdata2) - 1);
	for (round = 0; round < 300; round++) {
		char *allow = rand_table(pick(12), pick(2) ? file : file2);
		char *deny = rand_table(pick(40), pick(2) ? file : file2);
		struct acl_ruleset *rs = t_load(allow, deny);
		size_t t, i;

		for (t = 0; t < 2; t++)
			for (i = 0; i < rs->tabs[t].nrules; i++)
				indexed += rs->tabs[t].rules[i].indexed;
		for (q = 0; q < 50; q++) {
			struct acl_request r;
			struct acl_decision d1, d2;
			enum acl_status s1, s2;
			char a[32];

			acl_request_init(&r);
			if (pick(6) == 0)
				snprintf(a, sizeof a, "2001:db8::%x", pick(4));
			else
				rand_v4(a, sizeof a);
			acl_addr_parse(&r.client.addr, a);
			r.daemon = daemons[pick(3)];
			r.client.name = names[pick(6)];
			r.user = users[pick(3)];
			acl_addr_parse(
			    &r.server.addr, pick(2) ? "10.9.9.0" : "10.9.9.1");
			r.server.name = "unknown";
			s1 = acl_eval(rs, &r, ACL_TABLE_ALLOW, &d1);
			s2 = acl__eval_linear(rs, &r, &d2);
			if (s1 != s2 || s1 != ACL_DONE || d1.rule != d2.rule ||
			    d1.verdict != d2.verdict || d1.table != d2.table) {
				if (diffs++ < 5)
					fprintf(stderr,
					    "diff for %s %s: %u vs %u\n"
					    "allow:\n%sdeny:\n%s",
					    r.daemon, a,
					    d1.rule ? d1.rule->line : 0,
					    d2.rule ? d2.rule->line : 0, allow,
					    deny);
			}
		}
		acl_ruleset_unref(rs);
		free(allow);
		free(deny);
	}
	/* The generator must exercise the index, not only the fallback. */
	assert_true(indexed > 1000);
	assert_int_equal(diffs, 0);
	unlink(file);
	unlink(file2);
}

#define BIG 100000

static void
big_addr(unsigned i, char *buf, size_t n)
{
	snprintf(buf, n, "%u.%u.%u.%u", 11 + i / 65536 % 200, i / 256 % 256,
	    i % 256, 1 + i % 7);
}

/* 100k hosts.deny lines "ALL: a.b.c.d": the first matching line decides. */
static void
test_big_lines(void **state)
{
	char *deny = malloc((size_t)BIG * 40 + 100), a[32];
	size_t o = 0;
	unsigned i;
	struct acl_ruleset *rs;

	(void)state;
	o += (size_t)sprintf(deny, "ftpd: 12.0.0.0/8 : allow\n");
	for (i = 0; i < BIG; i++) {
		big_addr(i, a, sizeof a);
		o += (size_t)sprintf(deny + o, "ALL: %s\n", a);
	}
	/* a duplicate later on must not win over the first */
	o += (size_t)sprintf(deny + o, "ALL: 11.0.0.1 : allow\n");
	rs = t_load("", deny);
	assert_int_equal(acl_ruleset_rule_count(rs, ACL_TABLE_DENY), BIG + 2);
	for (i = 0; i < BIG; i += 997) {
		char want[64];

		big_addr(i, a, sizeof a);
		snprintf(want, sizeof want, "deny:deny:%u", i + 2);
		assert_string_equal(
		    t_eval(rs, &(struct t_req){"sshd", a}), want);
	}
	assert_string_equal(
	    t_eval(rs, &(struct t_req){"sshd", "11.0.0.1"}), "deny:deny:2");
	assert_string_equal(
	    t_eval(rs, &(struct t_req){"ftpd", "12.0.1.1"}), "grant:deny:1");
	assert_string_equal(
	    t_eval(rs, &(struct t_req){"sshd", "9.9.9.9"}), "grant:none:0");
	acl_ruleset_unref(rs);
	free(deny);
}

/* One rule "ALL: /file" with 100k addresses and CIDRs. */
static void
test_big_file(void **state)
{
	char *list = malloc((size_t)BIG * 24), a[32], rules[200];
	size_t o = 0;
	unsigned i;
	const char *path;
	struct acl_ruleset *rs;

	(void)state;
	for (i = 0; i < BIG; i++) {
		big_addr(i, a, sizeof a);
		if (i % 3 == 0) {
			o += (size_t)sprintf(list + o, "%s\n", a);
		} else if (i % 3 == 1) {
			*strrchr(a, '.') = '\0';
			o += (size_t)sprintf(list + o, "%s.0/24\n", a);
		} else {
			/* host bits set: never matches */
			o += (size_t)sprintf(list + o, "%s/24\n", a);
		}
	}
	path = t_tmpfile(6, list, o);
	snprintf(rules, sizeof rules,
	    "sshd: 9.9.9.9\nALL: %s : deny\n"
	    "ALL: ALL EXCEPT 8.8.8.8\n",
	    path);
	rs = t_load("", rules);
	for (i = 0; i < BIG; i += 1009) {
		big_addr(i, a, sizeof a);
		/* Host bits set: "a.b.c.d/24" never matches: line 3. */
		assert_string_equal(t_eval(rs, &(struct t_req){"sshd", a}),
		    i % 3 == 2 ? "deny:deny:3" : "deny:deny:2");
	}
	assert_string_equal(
	    t_eval(rs, &(struct t_req){"sshd", "9.9.9.9"}), "deny:deny:1");
	assert_string_equal(
	    t_eval(rs, &(struct t_req){"sshd", "7.7.7.7"}), "deny:deny:3");
	assert_string_equal(
	    t_eval(rs, &(struct t_req){"sshd", "8.8.8.8"}), "grant:none:0");
	acl_ruleset_unref(rs);
	unlink(path);
	free(list);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_index_equivalence),
	    cmocka_unit_test(test_big_lines),
	    cmocka_unit_test(test_big_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
