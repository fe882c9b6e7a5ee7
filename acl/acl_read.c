/*
 * acl_read.c - libwrap's line reader (misc.c xgets() under
 * hosts_access.c table_match()), reproduced on an in-memory copy of the
 * table so that every odd case (NUL bytes, continuations that do not fit,
 * a missing final newline) ends exactly where libwrap's ends.
 *
 * xgets() calls fgets() into what is left of a 2048-byte buffer; a chunk
 * ending in backslash-newline is joined with the next one.  strlen() of
 * each chunk is what counts, so a NUL drops the rest of its chunk
 * (newline included) and the line goes on with the next physical line.
 * Debian's fix for over-long lines stops reading when one byte is left
 * (fgets() with a size of 1 would return an empty string forever).
 */
#include <stdlib.h>
#include <string.h>

#include "acl_read.h"

int
acl__src_init(
    struct acl_src *src, const char *name, const char *buf, size_t len)
{
	size_t i, n = 1;

	memset(src, 0, sizeof(*src));
	src->name = name;
	src->buf = buf;
	src->len = len;
	for (i = 0; i < len; i++)
		if (buf[i] == '\n')
			n++;
	src->lstart = malloc(n * sizeof(*src->lstart));
	if (src->lstart == NULL)
		return -1;
	src->lstart[0] = 0;
	src->nlines = 1;
	for (i = 0; i < len; i++)
		if (buf[i] == '\n')
			src->lstart[src->nlines++] = i + 1;
	return 0;
}

void
acl__src_free(struct acl_src *src)
{
	free(src->lstart);
	src->lstart = NULL;
}

/* 1-based line and column of a byte offset in the file. */
void
acl__src_pos(
    const struct acl_src *src, size_t off, unsigned *line, unsigned *col)
{
	size_t lo = 0, hi = src->nlines;

	/* The last line start <= off. */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (src->lstart[mid] <= off)
			lo = mid;
		else
			hi = mid;
	}
	*line = (unsigned)(lo + 1);
	*col = (unsigned)(off - src->lstart[lo] + 1);
}

/* Position of a byte of the logical line. */
void
acl__lline_pos(const struct acl_src *src, const struct acl_lline *ll,
    size_t loff, unsigned *line, unsigned *col)
{
	size_t i, foff = ll->first_off;

	for (i = 0; i < ll->nseg; i++) {
		if (ll->seg[i].loff > loff)
			break;
		foff = ll->seg[i].foff + (loff - ll->seg[i].loff);
	}
	acl__src_pos(src, foff, line, col);
}

/*
 * fgets(ptr, size, fp) on the buffer: up to size-1 bytes, stopping after a
 * newline.  Returns the number of bytes copied, or -1 at end of file.
 */
static long
acl_read_fgets(struct acl_src *src, char *ptr, size_t size)
{
	size_t n = 0;

	if (src->pos >= src->len)
		return -1;
	while (n + 1 < size && src->pos < src->len) {
		char c = src->buf[src->pos++];

		ptr[n++] = c;
		if (c == '\n')
			break;
	}
	ptr[n] = '\0';
	return (long)n;
}

int
acl__xgets(struct acl_src *src, struct acl_lline *ll)
{
	char *start = ll->text, *ptr = ll->text;
	size_t len = ACL_LINE_BUF;
	long n;

	ll->nseg = 0;
	ll->first_off = src->pos;
	ll->too_long = false;
	ll->text[0] = '\0';
	while (len > 1) {
		size_t foff = src->pos, got;

		if ((n = acl_read_fgets(src, ptr, len)) < 0)
			break;
		got = strlen(ptr);
		if (got > 0) {
			size_t loff = (size_t)(ptr - start);

			/*
			 * A chunk that was only backslash-newline adds no text:
			 * the next chunk starts at the same loff and supersedes
			 * it for positions, so overwrite it rather than append
			 * (seg[0] stays: it gives the rule's line).  Then loff
			 * strictly grows after seg[0], at most 2047 values, and
			 * seg[] cannot overflow however many such lines come.
			 */
			if (ll->nseg > 1 && ll->seg[ll->nseg - 1].loff == loff)
				ll->nseg--;
			if (ll->nseg < sizeof(ll->seg) / sizeof(ll->seg[0])) {
				ll->seg[ll->nseg].loff = loff;
				ll->seg[ll->nseg].foff = foff;
				ll->nseg++;
			}
		}
		if (got >= 1 && ptr[got - 1] == '\n') {
			if (got >= 2 && ptr[got - 2] == '\\')
				got -= 2;
			else
				return 1;
		}
		ptr += got;
		len -= got;
		ptr[0] = '\0';
	}
	if (len <= 1)
		ll->too_long = true;
	return ptr > start ? 1 : 0;
}
