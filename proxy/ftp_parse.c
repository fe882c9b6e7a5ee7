/*
 * ftp_parse.c - FTP command and passive-reply parsing (ftp_parse.h).
 */
#include <stdio.h>
#include <string.h>

#include "ftp_parse.h"

#define FTP_PARSE_IAC  0xff
#define FTP_PARSE_SB   0xfa
#define FTP_PARSE_SE   0xf0
#define FTP_PARSE_WILL 0xfb
#define FTP_PARSE_DONT 0xfe

/* The verbs the helper does not pass on, upper case. */
static const char *const ftp_parse_refused[] = {
    "PORT", "EPRT", "LPRT", "LPSV", NULL};

static int
ftp_parse_upper(uint8_t b)
{
	return b >= 'a' && b <= 'z' ? b - 'a' + 'A' : b;
}

static int
ftp_parse_letter(uint8_t b)
{
	return (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z');
}

/*
 * Copy line into out without its Telnet sequences: IAC IAC is a data
 * byte 255, IAC WILL/WONT/DO/DONT takes an option byte, IAC SB runs to
 * IAC SE, any other IAC x is a two-byte command.  Returns the length.
 */
static size_t
ftp_parse_strip_telnet(const uint8_t *line, size_t len, uint8_t *out)
{
	size_t i = 0, o = 0;

	while (i < len) {
		if (line[i] != FTP_PARSE_IAC) {
			out[o++] = line[i++];
			continue;
		}
		if (i + 1 >= len)
			break;
		if (line[i + 1] == FTP_PARSE_IAC) {
			out[o++] = FTP_PARSE_IAC;
			i += 2;
		} else if (line[i + 1] >= FTP_PARSE_WILL &&
		    line[i + 1] <= FTP_PARSE_DONT) {
			i += 3;
		} else if (line[i + 1] == FTP_PARSE_SB) {
			for (i += 2; i + 1 < len; i++)
				if (line[i] == FTP_PARSE_IAC &&
				    line[i + 1] == FTP_PARSE_SE)
					break;
			i += 2;
		} else {
			i += 2;
		}
	}
	return o;
}

/* Is the verb of [p, p+n) (n letters) one of the refused ones? */
static enum ftp_command
ftp_parse_verb(const uint8_t *p, size_t n)
{
	size_t i, k;

	if (n != 4)
		return FTP_CMD_OTHER;
	for (i = 0; ftp_parse_refused[i] != NULL; i++) {
		for (k = 0; k < 4; k++)
			if (ftp_parse_upper(p[k]) != ftp_parse_refused[i][k])
				break;
		if (k == 4)
			return i == 3 ? FTP_CMD_LPSV : FTP_CMD_ACTIVE;
	}
	return FTP_CMD_OTHER;
}

enum ftp_command
ftp_parse_command(const uint8_t *line, size_t len)
{
	uint8_t buf[FTP_LINE_MAX];
	size_t n, i = 0, v;

	if (len > sizeof(buf))
		len = sizeof(buf);
	n = ftp_parse_strip_telnet(line, len, buf);
	while (i < n && (buf[i] == ' ' || buf[i] == '\t'))
		i++;
	for (v = i; v < n && ftp_parse_letter(buf[v]); v++)
		;
	return ftp_parse_verb(buf + i, v - i);
}

int
ftp_parse_command_prefix(const uint8_t *p, size_t n)
{
	size_t v, i, k;

	/* A Telnet sequence inside a verb: look at the whole line. */
	if (memchr(p, FTP_PARSE_IAC, n) != NULL)
		return 1;
	for (v = 0; v < n && ftp_parse_letter(p[v]); v++)
		;
	if (v < n) /* the verb is complete */
		return ftp_parse_verb(p, v) != FTP_CMD_OTHER;
	if (v > 4)
		return 0;
	for (i = 0; ftp_parse_refused[i] != NULL; i++) {
		for (k = 0; k < v; k++)
			if (ftp_parse_upper(p[k]) != ftp_parse_refused[i][k])
				break;
		if (k == v)
			return 1;
	}
	return 0;
}

int
ftp_parse_reply_prefix(const uint8_t *p, size_t n)
{
	size_t k = n < 4 ? n : 4;

	return memcmp(p, "227 ", k) == 0 || memcmp(p, "229 ", k) == 0;
}

/* A decimal number of 1 to 5 digits at *i, at most max. */
static int
ftp_parse_number(
    const uint8_t *s, size_t len, size_t *i, unsigned max, unsigned *out)
{
	unsigned v = 0;
	size_t start = *i;

	while (*i < len && s[*i] >= '0' && s[*i] <= '9' && *i - start < 5)
		v = v * 10 + (unsigned)(s[(*i)++] - '0');
	if (*i == start || v > max ||
	    (*i < len && s[*i] >= '0' && s[*i] <= '9'))
		return -1;
	*out = v;
	return 0;
}

/* "227 text (h1,h2,h3,h4,p1,p2)": the six numbers after the first digit
 * that follows the code (the parentheses are optional, RFC 1123). */
static int
ftp_parse_227(const uint8_t *line, size_t len, uint16_t *port)
{
	unsigned v[6];
	size_t i = 4;
	int k;

	while (i < len && !(line[i] >= '0' && line[i] <= '9'))
		i++;
	for (k = 0; k < 6; k++) {
		if (k > 0) {
			if (i >= len || line[i] != ',')
				return -1;
			i++;
		}
		if (ftp_parse_number(line, len, &i, 255, &v[k]) < 0)
			return -1;
	}
	*port = (uint16_t)(v[4] << 8 | v[5]);
	return 227;
}

/* "229 text (<d><d><d>port<d>)", d one printable delimiter (RFC 2428). */
static int
ftp_parse_229(const uint8_t *line, size_t len, uint16_t *port)
{
	const uint8_t *open = memchr(line, '(', len);
	size_t i;
	unsigned v;
	uint8_t d;

	if (open == NULL)
		return -1;
	i = (size_t)(open - line) + 1;
	if (len - i < 6)
		return -1;
	d = line[i];
	if (d < 33 || d > 126 || (d >= '0' && d <= '9') || line[i + 1] != d ||
	    line[i + 2] != d)
		return -1;
	i += 3;
	if (ftp_parse_number(line, len, &i, 65535, &v) < 0)
		return -1;
	if (i + 1 >= len || line[i] != d || line[i + 1] != ')')
		return -1;
	*port = (uint16_t)v;
	return 229;
}

int
ftp_parse_passive(const uint8_t *line, size_t len, uint16_t *port)
{
	int code;

	if (len < 4 || line[3] != ' ')
		return 0;
	if (memcmp(line, "227", 3) == 0)
		code = ftp_parse_227(line, len, port);
	else if (memcmp(line, "229", 3) == 0)
		code = ftp_parse_229(line, len, port);
	else
		return 0;
	if (code > 0 && *port < 1024)
		return -1;
	return code;
}

size_t
ftp_parse_format_227(char *buf, size_t sz, const uint8_t addr[4], uint16_t port)
{
	int r = snprintf(buf, sz,
	    "227 Entering Passive Mode (%u,%u,%u,%u,%u,%u).\r\n", addr[0],
	    addr[1], addr[2], addr[3], (unsigned)(port >> 8),
	    (unsigned)(port & 0xff));

	return r > 0 && (size_t)r < sz ? (size_t)r : 0;
}

size_t
ftp_parse_format_229(char *buf, size_t sz, uint16_t port)
{
	int r = snprintf(buf, sz,
	    "229 Entering Extended Passive Mode (|||%u|)\r\n", (unsigned)port);

	return r > 0 && (size_t)r < sz ? (size_t)r : 0;
}
