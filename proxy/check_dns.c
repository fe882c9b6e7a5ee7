/*
 * check_dns.c - `wrapd check --dns`: warn for every host name pattern that
 * does not resolve, or that resolves to several addresses (tcpdchk does
 * both).  Each distinct name is looked up once; every place it is written
 * gets the warning.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h> /* strcasecmp */

#include "check.h"
#include "cli_resolve.h"

struct check_dns_name {
	char *name;
	size_t count;    /* distinct addresses in one family; 0: none */
	const char *err; /* getaddrinfo's reason when count is 0 */
};

struct check_dns {
	struct check *k;
	struct check_dns_name *v;
	size_t n, cap;
	bool oom;
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

	if ((e = check_dns_lookup(d, name)) == NULL) {
		d->oom = true;
		return;
	}
	if (e->count == 0)
		cmd_check_diag(d->k, file, line, col, false,
		    "host name \"%s\" does not resolve%s%s%s", name,
		    e->err ? " (" : "", e->err ? e->err : "",
		    e->err ? ")" : "");
	else if (e->count > 1)
		cmd_check_diag(d->k, file, line, col, false,
		    "host name \"%s\" resolves to %zu addresses of one family",
		    name, e->count);
}

void
check_dns_names(struct check *k)
{
	struct check_dns d;
	size_t i;

	memset(&d, 0, sizeof(d));
	d.k = k;
	acl_ruleset_foreach_hostname(k->rs, check_dns_cb, &d);
	if (d.oom) {
		fprintf(stderr,
		    "wrapd check: out of memory during --dns: "
		    "some names were not checked\n");
		k->errors++;
	}
	for (i = 0; i < d.n; i++)
		free(d.v[i].name);
	free(d.v);
}
