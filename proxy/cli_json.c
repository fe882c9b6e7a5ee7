/*
 * cli_json.c - JSON string escaping for `wrapd match --json`.
 */
#include <stddef.h>
#include <stdio.h>

#include "cli_json.h"

/* Length of the valid UTF-8 sequence at p (1..4), or 0 if invalid. */
static size_t
cli_json_utf8_len(const unsigned char *p)
{
	size_t n, i;
	unsigned long cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		n = 2;
		cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		cp = p[0] & 0x07;
	} else {
		return 0;
	}
	for (i = 1; i < n; i++) {
		/* The NUL terminator fails this test, so we never read past it. */
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	/* Reject overlong forms, surrogates and values past U+10FFFF. */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

void
cli_json_str(FILE *fp, const char *s)
{
	const unsigned char *p;
	size_t n;

	if (s == NULL) {
		fputs("null", fp);
		return;
	}
	fputc('"', fp);
	for (p = (const unsigned char *)s; *p != '\0'; p += n) {
		n = cli_json_utf8_len(p);
		if (n == 0) {
			fputs("\\ufffd", fp);
			n = 1;
		} else if (n > 1) {
			fwrite(p, 1, n, fp);
		} else if (*p == '"' || *p == '\\') {
			fputc('\\', fp);
			fputc(*p, fp);
		} else if (*p == '\n') {
			fputs("\\n", fp);
		} else if (*p == '\r') {
			fputs("\\r", fp);
		} else if (*p == '\t') {
			fputs("\\t", fp);
		} else if (*p < 0x20 || *p == 0x7f) {
			fprintf(fp, "\\u%04x", *p);
		} else {
			fputc(*p, fp);
		}
	}
	fputc('"', fp);
}

void
cli_json_key(FILE *fp, const char *key)
{
	cli_json_str(fp, key);
	fputc(':', fp);
}

void
cli_json_uint(FILE *fp, int present, unsigned long v)
{
	if (present)
		fprintf(fp, "%lu", v);
	else
		fputs("null", fp);
}
