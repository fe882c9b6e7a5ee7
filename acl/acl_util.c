/*
 * acl_util.c - the rule set's arena, diagnostics, and libwrap's string
 * patterns (hosts_access(5) as patched by Debian: wildcards first, then
 * .suffix, ALL, KNOWN, prefix., [v6], exact).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "acl_int.h"

/* ---------------------------------------------------------------------
 * Arena.
 */
struct acl_arena_chunk {
	struct acl_arena_chunk *next;
	max_align_t align[]; /* the data follows */
};

#define ACL_ARENA_CHUNK (64 * 1024)

void *
acl__alloc(struct acl_arena *a, size_t size)
{
	const size_t al = _Alignof(max_align_t);
	struct acl_arena_chunk *c;
	size_t csize;
	void *p;

	size = (size + al - 1) & ~(al - 1);
	if (size == 0)
		size = al;
	if (size <= a->left) {
		p = a->next;
		a->next += size;
		a->left -= size;
		return p;
	}
	/* Big requests get a chunk of their own, leaving the current one. */
	csize = size > ACL_ARENA_CHUNK / 4 ? size : ACL_ARENA_CHUNK;
	c = malloc(sizeof(*c) + csize);
	if (c == NULL) {
		a->failed = true;
		return NULL;
	}
	if (csize == size && a->head != NULL) {
		c->next = a->head->next;
		a->head->next = c;
		return (void *)c->align;
	}
	c->next = a->head;
	a->head = c;
	a->next = (char *)c->align + size;
	a->left = csize - size;
	return (void *)c->align;
}

void *
acl__zalloc(struct acl_arena *a, size_t size)
{
	void *p = acl__alloc(a, size);

	if (p != NULL)
		memset(p, 0, size);
	return p;
}

