/*
 * cli_json.h - the little JSON writer of the command-line tools: strings
 * escaped so that any byte sequence (hostile host names included) yields
 * valid one-line JSON.
 */
#ifndef WRAPD_CLI_JSON_H
#define WRAPD_CLI_JSON_H

#include <stddef.h>
#include <stdio.h>

/* Write s as a JSON string literal (json.h); NULL writes null. */
void cli_json_str(FILE *fp, const char *s);
/* Write n bytes that may hold NUL as a JSON string (NUL as \u0000). */
void cli_json_bytes(FILE *fp, const char *b, size_t n);
/* Write "key": as an object member (key is trusted ASCII). */
void cli_json_key(FILE *fp, const char *key);
/* Write v as a JSON number, or null when !present. */
void cli_json_uint(FILE *fp, int present, unsigned long v);

#endif /* WRAPD_CLI_JSON_H */
