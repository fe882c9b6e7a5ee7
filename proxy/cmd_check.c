/*
 * cmd_check.c - `wrapd check`: lint hosts.allow / hosts.deny, as tcpdchk(8)
 * does, but print every problem on stdout as `file:line:col: severity: msg`
 * (tcpdchk's go to syslog, where they are usually lost).
 *
 * Exit 0 when there is no error (warnings allowed), 1 when there is at least
 * one, 2 on usage errors.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "cli_resolve.h"
#include "commands.h"

static void
check_usage(FILE *fp)
{
	fputs("usage: wrapd check [--allow FILE] [--deny FILE] [--dns]\n", fp);
}

/* Print s with control characters as \xHH, so one diagnostic = one line. */
static void
check_text(FILE *fp, const char *s)
{
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f)
			fprintf(fp, "\\x%02x", *p);
		else
			fputc(*p, fp);
	}
}

static void
check_print(
    const char *file, unsigned line, unsigned col, int error, const char *msg)
{
	check_text(stdout, file != NULL ? file : "");
	printf(":%u:%u: %s: ", line, col, error ? "error" : "warning");
	check_text(stdout, msg != NULL ? msg : "");
	putchar('\n');
}

/*
 * --dns: warn for every host name pattern that does not resolve, or that
 * resolves to several addresses (tcpdchk does both).  Each distinct name is
 * looked up once; every place it is written gets the warning.
 */
struct check_dns {
	char **names;
	size_t *counts;
	const char **errs;
	size_t n, cap;
	size_t warnings;
	int oom;
};

/* Index of name in the cache, looking it up first if new; -1 if no memory. */
static long
check_dns_lookup(struct check_dns *d, const char *name)
{
	size_t i;
	const char *err;

	for (i = 0; i < d->n; i++)
		if (strcasecmp(d->names[i], name) == 0)
			return (long)i;
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		char **nn;
		size_t *nc;
		const char **ne;

		nn = realloc(d->names, cap * sizeof(*nn));
		if (nn == NULL)
			return -1;
		d->names = nn;
		nc = realloc(d->counts, cap * sizeof(*nc));
		if (nc == NULL)
			return -1;
		d->counts = nc;
		ne = realloc(d->errs, cap * sizeof(*ne));
		if (ne == NULL)
			return -1;
		d->errs = ne;
		d->cap = cap;
	}
	d->names[i] = strdup(name);
	if (d->names[i] == NULL)
		return -1;
	d->counts[i] = cli_resolve_count(name, &err);
	d->errs[i] = err;
	d->n++;
	return (long)i;
}

static void
check_dns_cb(
    void *arg, const char *file, unsigned line, unsigned col, const char *name)
{
	struct check_dns *d = arg;
	char msg[512];
	long i;

	i = check_dns_lookup(d, name);
	if (i < 0) {
		d->oom = 1;
		return;
	}
	if (d->counts[i] == 0) {
		snprintf(msg, sizeof(msg),
		    "host name \"%s\" does not resolve%s%s%s", name,
		    d->errs[i] ? " (" : "", d->errs[i] ? d->errs[i] : "",
		    d->errs[i] ? ")" : "");
	} else if (d->counts[i] > 1) {
		snprintf(msg, sizeof(msg),
		    "host name \"%s\" resolves to %zu addresses of one family",
		    name, d->counts[i]);
	} else {
		return;
	}
	check_print(file, line, col, 0, msg);
	d->warnings++;
}

int
cmd_check(int argc, char **argv)
{
	enum {
		OPT_ALLOW = 256,
		OPT_DENY,
		OPT_DNS,
		OPT_HELP,
	};
	static const struct option longopts[] = {
	    {"allow", required_argument, NULL, OPT_ALLOW},
	    {"deny", required_argument, NULL, OPT_DENY},
	    {"dns", no_argument, NULL, OPT_DNS},
	    {"help", no_argument, NULL, OPT_HELP},
	    {NULL, 0, NULL, 0},
	};
	struct acl_load_opts lo;
	struct acl_diags diags;
	struct acl_ruleset *rs;
	struct check_dns dns;
	size_t i, errors, warnings;
	int c, want_dns = 0;

	memset(&lo, 0, sizeof(lo));
	memset(&diags, 0, sizeof(diags));
	memset(&dns, 0, sizeof(dns));
	lo.lint = true;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_ALLOW:
			lo.allow_path = optarg;
			break;
		case OPT_DENY:
			lo.deny_path = optarg;
			break;
		case OPT_DNS:
			want_dns = 1;
			break;
		case OPT_HELP:
			check_usage(stdout);
			return 0;
		default:
			fprintf(stderr, "wrapd check: bad option %s\n",
			    argv[optind - 1]);
			check_usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "wrapd check: unexpected argument: %s\n",
		    argv[optind]);
		check_usage(stderr);
		return 2;
	}

	rs = acl_ruleset_load(&lo, &diags);
	if (rs == NULL) {
		fprintf(stderr, "wrapd check: out of memory\n");
		acl_diags_free(&diags);
		return 1;
	}
	for (i = 0; i < diags.n; i++)
		check_print(diags.v[i].file, diags.v[i].line, diags.v[i].col,
		    diags.v[i].severity == ACL_SEV_ERROR, diags.v[i].msg);
	errors = acl_diags_errors(&diags);
	warnings = diags.n - errors;
	if (want_dns) {
		acl_ruleset_foreach_hostname(rs, check_dns_cb, &dns);
		warnings += dns.warnings;
		if (dns.oom) {
			fprintf(stderr,
			    "wrapd check: out of memory during "
			    "--dns: some names were not checked\n");
			errors++;
		}
		for (i = 0; i < dns.n; i++)
			free(dns.names[i]);
		free(dns.names);
		free(dns.counts);
		free(dns.errs);
	}
	fflush(stdout);
	fprintf(stderr, "wrapd check: %s, %s: %zu error(s), %zu warning(s)\n",
	    acl_ruleset_path(rs, ACL_TABLE_ALLOW),
	    acl_ruleset_path(rs, ACL_TABLE_DENY), errors, warnings);
	acl_diags_free(&diags);
	acl_ruleset_unref(rs);
	return errors > 0 ? 1 : 0;
}
