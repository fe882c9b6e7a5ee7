/*
 * control_proto.c - requests, and records built and parsed, for the
 * control socket (control_proto.h has the grammar).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control_proto.h"

static const struct {
	const char *word;
	enum control_cmd cmd;
} control_proto_cmds[] = {
    {"bans", CONTROL_CMD_BANS},
    {"status", CONTROL_CMD_STATUS},
};

int
control_proto_request(
    const char *buf, size_t len, enum control_cmd *cmd, const char **why)
{
	const char *lf = memchr(buf, '\n', len);
	size_t n, i;

	if (lf == NULL) {
		if (len >= CONTROL_REQ_MAX) {
			*why = "request too long";
			return -1;
		}
		/* Check what came so far, to fail early; a CR at the end may
		 * be the start of CRLF. */
		n = len > 0 && buf[len - 1] == '\r' ? len - 1 : len;
	} else {
		n = (size_t)(lf - buf);
		if (n + 1 > CONTROL_REQ_MAX) {
			*why = "request too long";
			return -1;
		}
		if (n + 1 < len) {
			*why = "one request per connection";
			return -1;
		}
		if (n > 0 && buf[n - 1] == '\r')
			n--;
	}
	for (i = 0; i < n; i++)
		if (buf[i] < 'a' || buf[i] > 'z') {
			*why = "unknown request";
			return -1;
		}
	if (lf == NULL)
		return 0;
	for (i = 0;
	     i < sizeof(control_proto_cmds) / sizeof(control_proto_cmds[0]);
	     i++)
		if (strlen(control_proto_cmds[i].word) == n &&
		    memcmp(control_proto_cmds[i].word, buf, n) == 0) {
			*cmd = control_proto_cmds[i].cmd;
			return 1;
		}
	*why = "unknown request";
	return -1;
}

const char *
control_proto_request_text(enum control_cmd cmd)
{
	return cmd == CONTROL_CMD_BANS ? "bans\n" : "status\n";
}

void
control_proto_buf_free(struct control_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

void
control_proto_buf_add(struct control_buf *b, const char *s, size_t n)
{
	char *p;
	size_t cap;

	if (b->failed)
		return;
	if (n > CONTROL_RESP_MAX || b->len + n > CONTROL_RESP_MAX) {
		b->failed = true; /* the client would not take it anyway */
		return;
	}
	if (b->len + n + 1 > b->cap) {
		cap = b->cap > 0 ? b->cap : 1024;
		while (cap < b->len + n + 1)
			cap *= 2;
		if ((p = realloc(b->p, cap)) == NULL) {
			b->failed = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
control_proto_buf_puts(struct control_buf *b, const char *s)
{
	control_proto_buf_add(b, s, strlen(s));
}

void
control_proto_buf_record(struct control_buf *b, const char *type)
{
	control_proto_buf_puts(b, type);
}

static bool
control_proto_plain(unsigned char ch)
{
	return ch > 0x20 && ch < 0x7f && ch != '%' && ch != '=';
}

void
control_proto_buf_str(struct control_buf *b, const char *key, const char *v)
{
	static const char hex[] = "0123456789ABCDEF";
	char esc[3] = {'%', 0, 0};
	const unsigned char *p = (const unsigned char *)v;
	size_t run;

	control_proto_buf_add(b, " ", 1);
	control_proto_buf_puts(b, key);
	control_proto_buf_add(b, "=", 1);
	while (*p != '\0') {
		for (run = 0; control_proto_plain(p[run]); run++)
			;
		control_proto_buf_add(b, (const char *)p, run);
		p += run;
		if (*p == '\0')
			break;
		esc[1] = hex[*p >> 4];
		esc[2] = hex[*p & 15];
		control_proto_buf_add(b, esc, 3);
		p++;
	}
}

void
control_proto_buf_u64(struct control_buf *b, const char *key, uint64_t v)
{
	char num[24];

	snprintf(num, sizeof(num), "%llu", (unsigned long long)v);
	control_proto_buf_str(b, key, num);
}

void
control_proto_buf_i64(struct control_buf *b, const char *key, int64_t v)
{
	char num[24];

	snprintf(num, sizeof(num), "%lld", (long long)v);
	control_proto_buf_str(b, key, num);
}

void
control_proto_buf_end(struct control_buf *b)
{
	control_proto_buf_add(b, "\n", 1);
}

static bool
control_proto_name_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
	    ch == '_';
}

static int
control_proto_hex(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

/*
 * Copy a name (type or key) of [a-z0-9_]{1,32} from line[*i] into out at
 * *o, NUL-terminated; stop at `stop` or the end.  0 or -1.
 */
static int
control_proto_name(
    const char *line, size_t len, size_t *i, char stop, char *out, size_t *o)
{
	size_t start = *i;

	while (*i < len && line[*i] != stop) {
		if (!control_proto_name_char(line[*i]))
			return -1;
		out[(*o)++] = line[(*i)++];
	}
	if (*i == start || *i - start > CONTROL_NAME_MAX)
		return -1;
	out[(*o)++] = '\0';
	return 0;
}

/* Decode a value from line[*i] up to a blank or the end.  0 or -1. */
static int
control_proto_value(
    const char *line, size_t len, size_t *i, char *out, size_t *o)
{
	int hi, lo;

	while (*i < len && line[*i] != ' ') {
		unsigned char ch = (unsigned char)line[*i];

		if (ch == '%') {
			if (len - *i < 3 ||
			    (hi = control_proto_hex(line[*i + 1])) < 0 ||
			    (lo = control_proto_hex(line[*i + 2])) < 0 ||
			    (hi == 0 && lo == 0))
				return -1;
			out[(*o)++] = (char)(hi << 4 | lo);
			*i += 3;
			continue;
		}
		if (!control_proto_plain(ch))
			return -1;
		out[(*o)++] = (char)ch;
		(*i)++;
	}
	out[(*o)++] = '\0';
	return 0;
}

int
control_proto_record(const char *line, size_t len, struct control_record *r)
{
	size_t i = 0, o = 0;

	r->n = 0;
	if (len == 0 || len >= CONTROL_LINE_MAX)
		return -1;
	r->type = r->data;
	if (control_proto_name(line, len, &i, ' ', r->data, &o) < 0)
		return -1;
	while (i < len) {
		struct control_field *f;

		if (line[i++] != ' ' || r->n == CONTROL_FIELDS_MAX)
			return -1;
		f = &r->f[r->n++];
		f->key = r->data + o;
		if (control_proto_name(line, len, &i, '=', r->data, &o) < 0 ||
		    i == len)
			return -1;
		i++; /* '=' */
		f->value = r->data + o;
		if (control_proto_value(line, len, &i, r->data, &o) < 0)
			return -1;
	}
	return 0;
}

const char *
control_proto_record_get(const struct control_record *r, const char *key)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (strcmp(r->f[i].key, key) == 0)
			return r->f[i].value;
	return NULL;
}

bool
control_proto_is_number(const char *s)
{
	size_t i = s[0] == '-' ? 1 : 0;

	if (s[i] == '\0' || strlen(s) > 20 || (s[i] == '0' && s[i + 1] != '\0'))
		return false;
	for (; s[i] != '\0'; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}