char *
acl__strndup(struct acl_arena *a, const char *s, size_t n)
{
	char *p = acl__alloc(a, n + 1);

	if (p == NULL)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
acl__strdup(struct acl_arena *a, const char *s)
{
	return acl__strndup(a, s, strlen(s));
}

void
acl__arena_free(struct acl_arena *a)
{
	struct acl_arena_chunk *c, *next;

	for (c = a->head; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	a->head = NULL;
	a->left = 0;
	a->next = NULL;
}

void
acl__vet(acl_vet_fn *vet, void *arg, const char *path, struct acl_diags *d,
    const char *file, unsigned line, unsigned col)
{
	char why[1024];

	if (vet == NULL)
		return;
	why[0] = '\0';
	if (vet(arg, path, why, sizeof why) != 0)
		acl__diag(d, file, line, col, ACL_SEV_ERROR, "%s",
		    why[0] != '\0' ? why : "refused");
}

/* ---------------------------------------------------------------------
 * String patterns.
 */
static int
acl_util_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/*
 * Whole-string wildcard match, ASCII case-insensitive.  Iterative with one
 * back-tracking point: linear in practice, O(n*m) at worst, no recursion.
 */
bool
acl__glob_match(const char *pat, size_t plen, const char *s)
{
	size_t p = 0, star_p = (size_t)-1, star_s = 0, i = 0;
	size_t slen = strlen(s);

	while (i < slen) {
		if (p < plen && pat[p] == '*') {
			star_p = p++;
			star_s = i;
		} else if (p < plen &&
		    (pat[p] == '?' ||
		        acl_util_lower((unsigned char)pat[p]) ==
		            acl_util_lower((unsigned char)s[i]))) {
			p++;
			i++;
		} else if (star_p != (size_t)-1) {
			p = star_p + 1;
			i = ++star_s;
		} else {
			return false;
		}
	}
	while (p < plen && pat[p] == '*')
		p++;
	return p == plen;
}

void
acl__strpat_init(struct acl_strpat *sp, const char *text)
{
	size_t n = strlen(text);

	memset(sp, 0, sizeof(*sp));
	sp->text = text;
	sp->len = n;
	if (strpbrk(text, "*?") != NULL)
		sp->kind = ACL_SP_GLOB;
	else if (text[0] == '.')
		sp->kind = ACL_SP_SUFFIX;
	else if (strcasecmp(text, "ALL") == 0)
		sp->kind = ACL_SP_ALL;
	else if (strcasecmp(text, "KNOWN") == 0)
		sp->kind = ACL_SP_KNOWN;
	else if (n > 0 && text[n - 1] == '.')
		sp->kind = ACL_SP_PREFIX;
	else if (n >= 2 && text[0] == '[' && text[n - 1] == ']' &&
	    acl__parse_v6(text + 1, n - 2, sp->v6) == 0)
		sp->kind = ACL_SP_V6;
	else
		sp->kind = ACL_SP_EXACT;
}

/*
 * Step (a) of D15: a string "::ffff:a.b.c.d" is matched as "a.b.c.d".
 * wrapd's own address strings are already normalised; names, users and
 * daemon names go through here too, as in libwrap.
 */
static const char *
acl_util_strip_mapped(const char *s)
{
	uint32_t v;

	if (s[0] == ':' && strncasecmp(s, "::ffff:", 7) == 0 &&
	    acl__dot_quad(s + 7, &v) == 0)
		return s + 7;
	return s;
}

bool
acl__strpat_match(const struct acl_strpat *sp, const char *s)
{
	size_t n;
	uint8_t v6[16];

	s = acl_util_strip_mapped(s);
	switch (sp->kind) {
	case ACL_SP_GLOB:
		return acl__glob_match(sp->text, sp->len, s);
	case ACL_SP_SUFFIX:
		n = strlen(s);
		return n > sp->len &&
		    strcasecmp(sp->text, s + n - sp->len) == 0;
	case ACL_SP_ALL:
		return true;
	case ACL_SP_KNOWN:
		return strcasecmp(s, ACL_UNKNOWN) != 0;
	case ACL_SP_PREFIX:
		return strncasecmp(sp->text, s, sp->len) == 0;
	case ACL_SP_V6:
		return acl__parse_v6(s, strlen(s), v6) == 0 &&
		    memcmp(v6, sp->v6, 16) == 0;
	case ACL_SP_EXACT:
		return strcasecmp(sp->text, s) == 0;
	}
	return false;
}

/* ---------------------------------------------------------------------
 * Reading tables and /files.
 */

/*
 * Read a whole file as libwrap's stdio would see it (see acl_int.h).
 * Opened non-blocking, so a FIFO without data reads as empty instead of
 * hanging the load; a device such as /dev/zero never ends, hence the
 * ACL_FILE_MAX limit.
 */
enum acl_read
acl__read_path(const char *path, char **buf, size_t *len, int *err)
{
	struct stat st;
	size_t cap = 8192, n = 0;
	ssize_t r;
	char *b, *nb;
	int fd, read_errno = 0;

	*buf = NULL;
	*len = 0;
	*err = 0;
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		*err = errno;
		return ACL_READ_FAILED;
	}
	if (fstat(fd, &st) != 0) {
		*err = errno;
		close(fd);
		return ACL_READ_FAILED;
	}
	if (S_ISDIR(st.st_mode)) {
		close(fd);
		return ACL_READ_IRREGULAR; /* fopen() opens it, fgets() fails */
	}
	if ((b = malloc(cap)) == NULL) {
		close(fd);
		*err = ENOMEM;
		return ACL_READ_FAILED;
	}
	for (;;) {
		r = read(fd, b + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			read_errno = errno;
		if (r <= 0)
			break; /* a read error ends the data, as for fgets() */
		n += (size_t)r;
		if (n > ACL_FILE_MAX) {
			free(b);
			close(fd);
			*err = EFBIG;
			return ACL_READ_FAILED;
		}
		if (n == cap) {
			if ((nb = realloc(b, cap * 2)) == NULL) {
				free(b);
				close(fd);
				*err = ENOMEM;
				return ACL_READ_FAILED;
			}
			b = nb;
			cap *= 2;
		}
	}
	close(fd);
	*buf = b;
	*len = n;
	/* The null device is an empty file an admin may name on purpose. */
	if (!S_ISREG(st.st_mode) &&
	    !(S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3)))
		return ACL_READ_IRREGULAR;
	*err = read_errno;
	return read_errno != 0 ? ACL_READ_CUT : ACL_READ_OK;
}

void
acl__read_problem(
    enum acl_read r, const char *path, int err, char *buf, size_t bufsz)
{
	switch (r) {
	case ACL_READ_OK:
		if (bufsz > 0)
			buf[0] = '\0';
		break;
	case ACL_READ_FAILED:
		if (err == ENOENT)
			snprintf(buf, bufsz, "%s does not exist", path);
		else if (err == EFBIG)
			snprintf(buf, bufsz, "%s is larger than %u MiB", path,
			    ACL_FILE_MAX >> 20);
		else
			snprintf(buf, bufsz, "cannot open %s: %s", path,
			    strerror(err));
		break;
	case ACL_READ_IRREGULAR:
		snprintf(buf, bufsz, "%s is not a regular file", path);
		break;
	case ACL_READ_CUT:
		snprintf(buf, bufsz, "cannot read %s: %s", path, strerror(err));
		break;
	}
}
