/*
 * cli_json.c - JSON output of `wrapd match --json`, through json.c.
 */
#include <stddef.h>
#include <stdio.h>

#include "cli_json.h"
#include "json.h"

static void
cli_json_put(void *arg, const char *p, size_t n)
{
	fwrite(p, 1, n, arg);
}

void
cli_json_str(FILE *fp, const char *s)
{
	json_string(s, cli_json_put, fp);
}

void
cli_json_bytes(FILE *fp, const char *b, size_t n)
{
	json_bytes(b, n, cli_json_put, fp);
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
