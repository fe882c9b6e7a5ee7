/*
 * json.c - JSON string escaping.
 */
#include <stdio.h>
#include <string.h>

#include "json.h"

/*
 * Length of the valid UTF-8 sequence at p (1..4, at most left bytes), or 0
 * if invalid.
 */
static size_t
json_utf8_len(const unsigned char *p, size_t left)
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
	if (n > left)
		return 0;
	for (i = 1; i < n; i++) {
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
json_bytes(const char *s, size_t len, json_put_fn put, void *arg)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;
	char esc[8];
	size_t n;

	put(arg, "\"", 1);
	for (; p < end; p += n) {
		n = json_utf8_len(p, (size_t)(end - p));
		if (n == 0) {
			put(arg, "\\ufffd", 6);
			n = 1;
		} else if (n > 1) {
			put(arg, (const char *)p, n);
		} else if (*p == '"' || *p == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*p;
			put(arg, esc, 2);
		} else if (*p == '\n') {
			put(arg, "\\n", 2);
		} else if (*p == '\r') {
			put(arg, "\\r", 2);
		} else if (*p == '\t') {
			put(arg, "\\t", 2);
		} else if (*p < 0x20 || *p == 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", *p);
			put(arg, esc, 6);
		} else {
			put(arg, (const char *)p, 1);
		}
	}
	put(arg, "\"", 1);
}

void
json_string(const char *s, json_put_fn put, void *arg)
{
	if (s == NULL)
		put(arg, "null", 4);
	else
		json_bytes(s, strlen(s), put, arg);
}
