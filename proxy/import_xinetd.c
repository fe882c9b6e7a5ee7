/*
 * import_xinetd.c - read xinetd's configuration (xinetd.conf(5)) into
 * imported services.
 *
 *   defaults { attr = values... }
 *   service NAME { attr = values...  attr += values...  attr -= values... }
 *   includedir DIR      include FILE
 *
 * What maps: socket_type stream over tcp, server and server_args (and a
 * tcpd in server with the daemon name tcpd would use), user, group, port,
 * bind/interface (listen address), flags IPv4/IPv6/NAMEINARGS, wait
 * (max_connections: 1), instances (max_connections), per_source,
 * redirect (a TCP backend), libwrap (the daemon name), only_from and
 * no_access (hosts.allow and hosts.deny lines), access_times (wrapd's
 * access_times), disable and the defaults' disabled/enabled lists.  Every other attribute is a note "not mapped"
 * at its file:line; UDP, RPC, TCPMUX and internal services are skipped.
 *
 * Address lists: xinetd's forms (0.0.0.0, trailing-zero wildcards,
 * a.b.{c,d}, CIDR, IPv6, names, .domain) become hosts_access(5) patterns.
 * A pattern that cannot be written is dropped from only_from (which
 * then grants less) and makes a no_access service skipped (it would
 * grant more): never wider than xinetd.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "conf.h"
#include "import_xinetd.h"

#define XI_MAX_ATTRS   64
#define XI_MAX_VALUES  256
#define XI_MAX_DEPTH   3 /* include / includedir nesting */
#define XI_MAX_SECTION 4096
#define XI_TCPD        "tcpd"

enum xi_mode {
	XI_UNSET,
	XI_SET, /* "=": the section's own value */
	XI_ADD, /* only "+=" / "-=": the defaults' value, changed */
};

struct xi_attr {
	char *name;
	char *vals[XI_MAX_VALUES];
	size_t n;
	char *minus[XI_MAX_VALUES]; /* "-=" values */
	size_t nminus;
	enum xi_mode mode;
	unsigned line;
};

struct xi_section {
	char *name; /* NULL: defaults */
	char *file;
	unsigned line;
	struct xi_attr attrs[XI_MAX_ATTRS];
	size_t nattrs;
};

struct xi_reader {
	struct import_set *set;
	struct xi_section *secs;
	size_t nsecs, cap;
	struct xi_section defaults;
	bool have_defaults;
};

/* --- reading --- */

static void
import_xinetd_attr_free(struct xi_attr *a)
{
	size_t i;

	free(a->name);
	for (i = 0; i < a->n; i++)
		free(a->vals[i]);
	for (i = 0; i < a->nminus; i++)
		free(a->minus[i]);
}

static void
import_xinetd_section_free(struct xi_section *s)
{
	size_t i;

	for (i = 0; i < s->nattrs; i++)
		import_xinetd_attr_free(&s->attrs[i]);
	free(s->name);
	free(s->file);
	memset(s, 0, sizeof *s);
}

static struct xi_attr *
import_xinetd_find(struct xi_section *s, const char *name)
{
	size_t i;

	for (i = 0; s != NULL && i < s->nattrs; i++)
		if (strcmp(s->attrs[i].name, name) == 0)
			return &s->attrs[i];
	return NULL;
}

/* One "attr op values" line into section s. */
static void
import_xinetd_attr_line(struct xi_reader *r, struct xi_section *s,
    const char *file, unsigned line, char *text)
{
	char *eq = strchr(text, '='), *name, *save = NULL, *v, *end;
	struct xi_attr *a;
	char op = '=';

	if (eq == NULL) {
		import_note(r->set, file, line,
		    "no '=' in an attribute line: not mapped");
		return;
	}
	if (eq > text && (eq[-1] == '+' || eq[-1] == '-')) {
		op = eq[-1];
		eq[-1] = ' ';
	}
	*eq = '\0';
	name = text + strspn(text, " \t");
	for (end = name; *end != '\0' && !isspace((unsigned char)*end); end++)
		;
	if (end[strspn(end, " \t")] != '\0' || end == name) {
		import_note(r->set, file, line,
		    "attribute name has spaces or is empty: not mapped");
		return;
	}
	*end = '\0';
	if ((a = import_xinetd_find(s, name)) == NULL) {
		if (s->nattrs == XI_MAX_ATTRS) {
			import_note(r->set, file, line,
			    "too many attributes: not mapped");
			return;
		}
		a = &s->attrs[s->nattrs++];
		memset(a, 0, sizeof *a);
		a->name = import_strdup(name);
	}
	a->line = line;
	if (op == '=' && a->mode != XI_SET) {
		/* the first "=" replaces what "+=" lines gathered */
		import_xinetd_attr_free(a);
		memset(a, 0, sizeof *a);
		a->name = import_strdup(name);
		a->line = line;
	}
	if (op == '=')
		a->mode = XI_SET; /* a second "=" adds, as xinetd's lists do */
	else if (a->mode == XI_UNSET)
		a->mode = XI_ADD;
	for (v = strtok_r(eq + 1, " \t\r\n", &save); v != NULL;
	     v = strtok_r(NULL, " \t\r\n", &save)) {
		if (op == '-' && a->nminus < XI_MAX_VALUES)
			a->minus[a->nminus++] = import_strdup(v);
		else if (op != '-' && a->n < XI_MAX_VALUES)
			a->vals[a->n++] = import_strdup(v);
		else
			import_note(r->set, file, line,
			    "more than %d values: the rest is not mapped",
			    XI_MAX_VALUES);
	}
}

