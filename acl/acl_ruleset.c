/*
 * acl_ruleset.c - loading both tables into one immutable, refcounted rule
 * set, and looking inside it.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acl_int.h"

#define ACL_DEFAULT_ALLOW "/etc/hosts.allow"
#define ACL_DEFAULT_DENY  "/etc/hosts.deny"

static struct acl_ruleset *
acl_ruleset_new(void)
{
	struct acl_ruleset *rs = calloc(1, sizeof(*rs));
	char dom[256];

	if (rs == NULL)
		return NULL;
	atomic_init(&rs->refs, 1);
	/* yp_get_default_domain(): none, or "(none)", means any domain. */
	if (getdomainname(dom, sizeof dom) == 0 && dom[0] != '\0' &&
	    strcmp(dom, "(none)") != 0) {
		dom[sizeof dom - 1] = '\0';
		rs->nis_domain = acl__strdup(&rs->arena, dom);
	}
	return rs;
}

/*
 * Report a problem reading table t (at path).  The decisions stay
 * libwrap's: only a table that could not be opened (other than a missing
 * one, which is empty) is a table error; the others keep what was read.
 */
static void
acl_ruleset_table_read_diag(
    int t, const char *path, enum acl_read r, int err, struct acl_diags *diags)
{
	static const char *const defaults[2] = {
	    ACL_DEFAULT_ALLOW, ACL_DEFAULT_DENY};
	char what[PATH_MAX + 128];

	if (r == ACL_READ_OK)
		return;
	acl__read_problem(r, path, err, what, sizeof what);
	if (r == ACL_READ_FAILED && err == ENOENT) {
		if (strcmp(path, defaults[t]) == 0)
			acl__diag(diags, path, 0, 0, ACL_SEV_WARNING,
			    "%s: an empty table, as in libwrap", what);
		else
			acl__diag(diags, path, 0, 0, ACL_SEV_ERROR,
			    "%s: a table named on purpose must exist (only "
			    "the default %s may be missing; libwrap would "
			    "read it as empty)",
			    what, defaults[t]);
	} else if (r == ACL_READ_FAILED) {
		acl__diag(diags, path, 0, 0, ACL_SEV_ERROR,
		    "%s (treated as a table error: %s)", what,
		    t == 0 ? "the allow table never matches"
		           : "the deny table denies every request");
	} else {
		acl__diag(diags, path, 0, 0, ACL_SEV_ERROR, "%s", what);
	}
}

/* Table t from the file at path: vetted, read, reported, then parsed. */
static int
acl_ruleset_load_path(struct acl_ruleset *rs, struct acl_loader *ld, int t,
    const char *path, const struct acl_load_opts *opts, struct acl_diags *diags)
{
	enum acl_read r;
	char *buf;
	size_t len;
	int err, rc;

	acl__vet(opts->vet, opts->vet_arg, path, diags, path, 0, 0);
	r = acl__read_path(path, &buf, &len, &err);
	if (r == ACL_READ_FAILED && err == ENOMEM)
		return -1;
	acl_ruleset_table_read_diag(t, path, r, err, diags);
	rc = acl__load_table(rs, ld, t, path, buf != NULL ? buf : "", len,
	    r == ACL_READ_FAILED ? err : 0);
	free(buf);
	return rc;
}

/*
 * Both tables: from the files names[] when opts is set, else from the
 * texts (names are then only for diagnostics).
 */
static struct acl_ruleset *
acl_ruleset_load_tables(const char *const names[2], const char *const texts[2],
    const size_t lens[2], bool lint, const struct acl_load_opts *opts,
    struct acl_diags *diags)
{
	struct acl_ruleset *rs = acl_ruleset_new();
	struct acl_loader *ld;
	int t, rc;

	if (rs == NULL)
		return NULL;
	ld = acl__loader_new(rs, lint, opts != NULL ? opts->vet : NULL,
	    opts != NULL ? opts->vet_arg : NULL, diags);
	if (ld == NULL) {
		acl_ruleset_unref(rs);
		return NULL;
	}
	if (opts != NULL)
		acl__loader_geo(ld, opts->geo);
	for (t = 0; t < 2; t++) {
		if (opts != NULL)
			rc = acl_ruleset_load_path(
			    rs, ld, t, names[t], opts, diags);
		else
			rc = acl__load_table(rs, ld, t, names[t],
			    texts[t] != NULL ? texts[t] : "", lens[t], 0);
		if (rc != 0 || rs->arena.failed) {
			acl__loader_free(ld);
			acl_ruleset_unref(rs);
			return NULL;
		}
	}
	acl__loader_free(ld);
	return rs;
}

struct acl_ruleset *
acl_ruleset_load(const struct acl_load_opts *opts, struct acl_diags *diags)
{
	static const struct acl_load_opts none;
	const char *names[2];

	if (opts == NULL)
		opts = &none;
	names[0] =
	    opts->allow_path != NULL ? opts->allow_path : ACL_DEFAULT_ALLOW;
	names[1] = opts->deny_path != NULL ? opts->deny_path : ACL_DEFAULT_DENY;
	return acl_ruleset_load_tables(
	    names, NULL, NULL, opts->lint, opts, diags);
}

