/*
 * fuzz_ftp_parse.c - the FTP helper's parsers (ftp_parse.h) on arbitrary
 * bytes, taken as one line.
 *
 * Checks: memory safety (ASan, an exact-size heap copy); a passive reply
 * yields a port of at least 1024 and its code; and the property ftp.c's
 * filter rests on: a line that ftp_parse_command() refuses (or that
 * ftp_parse_passive() must rewrite) is held from its first byte to its
 * last, i.e. every prefix of it says "hold", so no part of such a line is
 * ever passed on before the whole line has been looked at.  (The filter
 * passes leading Telnet sequences and blanks before it starts holding;
 * lines starting with those are checked from the first other byte.)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ftp_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *line;
	uint16_t port = 0;
	size_t k, len;
	char out[128];
	int code;

	if (size > FTP_LINE_MAX)
		size = FTP_LINE_MAX;
	if ((line = malloc(size ? size : 1)) == NULL)
		return 0;
	if (size > 0)
		memcpy(line, data, size);
	/* The filter holds a line up to its LF: none inside. */
	len = size;
	if (memchr(line, '\n', size) != NULL)
		len = (size_t)((uint8_t *)memchr(line, '\n', size) - line);
	if (len > 0 && line[0] != 0xff && line[0] != ' ' && line[0] != '\t' &&
	    ftp_parse_command(line, len) != FTP_CMD_OTHER)
		for (k = 1; k <= len; k++)
			if (!ftp_parse_command_prefix(line, k))
				abort();
	code = ftp_parse_passive(line, len, &port);
	if (code > 0) {
		if ((code != 227 && code != 229) || port < 1024)
			abort();
		for (k = 1; k <= len; k++)
			if (!ftp_parse_reply_prefix(line, k))
				abort();
		if (ftp_parse_format_229(out, sizeof(out), port) == 0 ||
		    ftp_parse_passive(
		        (const uint8_t *)out, strlen(out) - 2, &port) != 229)
			abort();
	}
	free(line);
	return 0;
}