static struct xi_section *
import_xinetd_new_service(
    struct xi_reader *r, const char *name, const char *file, unsigned line)
{
	struct xi_section *s;

	if (r->nsecs == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 16;
		struct xi_section *v;

		if (r->nsecs >= IMPORT_SVC_MAX ||
		    (v = realloc(r->secs, cap * sizeof *v)) == NULL)
			return NULL;
		r->secs = v;
		r->cap = cap;
	}
	s = &r->secs[r->nsecs++];
	memset(s, 0, sizeof *s);
	s->name = import_strdup(name);
	s->file = import_strdup(file);
	s->line = line;
	return s;
}

static int import_xinetd_read_path(
    struct xi_reader *r, const char *path, int depth);

/* A top-level line: service NAME, defaults, include, includedir. */
static struct xi_section *
import_xinetd_top_line(struct xi_reader *r, const char *file, unsigned line,
    char *text, int depth, bool *open_brace)
{
	char *save = NULL, *w1, *w2, *w3;

	w1 = strtok_r(text, " \t\r\n", &save);
	w2 = w1 ? strtok_r(NULL, " \t\r\n", &save) : NULL;
	w3 = w2 ? strtok_r(NULL, " \t\r\n", &save) : NULL;
	*open_brace = false;
	if (w1 == NULL)
		return NULL;
	if (strcmp(w1, "service") == 0 && w2 != NULL &&
	    (w3 == NULL || strcmp(w3, "{") == 0)) {
		*open_brace = w3 != NULL;
		return import_xinetd_new_service(r, w2, file, line);
	}
	if (strcmp(w1, "defaults") == 0 &&
	    (w2 == NULL || strcmp(w2, "{") == 0)) {
		*open_brace = w2 != NULL;
		if (!r->have_defaults) {
			r->defaults.file = import_strdup(file);
			r->defaults.line = line;
		}
		r->have_defaults = true;
		return &r->defaults;
	}
	if ((strcmp(w1, "includedir") == 0 || strcmp(w1, "include") == 0) &&
	    w2 != NULL && w3 == NULL) {
		if (depth >= XI_MAX_DEPTH)
			import_note(r->set, file, line,
			    "%s nested too deep: not followed", w1);
		else
			import_xinetd_read_path(r, w2, depth + 1);
		return NULL;
	}
	import_note(
	    r->set, file, line, "\"%s\" outside a service: not mapped", w1);
	return NULL;
}

/* One file: sections and their attribute lines. */
static int
import_xinetd_read_file(struct xi_reader *r, const char *file, int depth)
{
	struct xi_section *cur = NULL;
	char *line = NULL;
	size_t cap = 0;
	unsigned lineno = 0, sec_lines = 0;
	bool in = false, open_brace;
	ssize_t len;
	FILE *fp;

	if ((fp = fopen(file, "re")) == NULL) {
		fprintf(
		    stderr, "wrapd import: %s: %s\n", file, strerror(errno));
		r->set->failed = true;
		return -1;
	}
	while ((len = getline(&line, &cap, fp)) > 0) {
		char *t = line + strspn(line, " \t");

		lineno++;
		if (*t == '#' || *t == '\n' || *t == '\r' || *t == '\0')
			continue;
		t[strcspn(t, "\r\n")] = '\0';
		for (char *tab = t; (tab = strchr(tab, '\t')) != NULL;)
			*tab = ' ';
		if (!import_text_ok(t)) {
			import_note(r->set, file, lineno,
			    "control or non-ASCII bytes: line not mapped");
			continue;
		}
		if (in && strcmp(t, "}") != 0 &&
		    strspn(t, "} \t") == strlen(t)) {
			in = false; /* "}" with blanks after it */
			cur = NULL;
			continue;
		}
		if (in && strcmp(t, "}") == 0) {
			in = false;
			cur = NULL;
			continue;
		}
		if (in) {
			if (++sec_lines > XI_MAX_SECTION) {
				import_note(r->set, file, lineno,
				    "section too long: rest not mapped");
				continue;
			}
			import_xinetd_attr_line(r, cur, file, lineno, t);
			continue;
		}
		if (cur != NULL && strcmp(t, "{") == 0) {
			in = true;
			sec_lines = 0;
			continue;
		}
		if (cur != NULL)
			import_note(r->set, file, cur->line,
			    "no '{' after the section name: its lines are not "
			    "mapped");
		cur = import_xinetd_top_line(
		    r, file, lineno, t, depth, &open_brace);
		in = cur != NULL && open_brace;
		sec_lines = 0;
	}
	if (in)
		import_note(r->set, file, lineno,
		    "the last section has no closing '}'");
	free(line);
	fclose(fp);
	return 0;
}

