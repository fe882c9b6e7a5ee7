/*
 * diff_buf.c - growable byte buffers and small string helpers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diff.h"

static void
diff_oom(void)
{
	fputs("diff: out of memory\n", stderr);
	abort();
}

void
diff_buf_add(struct diff_buf *b, const void *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;

		while (cap < b->len + n + 1)
			cap *= 2;
		b->p = realloc(b->p, cap);
		if (b->p == NULL)
			diff_oom();
		b->cap = cap;
	}
	if (n > 0)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void
diff_buf_addc(struct diff_buf *b, char c)
{
	diff_buf_add(b, &c, 1);
}

void
diff_buf_adds(struct diff_buf *b, const char *s)
{
	diff_buf_add(b, s, strlen(s));
}

void
diff_buf_free(struct diff_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

char *
diff_strdup(const char *s)
{
	char *d;

	if (s == NULL)
		return NULL;
	d = strdup(s);
	if (d == NULL)
		diff_oom();
	return d;
}

char *
diff_subst(const char *s, size_t len, const char *dir, size_t *outlen)
{
	struct diff_buf b = {0};
	size_t i;

	diff_buf_add(&b, "", 0);
	for (i = 0; i < len; i++) {
		if (len - i >= 6 && memcmp(s + i, "${DIR}", 6) == 0) {
			diff_buf_adds(&b, dir);
			i += 5;
		} else {
			diff_buf_addc(&b, s[i]);
		}
	}
	if (outlen != NULL)
		*outlen = b.len;
	return b.p;
}

void
diff_case_free(struct diff_case *c)
{
	size_t i;

	free(c->title);
	free(c->where);
	diff_buf_free(&c->allow);
	diff_buf_free(&c->deny);
	free(c->allow_path);
	free(c->deny_path);
	for (i = 0; i < c->nfiles; i++) {
		free(c->files[i].name);
		diff_buf_free(&c->files[i].text);
	}
	for (i = 0; i < c->nsetup; i++)
		free(c->setup[i]);
	free(c->daemon);
	free(c->client);
	free(c->name);
	free(c->user);
	free(c->server);
	free(c->server_name);
	for (i = 0; i < c->nexpand; i++)
		free(c->expand[i]);
	free(c->expect);
	memset(c, 0, sizeof(*c));
}
