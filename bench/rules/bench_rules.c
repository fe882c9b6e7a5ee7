/*
 * bench_rules.c - decision cost against rule count: wrapd's acl_eval() on a
 * rule set loaded once, and libwrap's hosts_access() (dry run, in-process)
 * which re-reads the tables on every call, on the same files in the same
 * run.  Prints a markdown table; asserts nothing about time.
 *
 *   bench_rules [MAX_RULES [SECONDS_PER_CELL]]
 *
 * Forms: N lines "ALL: a.b.c.d" in hosts.deny, and one line "ALL: /file"
 * whose file lists the N addresses.  The client matches the last address
 * ("last") or none of them ("none").  Each cell runs until SECONDS_PER_CELL
 * (default 0.5) or its iteration cap, whichever comes first.
 */
#define INET6 1
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <tcpd.h>
#include <time.h>
#include <unistd.h>

#include "acl.h"

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The i-th distinct address: 10.x.y.z, never 10.255.255.255. */
static void
addr_of(unsigned long i, char *buf, size_t sz)
{
	snprintf(buf, sz, "10.%lu.%lu.%lu", (i >> 16) & 0xff, (i >> 8) & 0xff,
	    i & 0xff);
}

static int
write_tables(
    const char *dir, unsigned long n, int file_form, char *deny, size_t dsz)
{
	char list[4096], a[32];
	FILE *fp, *lp = NULL;
	unsigned long i;

	snprintf(deny, dsz, "%s/hosts.deny.%lu.%s", dir, n,
	    file_form ? "file" : "lines");
	fp = fopen(deny, "w");
	if (fp == NULL)
		return -1;
	if (file_form) {
		snprintf(list, sizeof(list), "%s/list.%lu", dir, n);
		fprintf(fp, "ALL: %s\n", list);
		lp = fopen(list, "w");
		if (lp == NULL) {
			fclose(fp);
			return -1;
		}
	}
	for (i = 0; i < n; i++) {
		addr_of(i, a, sizeof(a));
		if (file_form)
			fprintf(lp, "%s\n", a);
		else
			fprintf(fp, "ALL: %s\n", a);
	}
	if (lp != NULL && fclose(lp) != 0) {
		fclose(fp);
		return -1;
	}
	return fclose(fp);
}

struct cell {
	double ns;
	unsigned long iters;
	int verdict; /* 1 grant, 0 deny */
};

static void
bench_wrapd(const struct acl_ruleset *rs, const char *client, double secs,
    struct cell *c)
{
	struct acl_request req;
	struct acl_decision dec;
	double t0, t1;
	unsigned long i, max = 5000000, granted = 0;

	acl_request_init(&req);
	req.daemon = "sshd";
	acl_addr_parse(&req.client.addr, client);
	/* Name and user are "looked up" already: no ACL_NEED_* round trips. */
	req.client.name = ACL_UNKNOWN;
	req.user = ACL_UNKNOWN;
	t0 = now_s();
	for (i = 0; i < max; i++) {
		if (acl_eval(rs, &req, ACL_TABLE_ALLOW, &dec) != ACL_DONE)
			break;
		granted += dec.verdict == ACL_GRANT;
		if ((i & 255) == 255 && now_s() - t0 > secs) {
			i++;
			break;
		}
	}
	t1 = now_s();
	c->iters = i;
	c->ns = i ? (t1 - t0) * 1e9 / (double)i : 0;
	c->verdict = granted == i;
}

static void
bench_libwrap(const char *allow, const char *deny, const char *client,
    double secs, struct cell *c)
{
	struct request_info r;
	struct sockaddr_in sin;
	double t0, t1;
	unsigned long i, max = 200000, granted = 0;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	inet_pton(AF_INET, client, &sin.sin_addr);
	hosts_allow_table = (char *)allow;
	hosts_deny_table = (char *)deny;
	dry_run = 1;
	t0 = now_s();
	for (i = 0; i < max; i++) {
		request_init(&r, RQ_DAEMON, "sshd", RQ_CLIENT_SIN,
		    (struct sockaddr *)&sin, RQ_CLIENT_ADDR, client,
		    RQ_CLIENT_NAME, "unknown", RQ_USER, "unknown", 0);
		granted += hosts_access(&r) != 0;
		if (now_s() - t0 > secs) {
			i++;
			break;
		}
	}
	t1 = now_s();
	c->iters = i;
	c->ns = i ? (t1 - t0) * 1e9 / (double)i : 0;
	c->verdict = granted == i;
}

