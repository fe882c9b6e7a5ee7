/*
 * acl_diags.c - the diagnostics of loading and checking rules: each with
 * its file, line, column and severity.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acl_int.h"

/* ---------------------------------------------------------------------
 * Diagnostics.
 */
void
acl__diag(struct acl_diags *d, const char *file, unsigned line, unsigned col,
    enum acl_severity sev, const char *fmt, ...)
{
	struct acl_diag *g;
	va_list ap;
	char buf[1024];

	if (d == NULL)
		return;
	if (d->n == d->cap) {
		size_t ncap = d->cap ? d->cap * 2 : 16;
		struct acl_diag *nv = realloc(d->v, ncap * sizeof(*nv));

		if (nv == NULL)
			return;
		d->v = nv;
		d->cap = ncap;
	}
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	g = &d->v[d->n];
	g->file = strdup(file != NULL ? file : "");
	g->msg = strdup(buf);
	if (g->file == NULL || g->msg == NULL) {
		free(g->file);
		free(g->msg);
		return;
	}
	g->line = line;
	g->col = col;
	g->severity = sev;
	d->n++;
}

void
acl_diags_free(struct acl_diags *d)
{
	size_t i;

	if (d == NULL)
		return;
	for (i = 0; i < d->n; i++) {
		free(d->v[i].file);
		free(d->v[i].msg);
	}
	free(d->v);
	d->v = NULL;
	d->n = d->cap = 0;
}

size_t
acl_diags_errors(const struct acl_diags *d)
{
	size_t i, n = 0;

	if (d == NULL)
		return 0;
	for (i = 0; i < d->n; i++)
		if (d->v[i].severity == ACL_SEV_ERROR)
			n++;
	return n;
}
