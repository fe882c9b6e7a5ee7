/*
 * bench_rules.c - decision cost against rule count: wrapd's acl_eval() on a
 * rule set loaded once, and libwrap's hosts_access() (dry run, in-process)
 * which re-reads the tables on every call, on the same files in the same
 * run.  Prints a markdown table; asserts nothing about time.
 *
 *   bench_rules [MAX_RULES [SECONDS_PER_CELL [GEOIP_DIR]]]
 *
 * Forms: N lines "ALL: a.b.c.d" in hosts.deny, and one line "ALL: /file"
 * whose file lists the N addresses.  The client matches the last address
 * ("last") or none of them ("none").  Each cell runs until SECONDS_PER_CELL
 * (default 0.5) or its iteration cap, whichever comes first.
 *
 * With GEOIP_DIR (country-big.mmdb and asn-big.mmdb of make_mmdb.pl
 * --big), a second table: N hosts.deny lines mixing "ALL: country=XX",
 * "ALL: asn=N" and "ALL: a.b.c.d" (lines, and one /file), decided with the
 * client's country and AS number given; and what looking them up in the
 * databases (proxy/geoip.c) costs per connection.  libwrap has no such
 * patterns: the verdicts are checked against a plain scan of the rules.
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
#include "geoip.h"

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

/*
 * hosts.deny with the words word(0) .. word(n-1): one "ALL: word" line
 * each, or (file_form) one "ALL: /file" line whose file lists them.  tag
 * keeps the files of each kind of table apart.
 */