static int
import_xinetd_by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* xinetd's includedir skips names with '.' or ending in '~'. */
static bool
import_xinetd_dir_entry_ok(const char *name)
{
	size_t n = strlen(name);

	return n > 0 && strchr(name, '.') == NULL && name[n - 1] != '~';
}

static int
import_xinetd_read_dir(struct xi_reader *r, const char *dir, int depth)
{
	char **names = NULL, path[4096];
	size_t n = 0, cap = 0, i;
	struct dirent *de;
	struct stat st;
	DIR *d;

	if ((d = opendir(dir)) == NULL) {
		fprintf(stderr, "wrapd import: %s: %s\n", dir, strerror(errno));
		r->set->failed = true;
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (!import_xinetd_dir_entry_ok(de->d_name))
			continue;
		if (n == cap) {
			char **v;

			cap = cap ? cap * 2 : 32;
			if (n >= IMPORT_SVC_MAX ||
			    (v = realloc(names, cap * sizeof *v)) == NULL)
				break;
			names = v;
		}
		names[n++] = import_strdup(de->d_name);
	}
	closedir(d);
	if (n > 0) /* the order of the files is the order of the output */
		qsort(names, n, sizeof *names, import_xinetd_by_name);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
			import_xinetd_read_file(r, path, depth);
		free(names[i]);
	}
	free(names);
	return 0;
}

static int
import_xinetd_read_path(struct xi_reader *r, const char *path, int depth)
{
	struct stat st;

	if (stat(path, &st) != 0) {
		fprintf(
		    stderr, "wrapd import: %s: %s\n", path, strerror(errno));
		r->set->failed = true;
		return -1;
	}
	return S_ISDIR(st.st_mode) ? import_xinetd_read_dir(r, path, depth)
	                           : import_xinetd_read_file(r, path, depth);
}

/* --- the effective values of a service --- */

/* Values of attr for service s: its own, or the defaults' changed by
 * its "+=" and "-=" lines.  *n is the count; returns a NULL-terminated
 * array the caller frees (not the strings), or NULL when never set. */
static const char **
import_xinetd_values(struct xi_reader *r, struct xi_section *s,
    const char *name, size_t *n, unsigned *line)
{
	struct xi_attr *own = import_xinetd_find(s, name), *def = NULL;
	const char **out;
	size_t i, j, k = 0;

	if (own == NULL || own->mode == XI_ADD)
		def = import_xinetd_find(
		    r->have_defaults ? &r->defaults : NULL, name);
	if (own == NULL && def == NULL)
		return NULL;
	/* NULL would read as "never set": an only_from that grants all. */
	if ((out = calloc(XI_MAX_VALUES * 2 + 1, sizeof *out)) == NULL) {
		fputs("wrapd import: out of memory\n", stderr);
		exit(1);
	}
	for (i = 0; def != NULL && i < def->n; i++)
		out[k++] = def->vals[i];
	for (i = 0; own != NULL && i < own->n; i++)
		out[k++] = own->vals[i];
	for (i = 0; own != NULL && i < own->nminus; i++)
		for (j = 0; j < k; j++)
			if (strcmp(out[j], own->minus[i]) == 0) {
				memmove(&out[j], &out[j + 1],
				    (k - j) * sizeof *out);
				k--;
				j--;
			}
	out[k] = NULL;
	*n = k;
	*line = own ? own->line : def->line;
	return out;
}

/* The first value of attr (own or default), or NULL. */
static const char *
import_xinetd_value(
    struct xi_reader *r, struct xi_section *s, const char *name, unsigned *line)
{
	size_t n = 0;
	const char **v = import_xinetd_values(r, s, name, &n, line);
	const char *first = v != NULL && n > 0 ? v[0] : NULL;

	free(v);
	return first;
}

static bool
import_xinetd_has_word(const char **v, size_t n, const char *word)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcasecmp(v[i], word) == 0)
			return true;
	return false;
}

/* --- address lists --- */

static bool
import_xinetd_keyword(const char *w)
{
	static const char *const kw[] = {
	    "ALL", "LOCAL", "KNOWN", "UNKNOWN", "PARANOID", "EXCEPT", NULL};
	size_t i;

	for (i = 0; kw[i] != NULL; i++)
		if (strcasecmp(w, kw[i]) == 0)
			return true;
	return false;
}

