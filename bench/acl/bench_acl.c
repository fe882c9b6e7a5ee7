/*
 * bench_acl.c - how long one acl_eval() takes against large rule sets:
 * 100,000 hosts.deny lines "ALL: a.b.c.d", one rule "ALL: /file" whose
 * file lists 100,000 addresses and CIDRs, and the same 100k lines
 * evaluated linearly (no index) for comparison.
 *
 *   bench_acl [iterations]
 *
 * Prints CPU nanoseconds per decision (thread CPU time, so a busy machine
 * does not inflate it); asserts nothing (timing depends on the
 * machine).  The decisions themselves are checked by tests/acl.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "acl.h"
#include "acl_int.h"

#define N 100000

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void
addr_of(unsigned i, char *buf, size_t n)
{
	snprintf(buf, n, "%u.%u.%u.%u", 11 + i / 65536 % 200, i / 256 % 256,
	    i % 256, 1 + i % 200);
}

static void
run(const char *what, struct acl_ruleset *rs, unsigned iters, int linear)
{
	struct acl_request *reqs = calloc(1024, sizeof(*reqs));
	struct acl_decision d;
	unsigned i, denied = 0;
	char a[32];
	double t0, t1;

	for (i = 0; i < 1024; i++) {
		acl_request_init(&reqs[i]);
		reqs[i].daemon = "sshd";
		/* half listed, half not */
		if (i % 2)
			addr_of((i * 7919u) % N, a, sizeof a);
		else
			snprintf(
			    a, sizeof a, "9.%u.%u.%u", i % 200, i % 7, i % 11);
		acl_addr_parse(&reqs[i].client.addr, a);
		reqs[i].client.name = "unknown";
		reqs[i].user = "unknown";
	}
	t0 = now();
	for (i = 0; i < iters; i++) {
		if (linear)
			acl__eval_linear(rs, &reqs[i % 1024], &d);
		else
			acl_eval(rs, &reqs[i % 1024], ACL_TABLE_ALLOW, &d);
		denied += d.verdict == ACL_DENY;
	}
	t1 = now();
	printf("%-34s %9.1f ns/decision (%u of %u denied)\n", what,
	    (t1 - t0) / iters, denied, iters);
	free(reqs);
}

int
main(int argc, char **argv)
{
	unsigned iters = argc > 1 ? (unsigned)atoi(argv[1]) : 200000;
	char *deny = malloc((size_t)N * 32), *list = malloc((size_t)N * 32);
	char a[32], path[] = "/tmp/wrapd-bench-XXXXXX", rule[128];
	size_t o = 0, lo = 0;
	unsigned i;
	int fd;
	struct acl_ruleset *rs;
	double t0;

	for (i = 0; i < N; i++) {
		addr_of(i, a, sizeof a);
		o += (size_t)sprintf(deny + o, "ALL: %s\n", a);
		if (i % 2)
			lo += (size_t)sprintf(list + lo, "%s\n", a);
		else
			lo += (size_t)sprintf(list + lo, "%.*s0/24\n",
			    (int)(strrchr(a, '.') - a + 1), a);
	}
	t0 = now();
	rs = acl_ruleset_load_mem("allow", "", 0, "deny", deny, o, false, NULL);
	printf("load 100k lines: %.1f ms\n", (now() - t0) / 1e6);
	run("100k lines, indexed", rs, iters, 0);
	run("100k lines, linear (reference)", rs, iters / 100 + 1, 1);
	acl_ruleset_unref(rs);

	fd = mkstemp(path);
	if (fd < 0 || write(fd, list, lo) != (ssize_t)lo)
		return 1;
	close(fd);
	snprintf(rule, sizeof rule, "sshd: 10.0.0.1 : allow\nALL: %s\n", path);
	t0 = now();
	rs = acl_ruleset_load_mem(
	    "allow", "", 0, "deny", rule, strlen(rule), false, NULL);
	printf("load /file of 100k: %.1f ms\n", (now() - t0) / 1e6);
	run("ALL: /file (100k), indexed", rs, iters, 0);
	acl_ruleset_unref(rs);
	unlink(path);

	rs = acl_ruleset_load_mem("allow", "sshd: .example.com\n", 19, "deny",
	    "ALL: ALL\n", 9, false, NULL);
	run("2 small rules", rs, iters, 0);
	acl_ruleset_unref(rs);
	free(deny);
	free(list);
	return 0;
}
