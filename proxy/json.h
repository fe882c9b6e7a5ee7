/*
 * json.h - the one JSON string escaper: `wrapd match --json`, the JSON log
 * line and every other JSON wrapd writes go through it, so the same name is
 * written the same way everywhere.
 *
 * Any byte sequence (a hostile host name or ident reply included) gives a
 * valid JSON string: valid UTF-8 passes through, every byte that is not
 * part of valid UTF-8 becomes U+FFFD, '"' and '\\' are escaped, control
 * characters become \n \r \t or \u00XX.  libc only.
 */
#ifndef WRAPD_JSON_H
#define WRAPD_JSON_H

#include <stddef.h>

/* Where the escaped text goes: n bytes at p, in order. */
typedef void (*json_put_fn)(void *arg, const char *p, size_t n);

/* Write s as a JSON string literal, quotes included; NULL writes null. */
void json_string(const char *s, json_put_fn put, void *arg);
/* The same for len bytes that may hold NUL (written as \u0000). */
void json_bytes(const char *s, size_t len, json_put_fn put, void *arg);

#endif /* WRAPD_JSON_H */