/* Append pattern p to list (space separated); -1 if it would not fit. */
static int
import_xinetd_append(char *list, size_t size, const char *p)
{
	size_t len = strlen(list);

	if (len + strlen(p) + 2 > size)
		return -1;
	snprintf(list + len, size - len, "%s%s", len ? " " : "", p);
	return 0;
}

/* "a.b.c.d" IPv4 with trailing zero octets as wildcards: "a.b.c." */
static int
import_xinetd_ipv4(const char *w, char *out, size_t size)
{
	unsigned o[4];
	char tail;
	int k;

	if (sscanf(w, "%3u.%3u.%3u.%3u%c", &o[0], &o[1], &o[2], &o[3], &tail) !=
	        4 ||
	    o[0] > 255 || o[1] > 255 || o[2] > 255 || o[3] > 255)
		return -1;
	if (o[0] == 0 && o[1] == 0 && o[2] == 0 && o[3] == 0) {
		snprintf(out, size, "ALL");
		return 0;
	}
	for (k = 4; k > 1 && o[k - 1] == 0; k--)
		;
	if (k == 4)
		snprintf(out, size, "%u.%u.%u.%u", o[0], o[1], o[2], o[3]);
	else if (k == 3)
		snprintf(out, size, "%u.%u.%u.", o[0], o[1], o[2]);
	else if (k == 2)
		snprintf(out, size, "%u.%u.", o[0], o[1]);
	else
		snprintf(out, size, "%u.", o[0]);
	return 0;
}

/* "a.b.c.d/n": the netmask form libwrap reads. */
static int
import_xinetd_cidr4(const char *w, char *out, size_t size)
{
	char addr[32];
	unsigned char a[4];
	unsigned len;
	uint32_t mask;
	const char *slash = strchr(w, '/');
	char *end;

	if (slash == NULL || (size_t)(slash - w) >= sizeof addr)
		return -1;
	memcpy(addr, w, (size_t)(slash - w));
	addr[slash - w] = '\0';
	len = (unsigned)strtoul(slash + 1, &end, 10);
	if (inet_pton(AF_INET, addr, a) != 1 || *end != '\0' ||
	    !isdigit((unsigned char)slash[1]) || len > 32)
		return -1;
	if (len == 0) {
		snprintf(out, size, "ALL");
		return 0;
	}
	mask = len == 32 ? 0xffffffffu : ~(0xffffffffu >> len);
	snprintf(out, size, "%s/%u.%u.%u.%u", addr, mask >> 24,
	    (mask >> 16) & 255, (mask >> 8) & 255, mask & 255);
	return 0;
}

/* IPv6 "addr" or "addr/len" as "[addr]" or "[addr]/len". */
static int
import_xinetd_ipv6(const char *w, char *out, size_t size)
{
	char addr[INET6_ADDRSTRLEN + 1];
	unsigned char a[16];
	const char *slash = strchr(w, '/');
	size_t alen = slash ? (size_t)(slash - w) : strlen(w);
	char *end;

	if (alen >= sizeof addr)
		return -1;
	memcpy(addr, w, alen);
	addr[alen] = '\0';
	if (inet_pton(AF_INET6, addr, a) != 1)
		return -1;
	if (slash == NULL) {
		snprintf(out, size, "[%s]", addr);
		return 0;
	}
	if (!isdigit((unsigned char)slash[1]) ||
	    strtoul(slash + 1, &end, 10) > 128 || *end != '\0')
		return -1;
	snprintf(out, size, "[%s]/%s", addr, slash + 1);
	return 0;
}

/* A host name or .domain: letters, digits, '-', '.', '_' only. */
static bool
import_xinetd_hostname(const char *w)
{
	size_t i;

	for (i = 0; w[i] != '\0'; i++)
		if (!isalnum((unsigned char)w[i]) && w[i] != '-' &&
		    w[i] != '.' && w[i] != '_')
			return false;
	return i > 0 && !import_xinetd_keyword(w) && w[strlen(w) - 1] != '.';
}

/* One xinetd address, without braces, into a hosts_access pattern. */
static int
import_xinetd_pattern(const char *w, char *out, size_t size)
{
	if (strchr(w, ':') != NULL)
		return import_xinetd_ipv6(w, out, size);
	if (strchr(w, '/') != NULL)
		return import_xinetd_cidr4(w, out, size);
	if (import_xinetd_ipv4(w, out, size) == 0)
		return 0;
	if (!import_xinetd_hostname(w) || strspn(w, "0123456789.") == strlen(w))
		return -1; /* "10.1.2" and the like: not an address */
	snprintf(out, size, "%s", w);
	return 0;
}

