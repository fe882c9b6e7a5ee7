/*
 * cli_text.c - control-character escaping for `wrapd check` and
 * `wrapd match` output.
 */
#include <string.h>

#include "cli_text.h"

void
cli_text_n(FILE *fp, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;

	for (; n > 0; n--, p++) {
		if (*p < 0x20 || *p == 0x7f)
			fprintf(fp, "\\x%02x", *p);
		else
			fputc(*p, fp);
	}
}

void
cli_text(FILE *fp, const char *s)
{
	cli_text_n(fp, s, strlen(s));
}

void
cli_text_diag(FILE *fp, const char *file, unsigned line, unsigned col,
    int error, const char *msg)
{
	cli_text(fp, file != NULL ? file : "");
	fprintf(fp, ":%u:%u: %s: ", line, col, error ? "error" : "warning");
	cli_text(fp, msg != NULL ? msg : "");
	fputc('\n', fp);
}
