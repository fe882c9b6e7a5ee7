/*
 * acl_read.h - the table line reader (private to acl/).
 */
#ifndef WRAPD_ACL_READ_H
#define WRAPD_ACL_READ_H

#include <stdbool.h>
#include <stddef.h>

#include "acl_int.h"

struct acl_src {
	const char *name;
	const char *buf;
	size_t len;
	size_t pos;
	size_t *lstart; /* byte offset of each physical line */
	size_t nlines;
};

/* One logical line, and where each of its pieces came from. */
struct acl_lline {
	char text[ACL_LINE_BUF];
	size_t first_off; /* file offset where reading started */
	struct {
		size_t loff, foff;
	} seg[ACL_LINE_BUF];
	size_t nseg;
	bool too_long; /* stopped because the buffer was full */
};

int acl__src_init(
    struct acl_src *src, const char *name, const char *buf, size_t len);
void acl__src_free(struct acl_src *src);
void acl__src_pos(
    const struct acl_src *src, size_t off, unsigned *line, unsigned *col);
void acl__lline_pos(const struct acl_src *src, const struct acl_lline *ll,
    size_t loff, unsigned *line, unsigned *col);
/* Returns 1 with a line in ll (maybe without newline), 0 at end of file. */
int acl__xgets(struct acl_src *src, struct acl_lline *ll);

#endif /* WRAPD_ACL_READ_H */