/* "a.b.{c,d}": each member as an address with the prefix; 0 or -1. */
static int
import_xinetd_factorized(const char *w, char *list, size_t size)
{
	const char *open = strchr(w, '{');
	char prefix[64], member[128], pat[160], *items, *save = NULL, *m;
	size_t plen = (size_t)(open - w), dots = 0, i;
	int rc = 0;

	if (plen >= sizeof prefix || w[strlen(w) - 1] != '}' ||
	    strchr(open + 1, '{') != NULL)
		return -1;
	memcpy(prefix, w, plen);
	prefix[plen] = '\0';
	for (i = 0; i < plen; i++)
		dots += prefix[i] == '.';
	items = import_strdup(open + 1);
	items[strlen(items) - 1] = '\0';
	for (m = strtok_r(items, ",", &save); m != NULL && rc == 0;
	     m = strtok_r(NULL, ",", &save)) {
		/* fill the octets not given with zeros: wildcards */
		snprintf(member, sizeof member, "%s%s%s", prefix, m,
		    dots >= 3       ? ""
		        : dots == 2 ? ".0"
		        : dots == 1 ? ".0.0"
		                    : "");
		rc = import_xinetd_pattern(member, pat, sizeof pat) == 0 &&
		        strchr(m, '.') == NULL
		    ? import_xinetd_append(list, size, pat)
		    : -1;
	}
	free(items);
	return rc;
}

/*
 * The values of an address attribute as one hosts_access list.  Each
 * value that cannot be written is noted; *dropped counts them.  Returns
 * the list (maybe "") or NULL when the attribute is not set.
 */
static char *
import_xinetd_client_list(struct xi_reader *r, struct xi_section *s,
    const char *attr, size_t *dropped)
{
	char list[8192] = "", pat[160];
	const char **v;
	size_t n = 0, i;
	unsigned line = 0;

	*dropped = 0;
	if ((v = import_xinetd_values(r, s, attr, &n, &line)) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		int rc = strchr(v[i], '{') != NULL
		    ? import_xinetd_factorized(v[i], list, sizeof list)
		    : import_xinetd_pattern(v[i], pat, sizeof pat);

		if (rc == 0 && strchr(v[i], '{') == NULL)
			rc = import_xinetd_append(list, sizeof list, pat);
		if (rc != 0) {
			import_note(r->set, s->file, line,
			    "%s: %s \"%s\" has no hosts_access form", s->name,
			    attr, v[i]);
			(*dropped)++;
		}
	}
	free(v);
	return import_strdup(list);
}

/* only_from and no_access into the service's rule lists; -1: skip it. */
static int
import_xinetd_access(
    struct xi_reader *r, struct xi_section *s, struct import_svc *o)
{
	size_t dropped;

	o->deny = import_xinetd_client_list(r, s, "no_access", &dropped);
	if (dropped > 0) {
		import_note(r->set, s->file, s->line,
		    "%s: part of no_access cannot be written, so the service "
		    "would admit more than xinetd did: skipped",
		    s->name);
		return -1;
	}
	if (o->deny != NULL && o->deny[0] == '\0') {
		free(o->deny); /* "no_access =": nobody is refused */
		o->deny = NULL;
	}
	o->allow = import_xinetd_client_list(r, s, "only_from", &dropped);
	if (o->allow != NULL && o->allow[0] == '\0')
		import_note(r->set, s->file, s->line,
		    "%s: only_from admits nobody: hosts.deny refuses all",
		    s->name);
	return 0;
}

/* --- one service --- */

/* Attributes this reader maps; every other one gets a note. */
static bool
import_xinetd_mapped(const char *name)
{
	static const char *const known[] = {"socket_type", "protocol", "wait",
	    "user", "group", "server", "server_args", "port", "bind",
	    "interface", "only_from", "no_access", "per_source", "instances",
	    "redirect", "flags", "type", "disable", "id", "libwrap", "disabled",
	    "enabled", "access_times", NULL};
	size_t i;

	for (i = 0; known[i] != NULL; i++)
		if (strcmp(name, known[i]) == 0)
			return true;
	return false;
}

static void
import_xinetd_note_unmapped(struct xi_reader *r, struct xi_section *s)
{
	size_t i;

	for (i = 0; i < s->nattrs; i++)
		if (!import_xinetd_mapped(s->attrs[i].name))
			import_note(r->set, s->file, s->attrs[i].line,
			    "%s: %s is not mapped",
			    s->name ? s->name : "defaults", s->attrs[i].name);
}