static int
write_tables(const char *dir, const char *tag, unsigned long n, int file_form,
    void (*word)(unsigned long, char *, size_t), char *deny, size_t dsz)
{
	char list[4096], w[64];
	FILE *fp, *lp = NULL;
	unsigned long i;

	snprintf(deny, dsz, "%s/hosts.deny.%s%lu.%s", dir, tag, n,
	    file_form ? "file" : "lines");
	fp = fopen(deny, "w");
	if (fp == NULL)
		return -1;
	if (file_form) {
		snprintf(list, sizeof(list), "%s/%slist.%lu", dir, tag, n);
		fprintf(fp, "ALL: %s\n", list);
		lp = fopen(list, "w");
		if (lp == NULL) {
			fclose(fp);
			return -1;
		}
	}
	for (i = 0; i < n; i++) {
		word(i, w, sizeof(w));
		if (file_form)
			fprintf(lp, "%s\n", w);
		else
			fprintf(fp, "ALL: %s\n", w);
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

/* ---------------------------------------------------------------------
 * GeoIP patterns.
 */

/* Rule i of the GeoIP table: a country, an AS number or an address. */
enum geo_kind {
	GEO_COUNTRY,
	GEO_ASN,
	GEO_ADDR
};

static unsigned
geo_kind_of(unsigned long i)
{
	return (unsigned)(i % 3);
}

/* Codes AA..YZ (never ZZ: the "none" client's). */
static void
geo_code(unsigned long i, char c[3])
{
	c[0] = (char)('A' + (i / 26) % 25);
	c[1] = (char)('A' + i % 26);
	c[2] = '\0';
}

static void
geo_word(unsigned long i, char *buf, size_t sz)
{
	char c[3], a[32];

	switch (geo_kind_of(i)) {
	case GEO_COUNTRY:
		geo_code(i, c);
		snprintf(buf, sz, "country=%s", c);
		break;
	case GEO_ASN:
		snprintf(buf, sz, "asn=%lu", 100000 + i);
		break;
	default:
		addr_of(i, a, sizeof a);
		snprintf(buf, sz, "%s", a);
		break;
	}
}

static const char *const geo_client_names[] = {"country of the last `country=`",
    "AS of the last `asn=`", "last address", "none"};

/*
 * The client whose country, AS number or address is that of the last rule
 * of its kind (which: enum geo_kind), or with which == 3 in none: its
 * facts, and the 1-based line of the first rule it matches by a plain scan
 * (0: none; an earlier rule with the same country decides).
 */
static unsigned long
geo_client(unsigned long n, int which, struct acl_request *req)
{
	unsigned long i, last = n - 1;
	char c[3], a[32];

	acl_request_init(req);
	req->daemon = "sshd";
	req->client.name = ACL_UNKNOWN;
	req->user = ACL_UNKNOWN;
	req->geo.country_state = req->geo.asn_state = ACL_GEO_FOUND;
	memcpy(req->geo.country, "ZZ", 3);
	req->geo.asn = 1;
	acl_addr_parse(&req->client.addr, "11.0.0.1");
	while (which < 3 && last > 0 && geo_kind_of(last) != (unsigned)which)
		last--;
	if (which < 3 && geo_kind_of(last) == (unsigned)which) {
		switch (geo_kind_of(last)) {
		case GEO_COUNTRY:
			geo_code(last, req->geo.country);
			break;
		case GEO_ASN:
			req->geo.asn = (uint32_t)(100000 + last);
			break;
		default:
			addr_of(last, a, sizeof a);
			acl_addr_parse(&req->client.addr, a);
			break;
		}
	}
	for (i = 0; i < n; i++) {
		if (geo_kind_of(i) == GEO_COUNTRY) {
			geo_code(i, c);
			if (memcmp(c, req->geo.country, 2) == 0)
				return i + 1;
		} else if (geo_kind_of(i) == GEO_ASN) {
			if (req->geo.asn == 100000 + i)
				return i + 1;
		} else {
			struct acl_addr x;

			addr_of(i, a, sizeof a);
			acl_addr_parse(&x, a);
			if (memcmp(x.bytes, req->client.addr.bytes, 4) == 0)
				return i + 1;
		}
	}
	return 0;
}

/* Decisions per second for req; *line the deciding line (0: none). */
static void
geo_bench_eval(const struct acl_ruleset *rs, const struct acl_request *req,
    double secs, struct cell *c, unsigned *line)
{
	struct acl_decision dec;
	double t0;
	unsigned long i, max = 5000000;

	*line = 0;
	t0 = now_s();
	for (i = 0; i < max; i++) {
		if (acl_eval(rs, req, ACL_TABLE_ALLOW, &dec) != ACL_DONE)
			break;
		if ((i & 255) == 255 && now_s() - t0 > secs) {
			i++;
			break;
		}
	}
	c->ns = i ? (now_s() - t0) * 1e9 / (double)i : 0;
	c->iters = i;
	if (acl_eval(rs, req, ACL_TABLE_ALLOW, &dec) == ACL_DONE &&
	    dec.rule != NULL)
		*line = dec.rule->line;
}

/* The cost of geoip_fill (both databases) for the client at addr. */
static void
geo_bench_lookup(const struct geoip *g, const struct acl_ruleset *rs,
    const char *addr, double secs, struct cell *c, struct acl_geo *got)
{
	struct acl_request req;
	double t0;
	unsigned long i, max = 5000000;

	acl_request_init(&req);
	acl_addr_parse(&req.client.addr, addr);
	t0 = now_s();
	for (i = 0; i < max; i++) {
		geoip_fill(g, rs, &req);
		if ((i & 255) == 255 && now_s() - t0 > secs) {
			i++;
			break;
		}
	}
	c->ns = i ? (now_s() - t0) * 1e9 / (double)i : 0;
	c->iters = i;
	*got = req.geo;
}

static void
geo_report_error(void *arg, const char *path, const char *msg)
{
	(void)arg;
	fprintf(stderr, "%s: %s\n", path, msg);
}

static int
bench_geo(const char *dir, const char *allow, const char *geodir,
    unsigned long max_rules, double secs)
{
	static const unsigned long counts[] = {10, 1000, 10000, 100000};
	char deny[4200], cpath[4200], apath[4200], ws[32];
	struct geoip g;
	size_t ci;
	int form, which, rc = 0;

	snprintf(cpath, sizeof cpath, "%s/country-big.mmdb", geodir);
	snprintf(apath, sizeof apath, "%s/asn-big.mmdb", geodir);
	if (geoip_open(&g, cpath, apath, NULL, NULL, geo_report_error, NULL) !=
	    0)
		return 1;
	printf("\n| rules | form | client | wrapd load | wrapd / decision "
	       "| deciding line | iterations |\n");
	printf("|---:|---|---|---:|---:|---:|---:|\n");
	for (ci = 0; ci < sizeof counts / sizeof counts[0]; ci++) {
		unsigned long n = counts[ci];

		if (n > max_rules)
			break;
		for (form = 0; form < 2; form++) {
			struct acl_load_opts lo;
			struct acl_ruleset *rs;
			double t0, load_ms;

			if (write_tables(dir, "geo.", n, form, geo_word, deny,
			        sizeof deny) != 0) {
				perror("write tables");
				rc = 1;
				break;
			}
			memset(&lo, 0, sizeof lo);
			lo.allow_path = allow;
			lo.deny_path = deny;
			lo.geo = ACL_GEO_COUNTRY | ACL_GEO_ASN;
			t0 = now_s();
			rs = acl_ruleset_load(&lo, NULL);
			load_ms = (now_s() - t0) * 1e3;
			if (rs == NULL) {
				rc = 1;
				break;
			}
			for (which = 0; which < 4; which++) {
				struct acl_request req;
				unsigned long want = geo_client(n, which, &req);
				struct cell w;
				unsigned got;

				geo_bench_eval(rs, &req, secs, &w, &got);
				fmt_ns(ws, sizeof ws, w.ns);
				printf(
				    "| %lu | %s | %s | %.1f ms | %s | %u | %lu "
				    "|\n",
				    n,
				    form ? "`ALL: /file` of the words"
				         : "`ALL: country=XX` / `asn=N` / "
				           "`a.b.c.d` lines",
				    geo_client_names[which], load_ms, ws, got,
				    w.iters);
				/* /file: one line decides, whichever word. */
				if (got !=
				    (form ? (want ? 1u : 0u)
				          : (unsigned)want)) {
					fprintf(stderr,
					    "GeoIP: %lu rules, form %d, "
					    "client %s: line %u, a plain scan "
					    "says %lu\n",
					    n, form, geo_client_names[which],
					    got, want);
					rc = 1;
				}
			}
			acl_ruleset_unref(rs);
		}
	}
	/* The look-ups themselves, once per connection when rules use them. */
	{
		static const char deny_text[] = "ALL: country=AA asn=1\n";
		struct acl_ruleset *rs = acl_ruleset_load_mem("a", "", 0, "d",
		    deny_text, sizeof deny_text - 1, false, NULL);
		const char *addrs[2] = {"11.0.0.1", "12.0.0.1"};
		struct cell c;
		struct acl_geo got;
		int k;

		printf("\n| look-up (country and ASN databases, %s) | client "
		       "| found | wrapd / look-up | iterations |\n",
		    "10,000 networks each");
		printf("|---|---|---|---:|---:|\n");
		for (k = 0; k < 2; k++) {
			geo_bench_lookup(&g, rs, addrs[k], secs, &c, &got);
			fmt_ns(ws, sizeof ws, c.ns);
			printf("| `geoip_fill()` | %s | %s | %s | %lu |\n",
			    addrs[k],
			    got.country_state == ACL_GEO_FOUND ? got.country
			                                       : "none",
			    ws, c.iters);
			if ((got.country_state == ACL_GEO_FOUND) != (k == 0)) {
				fprintf(stderr, "GeoIP: %s found %d\n",
				    addrs[k], (int)got.country_state);
				rc = 1;
			}
		}
		acl_ruleset_unref(rs);
	}
	geoip_close(&g);
	return rc;
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

			if (write_tables(dir, "", n, form, addr_of, deny,
			        sizeof(deny)) != 0) {
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
	if (argc > 3 && bench_geo(dir, allow, argv[3], max_rules, secs) != 0)
		rc = 1;
out:
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return rc;
}