struct acl_ruleset *
acl_ruleset_load_mem(const char *allow_name, const char *allow_text,
    size_t allow_len, const char *deny_name, const char *deny_text,
    size_t deny_len, bool lint, struct acl_diags *diags)
{
	const char *names[2] = {allow_name != NULL ? allow_name : "hosts.allow",
	    deny_name != NULL ? deny_name : "hosts.deny"};
	const char *texts[2] = {allow_text, deny_text};
	const size_t lens[2] = {allow_text != NULL ? allow_len : 0,
	    deny_text != NULL ? deny_len : 0};

	return acl_ruleset_load_tables(names, texts, lens, lint, NULL, diags);
}

struct acl_ruleset *
acl_ruleset_ref(struct acl_ruleset *rs)
{
	if (rs != NULL)
		atomic_fetch_add_explicit(&rs->refs, 1, memory_order_relaxed);
	return rs;
}

void
acl_ruleset_unref(struct acl_ruleset *rs)
{
	if (rs == NULL)
		return;
	if (atomic_fetch_sub_explicit(&rs->refs, 1, memory_order_acq_rel) != 1)
		return;
	acl__arena_free(&rs->arena);
	free(rs);
}

static const struct acl_tab *
acl_ruleset_tab_of(const struct acl_ruleset *rs, enum acl_table t)
{
	if (rs == NULL)
		return NULL;
	if (t == ACL_TABLE_ALLOW)
		return &rs->tabs[0];
	if (t == ACL_TABLE_DENY)
		return &rs->tabs[1];
	return NULL;
}

size_t
acl_ruleset_rule_count(const struct acl_ruleset *rs, enum acl_table t)
{
	const struct acl_tab *tab = acl_ruleset_tab_of(rs, t);

	return tab != NULL ? tab->nrules : 0;
}

const struct acl_rule *
acl_ruleset_rule(const struct acl_ruleset *rs, enum acl_table t, size_t i)
{
	const struct acl_tab *tab = acl_ruleset_tab_of(rs, t);

	if (tab == NULL || i >= tab->nrules)
		return NULL;
	return &tab->rules[i].pub;
}

const char *
acl_ruleset_path(const struct acl_ruleset *rs, enum acl_table t)
{
	const struct acl_tab *tab = acl_ruleset_tab_of(rs, t);

	return tab != NULL ? tab->path : NULL;
}

unsigned
acl_ruleset_geo_uses(const struct acl_ruleset *rs)
{
	return rs != NULL ? rs->geo_uses : 0;
}

static bool
acl_ruleset_is_hostname(const struct acl_hostpat *hp)
{
	const char *s = hp->sp.text;

	return hp->kind == ACL_HP_STRING && hp->name_too &&
	    hp->sp.kind == ACL_SP_EXACT && strcasecmp(s, ACL_UNKNOWN) != 0 &&
	    strcasecmp(s, ACL_PARANOID) != 0 && strchr(s, '[') == NULL;
}

static void
acl_ruleset_list_names(const struct acl_list *l,
    void (*cb)(void *, const char *, unsigned, unsigned, const char *),
    void *arg, const char *file)
{
	unsigned s, i;

	for (s = 0; s < l->nseg; s++) {
		for (i = 0; i < l->segs[s].n; i++) {
			const struct acl_item *it = &l->segs[s].items[i];

			if (it->has_host && acl_ruleset_is_hostname(&it->host))
				cb(arg, file, it->line,
				    it->col +
				        (unsigned)(it->host.sp.text == NULL
				                ? 0
				                : strlen(it->text) -
				                    strlen(it->host.text)),
				    it->host.sp.text);
		}
	}
}

void
acl_ruleset_foreach_hostname(const struct acl_ruleset *rs,
    void (*cb)(void *arg, const char *file, unsigned line, unsigned col,
        const char *name),
    void *arg)
{
	int t;
	size_t i;

	if (rs == NULL || cb == NULL)
		return;
	for (t = 0; t < 2; t++) {
		const struct acl_tab *tab = &rs->tabs[t];

		for (i = 0; i < tab->nrules; i++) {
			acl_ruleset_list_names(&tab->rules[i].daemons, cb, arg,
			    tab->rules[i].pub.file);
			acl_ruleset_list_names(&tab->rules[i].clients, cb, arg,
			    tab->rules[i].pub.file);
		}
	}
}

/* Does pattern item `it` of a daemon list match one of the names? */
static bool
acl_ruleset_daemon_used(
    const struct acl_item *it, const char *const *daemons, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (acl__strpat_match(&it->name, daemons[i]))
			return true;
	return false;
}

void
acl_ruleset_foreach_unused_daemon(const struct acl_ruleset *rs,
    const char *const *daemons, size_t n,
    void (*cb)(void *arg, const char *file, unsigned line, unsigned col,
        const char *pattern),
    void *arg)
{
	const struct acl_list *l;
	const struct acl_item *it;
	unsigned s, k;
	size_t t, i;

	if (rs == NULL || cb == NULL)
		return;
	for (t = 0; t < 2; t++) {
		for (i = 0; i < rs->tabs[t].nrules; i++) {
			l = &rs->tabs[t].rules[i].daemons;
			for (s = 0; s < l->nseg; s++) {
				for (k = 0; k < l->segs[s].n; k++) {
					it = &l->segs[s].items[k];
					/* ALL and KNOWN name every daemon;
					   a number is a port. */
					if (!it->has_name || it->port >= 0 ||
					    it->name.kind == ACL_SP_ALL ||
					    it->name.kind == ACL_SP_KNOWN ||
					    acl_ruleset_daemon_used(
					        it, daemons, n))
						continue;
					cb(arg, rs->tabs[t].rules[i].pub.file,
					    it->line, it->col, it->name.text);
				}
			}
		}
	}
}