/* A number or UNLIMITED (0); -1 and a note when neither. */
static long
import_xinetd_count(struct xi_reader *r, struct xi_section *s, const char *attr)
{
	unsigned line = 0;
	const char *v = import_xinetd_value(r, s, attr, &line);
	char *end;
	unsigned long n;

	if (v == NULL || strcasecmp(v, "UNLIMITED") == 0)
		return 0;
	n = strtoul(v, &end, 10);
	if (!isdigit((unsigned char)v[0]) || *end != '\0' || n < 1 ||
	    n > 1000000) {
		import_note(r->set, s->file, line,
		    "%s: %s \"%s\" is not a number from 1 to 1000000: not "
		    "mapped",
		    s->name, attr, v);
		return -1;
	}
	return (long)n;
}

/*
 * access_times: xinetd's "H:MM-H:MM" windows include their last minute
 * and never cross midnight (timex.c: start <= now <= end).  wrapd's close
 * at their end and cross midnight when end < start, so a window becomes
 * [start, end + 1 minute), and one whose end is before its start (never
 * open under xinetd) is dropped.  A window that cannot be read, or none
 * left, skips the service: it must not be open when xinetd's was closed.
 */
static int
import_xinetd_times(
    struct xi_reader *r, struct xi_section *s, struct import_svc *o)
{
	unsigned h1, m1, h2, m2, line = 0, start, end;
	size_t i, n = 0;
	const char **v = import_xinetd_values(r, s, "access_times", &n, &line);
	struct conf_timewin w;
	char text[16], *err = NULL;
	int used = 0, rc = 0;

	for (i = 0; v != NULL && i < n && rc == 0; i++) {
		if (sscanf(v[i], "%2u:%2u-%2u:%2u%n", &h1, &m1, &h2, &m2,
		        &used) != 4 ||
		    (size_t)used != strlen(v[i]) ||
		    strspn(v[i], "0123456789:-") != strlen(v[i]) || h1 > 23 ||
		    m1 > 59 || h2 > 23 || m2 > 59) {
			import_note(r->set, s->file, line,
			    "%s: access_times \"%s\" is not H:MM-H:MM: skipped",
			    s->name, v[i]);
			rc = -1;
			break;
		}
		start = h1 * 60 + m1;
		end = h2 * 60 + m2 + 1;
		if (end <= start) {
			import_note(r->set, s->file, line,
			    "%s: access_times \"%s\" ends before it starts "
			    "(never open under xinetd): dropped",
			    s->name, v[i]);
			continue;
		}
		snprintf(text, sizeof text, "%02u:%02u-%02u:%02u", start / 60,
		    start % 60, end / 60, end % 60);
		if (o->ntimes == IMPORT_SVC_MAX_TIMES ||
		    conf_timewin_parse(text, &w, &err) != 0) {
			import_note(r->set, s->file, line,
			    "%s: access_times \"%s\": %s: skipped", s->name,
			    v[i], err != NULL ? err : "too many windows");
			free(err);
			rc = -1;
			break;
		}
		o->access_times[o->ntimes++] = import_strdup(text);
	}
	if (rc == 0 && v != NULL && o->ntimes == 0) {
		import_note(r->set, s->file, line,
		    "%s: access_times has no window open under xinetd: skipped",
		    s->name);
		rc = -1;
	}
	free(v);
	return rc;
}

/* Is the service one wrapd can run at all?  Notes why not. */
static bool
import_xinetd_wanted(struct xi_reader *r, struct xi_section *s)
{
	const char **type, **dis, **en;
	size_t nt = 0, nd = 0, ne = 0;
	unsigned line = 0;
	const char *v, *id = import_xinetd_value(r, s, "id", &line);
	bool ok = true;

	type = import_xinetd_values(r, s, "type", &nt, &line);
	dis = import_xinetd_values(r, &r->defaults, "disabled", &nd, &line);
	en = import_xinetd_values(r, &r->defaults, "enabled", &ne, &line);
	if ((v = import_xinetd_value(r, s, "disable", &line)) != NULL &&
	    strcasecmp(v, "yes") == 0) {
		import_note(r->set, s->file, line,
		    "%s: disabled (disable = yes): skipped", s->name);
		ok = false;
	} else if (import_xinetd_has_word(dis, nd, s->name) ||
	    (id != NULL && import_xinetd_has_word(dis, nd, id)) ||
	    (en != NULL && !import_xinetd_has_word(en, ne, s->name) &&
	        !(id != NULL && import_xinetd_has_word(en, ne, id)))) {
		import_note(r->set, s->file, s->line,
		    "%s: disabled by the defaults' disabled/enabled list: "
		    "skipped",
		    s->name);
		ok = false;
	} else if (import_xinetd_has_word(type, nt, "INTERNAL") ||
	    import_xinetd_has_word(type, nt, "RPC") ||
	    import_xinetd_has_word(type, nt, "TCPMUX") ||
	    import_xinetd_has_word(type, nt, "TCPMUXPLUS")) {
		import_note(r->set, s->file, s->line,
		    "%s: internal, RPC and TCPMUX services are not mapped: "
		    "skipped",
		    s->name);
		ok = false;
	} else if (((v = import_xinetd_value(r, s, "socket_type", &line)) !=
	                   NULL &&
	               strcmp(v, "stream") != 0) ||
	    ((v = import_xinetd_value(r, s, "protocol", &line)) != NULL &&
	        strcmp(v, "tcp") != 0)) {
		import_note(r->set, s->file, s->line,
		    "%s: %s: wrapd serves TCP streams only: skipped", s->name,
		    v);
		ok = false;
	}
	free(type);
	free(dis);
	free(en);
	return ok;
}