static void
fmt_ns(char *buf, size_t sz, double ns)
{
	if (ns >= 1e6)
		snprintf(buf, sz, "%.2f ms", ns / 1e6);
	else if (ns >= 1e3)
		snprintf(buf, sz, "%.2f µs", ns / 1e3);
	else
		snprintf(buf, sz, "%.0f ns", ns);
}

int
main(int argc, char **argv)
{
	static const unsigned long counts[] = {10, 1000, 10000, 100000};
	unsigned long max_rules =
	    argc > 1 ? strtoul(argv[1], NULL, 10) : 100000;
	double secs = argc > 2 ? atof(argv[2]) : 0.5;
	char dir[] = "/tmp/wrapd-bench-rules.XXXXXX";
	char allow[4200], deny[4200], last[32], cmd[4300];
	size_t ci;
	int form, which, rc = 0;

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(allow, sizeof(allow), "%s/hosts.allow", dir);
	fclose(fopen(allow, "w"));
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("| rules | form | client | wrapd load | wrapd / decision | "
	       "libwrap / decision | libwrap ÷ wrapd | iterations "
	       "(wrapd, libwrap) |\n");
	printf("|---:|---|---|---:|---:|---:|---:|---:|\n");
	for (ci = 0; ci < sizeof(counts) / sizeof(counts[0]); ci++) {
		unsigned long n = counts[ci];

		if (n > max_rules)
			break;
		addr_of(n - 1, last, sizeof(last));
		for (form = 0; form < 2; form++) {
			struct acl_load_opts lo;
			struct acl_diags diags;
			struct acl_ruleset *rs;
			double t0, load_ms;

			if (write_tables(dir, n, form, deny, sizeof(deny)) !=
			    0) {
				perror("write tables");
				rc = 1;
				goto out;
			}
			memset(&lo, 0, sizeof(lo));
			memset(&diags, 0, sizeof(diags));
			lo.allow_path = allow;
			lo.deny_path = deny;
			t0 = now_s();
			rs = acl_ruleset_load(&lo, &diags);
			load_ms = (now_s() - t0) * 1e3;
			acl_diags_free(&diags);
			if (rs == NULL) {
				rc = 1;
				goto out;
			}
			for (which = 0; which < 2; which++) {
				const char *client =
				    which ? "10.255.255.255" : last;
				struct cell w, l;
				char ws[32], ls[32];

				bench_wrapd(rs, client, secs, &w);
				bench_libwrap(allow, deny, client, secs, &l);
				fmt_ns(ws, sizeof(ws), w.ns);
				fmt_ns(ls, sizeof(ls), l.ns);
				printf("| %lu | %s | %s | %.1f ms | %s | %s | "
				       "%.0f× | %lu, %lu |\n",
				    n,
				    form ? "`ALL: /file`"
				         : "`ALL: a.b.c.d` lines",
				    which ? "none" : "last", load_ms, ws, ls,
				    w.ns > 0 ? l.ns / w.ns : 0.0, w.iters,
				    l.iters);
				if (w.verdict != l.verdict) {
					/* Not a timing check: the two must
					 * decide alike or the numbers mean
					 * nothing. */
					fprintf(stderr,
					    "verdicts differ: %lu rules, form "
					    "%d, "
					    "client %s: wrapd %s, libwrap %s\n",
					    n, form, client,
					    w.verdict ? "grant" : "deny",
					    l.verdict ? "grant" : "deny");
					rc = 1;
				}
			}
			acl_ruleset_unref(rs);
		}
	}
out:
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return rc;
}
