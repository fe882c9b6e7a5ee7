/*
 * cmd_check.c - `wrapd check`: lint hosts.allow / hosts.deny, as tcpdchk(8)
 * does, but print every problem on stdout as `file:line:col: severity: msg`
 * (tcpdchk's go to syslog, where they are usually lost).
 *
 * Besides what tcpdchk finds, it reports as errors what wrapd refuses to run
 * with: a /file list that cannot be read, a missing table other than the
 * defaults, files someone other than root or the user running the check
 * could change (conf_trust.h), GeoIP databases that wrapd would refuse
 * (--geoip-country, --geoip-asn), and country= / asn= patterns whose
 * database is not given.
 *
 * Exit 0 when there is no error (warnings allowed), 1 when there is at least
 * one, 2 on usage errors.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h> /* strcasecmp */
#include <unistd.h>

#include "acl.h"
#include "cli_resolve.h"
#include "cli_text.h"
#include "commands.h"
#include "conf_trust.h"
#include "geoip.h"

static void
check_usage(FILE *fp)
{
	fputs("usage: wrapd check [--allow FILE] [--deny FILE] [--dns]\n"
	      "                   [--geoip-country FILE] [--geoip-asn FILE]\n",
	    fp);
}

/* A GeoIP database wrapd would refuse: an error about the file itself. */
static void
check_geoip_report(void *arg, const char *path, const char *msg)
{
	size_t *errors = arg;

	cli_text_diag(stdout, path, 0, 0, 1, msg);
	(*errors)++;
}

/*
 * --dns: warn for every host name pattern that does not resolve, or that
 * resolves to several addresses (tcpdchk does both).  Each distinct name is
 * looked up once; every place it is written gets the warning.
 */
struct check_dns_name {
	char *name;
	size_t count;    /* distinct addresses in one family; 0: none */
	const char *err; /* getaddrinfo's reason when count is 0 */
};

struct check_dns {
	struct check_dns_name *v;
	size_t n, cap;
	size_t warnings;
	int oom;
};

/* The cache entry for name, looking it up first if new; NULL if no memory. */
static const struct check_dns_name *
check_dns_lookup(struct check_dns *d, const char *name)
{
	struct check_dns_name *e;
	size_t i;

	for (i = 0; i < d->n; i++)
		if (strcasecmp(d->v[i].name, name) == 0)
			return &d->v[i];
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		struct check_dns_name *nv = realloc(d->v, cap * sizeof(*nv));

		if (nv == NULL)
			return NULL;
		d->v = nv;
		d->cap = cap;
	}
	e = &d->v[d->n];
	if ((e->name = strdup(name)) == NULL)
		return NULL;
	e->count = cli_resolve_count(name, &e->err);
	d->n++;
	return e;
}

static void
check_dns_cb(
    void *arg, const char *file, unsigned line, unsigned col, const char *name)
{
	struct check_dns *d = arg;
	const struct check_dns_name *e;
	char msg[512];

	if ((e = check_dns_lookup(d, name)) == NULL) {
		d->oom = 1;
		return;
	}
	if (e->count == 0) {
		snprintf(msg, sizeof(msg),
		    "host name \"%s\" does not resolve%s%s%s", name,
		    e->err ? " (" : "", e->err ? e->err : "",
		    e->err ? ")" : "");
	} else if (e->count > 1) {
		snprintf(msg, sizeof(msg),
		    "host name \"%s\" resolves to %zu addresses of one family",
		    name, e->count);
	} else {
		return;
	}
	cli_text_diag(stdout, file, line, col, 0, msg);
	d->warnings++;
}

int
cmd_check(int argc, char **argv)
{
	enum {
		OPT_ALLOW = 256,
		OPT_DENY,
		OPT_DNS,
		OPT_GEOIP_COUNTRY,
		OPT_GEOIP_ASN,
		OPT_HELP,
	};
	static const struct option longopts[] = {
	    {"allow", required_argument, NULL, OPT_ALLOW},
	    {"deny", required_argument, NULL, OPT_DENY},
	    {"dns", no_argument, NULL, OPT_DNS},
	    {"geoip-country", required_argument, NULL, OPT_GEOIP_COUNTRY},
	    {"geoip-asn", required_argument, NULL, OPT_GEOIP_ASN},
	    {"help", no_argument, NULL, OPT_HELP},
	    {NULL, 0, NULL, 0},
	};
	struct acl_load_opts lo;
	struct acl_diags diags;
	struct acl_ruleset *rs;
	struct check_dns dns;
	struct geoip geo;
	const char *geo_paths[2] = {NULL, NULL};
	size_t i, errors, warnings, geo_errors = 0;
	int c, want_dns = 0;
	uid_t owner = geteuid();

	memset(&lo, 0, sizeof(lo));
	memset(&diags, 0, sizeof(diags));
	memset(&dns, 0, sizeof(dns));
	lo.lint = true;
	/* The files wrapd itself would refuse, run by the same user. */
	lo.vet = conf_trust_vet;
	lo.vet_arg = &owner;
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
		case OPT_GEOIP_COUNTRY:
		case OPT_GEOIP_ASN:
			geo_paths[c == OPT_GEOIP_ASN] = optarg;
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

	/*
	 * As wrapd reads them.  A database refused is an error, and the
	 * patterns that need it are reported as having none.
	 */
	(void)geoip_open(&geo, geo_paths[0], geo_paths[1], conf_trust_vet,
	    &owner, check_geoip_report, &geo_errors);
	lo.geo = geoip_have(&geo);
	geoip_close(&geo);
	rs = acl_ruleset_load(&lo, &diags);
	if (rs == NULL) {
		fprintf(stderr, "wrapd check: out of memory\n");
		acl_diags_free(&diags);
		return 1;
	}
	for (i = 0; i < diags.n; i++)
		cli_text_diag(stdout, diags.v[i].file, diags.v[i].line,
		    diags.v[i].col, diags.v[i].severity == ACL_SEV_ERROR,
		    diags.v[i].msg);
	errors = acl_diags_errors(&diags) + geo_errors;
	warnings = diags.n - acl_diags_errors(&diags);
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
			free(dns.v[i].name);
		free(dns.v);
	}
	fflush(stdout);
	fprintf(stderr, "wrapd check: %s, %s: %zu error(s), %zu warning(s)\n",
	    acl_ruleset_path(rs, ACL_TABLE_ALLOW),
	    acl_ruleset_path(rs, ACL_TABLE_DENY), errors, warnings);
	acl_diags_free(&diags);
	acl_ruleset_unref(rs);
	return errors > 0 ? 1 : 0;
}