/* server, server_args, flags NAMEINARGS, a tcpd in between, libwrap. */
static int
import_xinetd_program(
    struct xi_reader *r, struct xi_section *s, struct import_svc *o)
{
	const char **args, **flags, *server, *daemon;
	size_t na = 0, nf = 0, i = 0;
	unsigned line = s->line;
	bool tcpd, nameinargs;
	int rc = -1;

	server = import_xinetd_value(r, s, "server", &line);
	args = import_xinetd_values(r, s, "server_args", &na, &line);
	flags = import_xinetd_values(r, s, "flags", &nf, &line);
	nameinargs = import_xinetd_has_word(flags, nf, "NAMEINARGS");
	if (server == NULL || server[0] != '/') {
		import_note(r->set, s->file, s->line,
		    "%s: no absolute server path: skipped", s->name);
		goto out;
	}
	tcpd = strcmp(strrchr(server, '/') + 1, XI_TCPD) == 0;
	if (tcpd && na == 0) {
		import_note(r->set, s->file, s->line,
		    "%s: tcpd without a program in server_args: skipped",
		    s->name);
		goto out;
	}
	if (tcpd) { /* tcpd runs its argv[0]: the first server_args */
		server = args[i++];
		if (server[0] != '/') {
			import_note(r->set, s->file, s->line,
			    "%s: tcpd's program \"%s\" is not an absolute "
			    "path: "
			    "skipped",
			    s->name, server);
			goto out;
		}
	} else if (nameinargs && na > 0) {
		i++; /* server_args[0] is argv[0]: the path stands for it */
	}
	o->argv[o->argc++] = import_strdup(server);
	for (; i < na && o->argc < IMPORT_SVC_MAX_ARGV; i++)
		o->argv[o->argc++] = import_strdup(args[i]);
	/* xinetd's libwrap check uses the service name (or libwrap =) */
	daemon = tcpd ? strrchr(server, '/') + 1
	              : import_xinetd_value(r, s, "libwrap", &line);
	o->daemon = import_strdup(daemon ? daemon : s->name);
	rc = 0;
out:
	free(args);
	free(flags);
	return rc;
}

/* "redirect = host port": a TCP backend instead of a program. */
static int
import_xinetd_redirect(
    struct xi_reader *r, struct xi_section *s, struct import_svc *o)
{
	const char **v;
	size_t n = 0;
	unsigned line = 0, port;
	const char *lw;
	char *text;

	if ((v = import_xinetd_values(r, s, "redirect", &n, &line)) == NULL)
		return 1; /* not a redirect */
	port = n == 2 ? import_tcp_port(v[1]) : 0;
	text = port ? import_listen_text(
	                  v[0], strchr(v[0], ':') ? AF_INET6 : AF_INET, port)
	            : NULL;
	free(v);
	if (text == NULL) {
		import_note(r->set, s->file, line,
		    "%s: redirect needs a numeric address and a port: skipped",
		    s->name);
		return -1;
	}
	o->backend = text;
	lw = import_xinetd_value(r, s, "libwrap", &line);
	o->daemon = import_strdup(lw ? lw : s->name);
	return 0;
}

/* port, bind/interface, flags IPv4/IPv6 into the listen address. */
static int
import_xinetd_listen(
    struct xi_reader *r, struct xi_section *s, struct import_svc *o)
{
	const char **flags, *bind, *portv;
	size_t nf = 0, i;
	unsigned line = s->line, port;
	char *text;

	portv = import_xinetd_value(r, s, "port", &line);
	port = import_tcp_port(portv ? portv : s->name);
	if (port == 0) {
		import_note(r->set, s->file, line,
		    "%s: no TCP port (port = or /etc/services): skipped",
		    s->name);
		return -1;
	}
	flags = import_xinetd_values(r, s, "flags", &nf, &line);
	for (i = 0; i < nf; i++)
		if (strcmp(flags[i], "IPv4") != 0 &&
		    strcmp(flags[i], "IPv6") != 0 &&
		    strcmp(flags[i], "NAMEINARGS") != 0 &&
		    strcmp(flags[i], "REUSE") != 0)
			import_note(r->set, s->file, line,
			    "%s: flag %s is not mapped", s->name, flags[i]);
	bind = import_xinetd_value(r, s, "bind", &line);
	if (bind == NULL)
		bind = import_xinetd_value(r, s, "interface", &line);
	text = import_listen_text(bind,
	    import_xinetd_has_word(flags, nf, "IPv6") ? AF_INET6 : AF_INET,
	    port);
	free(flags);
	if (text == NULL) {
		import_note(r->set, s->file, line,
		    "%s: bind \"%s\" is not a numeric address: skipped",
		    s->name, bind);
		return -1;
	}
	o->listen[o->nlisten++] = text;
	return 0;
}

static void
import_xinetd_service(struct xi_reader *r, struct xi_section *s)
{
	const char *id, *user, *group, *wait;
	struct import_svc *o;
	unsigned line = 0;
	long inst, per;
	int rd;

	import_xinetd_note_unmapped(r, s);
	if (!import_xinetd_wanted(r, s))
		return;
	/* two "service telnet" sections: the id tells them apart */
	id = import_xinetd_value(r, s, "id", &line);
	if ((o = import_add(r->set, id && import_name_ok(id) ? id : s->name,
	         s->file, s->line)) == NULL) {
		import_note(
		    r->set, s->file, s->line, "too many services: skipped");
		return;
	}
	if (!import_name_ok(s->name) ||
	    (rd = import_xinetd_redirect(r, s, o)) < 0 ||
	    (rd == 1 && import_xinetd_program(r, s, o) != 0) ||
	    import_xinetd_listen(r, s, o) != 0 ||
	    import_xinetd_access(r, s, o) != 0 ||
	    import_xinetd_times(r, s, o) != 0)
		goto skip;
	if (!import_name_ok(o->daemon)) {
		import_note(r->set, s->file, s->line,
		    "%s: daemon name \"%s\" is not usable: skipped", s->name,
		    o->daemon);
		goto skip;
	}
	user = import_xinetd_value(r, s, "user", &line);
	group = import_xinetd_value(r, s, "group", &line);
	if ((user && !import_account_ok(user)) ||
	    (group && !import_account_ok(group))) {
		import_note(r->set, s->file, line,
		    "%s: user or group is not an account name: skipped",
		    s->name);
		goto skip;
	}
	o->user = user && o->backend == NULL ? import_strdup(user) : NULL;
	o->group = group && o->backend == NULL ? import_strdup(group) : NULL;
	if ((wait = import_xinetd_value(r, s, "wait", &line)) != NULL &&
	    strcasecmp(wait, "yes") == 0) {
		o->max_connections = 1;
		import_note(r->set, s->file, line,
		    "%s: wait = yes becomes max_connections: 1; the program "
		    "gets each connection, not the listening socket",
		    s->name);
	}
	if ((inst = import_xinetd_count(r, s, "instances")) > 0 &&
	    o->max_connections == 0)
		o->max_connections = (unsigned)inst;
	if ((per = import_xinetd_count(r, s, "per_source")) > 0)
		o->per_source = (unsigned)per;
	return;
skip:
	import_drop_last(r->set);
}

/*
 * Rules are per daemon name: two services that share one but admit
 * different clients each get their own (their service name).
 */
static void
import_xinetd_split_daemons(struct import_set *set)
{
	size_t i, j;

	for (i = 0; i < set->n; i++)
		for (j = 0; j < i; j++) {
			struct import_svc *a = &set->v[j], *b = &set->v[i];

			if (strcmp(a->daemon, b->daemon) != 0 ||
			    ((a->allow == NULL) == (b->allow == NULL) &&
			        (a->deny == NULL) == (b->deny == NULL) &&
			        (a->allow == NULL ||
			            strcmp(a->allow, b->allow) == 0) &&
			        (a->deny == NULL ||
			            strcmp(a->deny, b->deny) == 0)))
				continue;
			import_note(set, b->file, b->line,
			    "%s: shares daemon name %s with %s but not its "
			    "clients: its daemon name is %s",
			    b->name, b->daemon, a->name, b->name);
			free(b->daemon);
			b->daemon = import_strdup(b->name);
			break;
		}
}

int
import_xinetd(struct import_set *set, const char *path)
{
	struct xi_reader r;
	size_t i;
	int rc;

	memset(&r, 0, sizeof r);
	r.set = set;
	rc = import_xinetd_read_path(&r, path, 0);
	if (r.have_defaults)
		import_xinetd_note_unmapped(&r, &r.defaults);
	for (i = 0; i < r.nsecs; i++)
		import_xinetd_service(&r, &r.secs[i]);
	import_xinetd_split_daemons(set);
	for (i = 0; i < r.nsecs; i++)
		import_xinetd_section_free(&r.secs[i]);
	free(r.secs);
	import_xinetd_section_free(&r.defaults);
	return rc != 0 || set->failed ? -1 : 0;
}
