/*
 * action_text.c - finger output cleaning, the report mail, banner files.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "action_text.h"

/* libwrap reads banner lines with fgets(ibuf, BUFSIZ - 2, fp). */
#define BANNER_CHUNK (ACL_EXPAND_MAX - 3)

struct tbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

static void
action_text_buf_add(struct tbuf *b, const char *s, size_t n)
{
	size_t ncap;
	char *np;

	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		ncap = b->cap ? b->cap : 256;
		while (ncap < b->len + n + 1)
			ncap *= 2;
		if ((np = realloc(b->p, ncap)) == NULL) {
			b->oom = true;
			return;
		}
		b->p = np;
		b->cap = ncap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
action_text_buf_str(struct tbuf *b, const char *s)
{
	action_text_buf_add(b, s, strlen(s));
}

static void __attribute__((__format__(printf, 2, 3)))
action_text_buf_printf(struct tbuf *b, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	action_text_buf_add(
	    b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

static char *
action_text_buf_finish(struct tbuf *b, size_t *outlen)
{
	if (!b->oom && b->p == NULL)
		action_text_buf_add(b, "", 0);
	if (b->oom) {
		free(b->p);
		errno = ENOMEM;
		return NULL;
	}
	if (outlen != NULL)
		*outlen = b->len;
	return b->p;
}

char *
action_text_finger_clean(const char *in, size_t len, size_t *outlen)
{
	struct tbuf b = {0};
	size_t col = 0, i;
	unsigned char c;
	char esc[8];

	for (i = 0; i < len; i++) {
		c = (unsigned char)in[i];
		if (c == '\n') {
			action_text_buf_add(&b, "\n", 1);
			col = 0;
			continue;
		}
		if (c == '\r')
			continue;
		if (col >= ACTION_FINGER_LINE_MAX) {
			action_text_buf_add(&b, "\n", 1);
			col = 0;
		}
		if ((c >= 0x20 && c < 0x7f) || c == '\t') {
			action_text_buf_add(&b, (const char *)&c, 1);
			col++;
		} else {
			snprintf(esc, sizeof(esc), "\\%03o", c);
			action_text_buf_add(&b, esc, 4);
			col += 4;
		}
	}
	return action_text_buf_finish(&b, outlen);
}

void
action_text_field_clean(char *dst, size_t dstsz, const char *src)
{
	size_t i;

	if (dstsz == 0)
		return;
	if (src == NULL)
		src = "";
	for (i = 0; i + 1 < dstsz && src[i] != '\0'; i++) {
		unsigned char c = (unsigned char)src[i];

		dst[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	dst[i] = '\0';
}

/* A body line "Label: value" with value cleaned (omitted when NULL). */
static void
action_text_mail_field(struct tbuf *b, const char *label, const char *value)
{
	char v[512];

	if (value == NULL)
		return;
	action_text_field_clean(v, sizeof(v), value);
	action_text_buf_printf(b, "%-10s %s\n", label, v);
}

char *
action_text_mail_compose(const struct action_report *r, size_t *outlen)
{
	struct tbuf b = {0};
	char to[256], svc[128], who[160], addr[64], date[64], port[16];
	struct tm tm;

	action_text_field_clean(to, sizeof(to), r->recipient);
	action_text_field_clean(
	    svc, sizeof(svc), r->service ? r->service : r->daemon);
	action_text_field_clean(addr, sizeof(addr), r->client_addr);
	/* The name goes in the Subject only when it says more than the address. */
	if (r->client_name != NULL &&
	    strcmp(r->client_name, ACL_UNKNOWN) != 0 &&
	    (r->client_addr == NULL ||
	        strcmp(r->client_name, r->client_addr) != 0))
		action_text_field_clean(who, sizeof(who), r->client_name);
	else
		who[0] = '\0';
	localtime_r(&r->when, &tm);
	if (strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z", &tm) == 0)
		date[0] = '\0';

	action_text_buf_printf(&b, "To: %s\n", to);
	if (who[0] != '\0')
		action_text_buf_printf(&b, "Subject: wrapd: %s %s %s [%s]\n",
		    svc, r->verdict ? r->verdict : "denied", who, addr);
	else
		action_text_buf_printf(&b, "Subject: wrapd: %s %s %s\n", svc,
		    r->verdict ? r->verdict : "denied", addr);
	if (date[0] != '\0')
		action_text_buf_printf(&b, "Date: %s\n", date);
	action_text_buf_str(&b,
	    "Auto-Submitted: auto-generated\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: text/plain; charset=us-ascii\n"
	    "Content-Transfer-Encoding: 7bit\n"
	    "\n");

	action_text_buf_printf(&b, "wrapd %s a connection.\n\n",
	    r->verdict ? r->verdict : "denied");
	action_text_mail_field(&b, "Service:", r->service);
	action_text_mail_field(&b, "Daemon:", r->daemon);
	action_text_mail_field(&b, "Client:", r->client_addr);
	if (r->client_port >= 0) {
		snprintf(port, sizeof(port), "%d", r->client_port);
		action_text_mail_field(&b, "Port:", port);
	}
	action_text_mail_field(&b, "Name:", r->client_name);
	action_text_mail_field(&b, "User:", r->user);
	if (r->server_addr != NULL) {
		char srv[128];

		if (r->server_port >= 0)
			snprintf(srv, sizeof(srv), "%s port %d", r->server_addr,
			    r->server_port);
		else
			snprintf(srv, sizeof(srv), "%s", r->server_addr);
		action_text_mail_field(&b, "Server:", srv);
	}
	if (r->rule_file != NULL) {
		char rule[600];

		snprintf(
		    rule, sizeof(rule), "%s:%u", r->rule_file, r->rule_line);
		action_text_mail_field(&b, "Rule:", rule);
	} else {
		action_text_mail_field(&b, "Rule:", "(no rule matched)");
	}
	action_text_mail_field(&b, "Reason:", r->reason);
	action_text_mail_field(&b, "Time:", date);
	if (r->finger != NULL) {
		action_text_buf_str(&b, "\nfinger @client said:\n\n");
		action_text_buf_str(&b, r->finger);
		if (b.len > 0 && b.p[b.len - 1] != '\n')
			action_text_buf_str(&b, "\n");
	} else if (r->finger_error != NULL) {
		char e[256];

		action_text_field_clean(e, sizeof(e), r->finger_error);
		action_text_buf_printf(&b, "\nfinger @client: %s\n", e);
	}
	return action_text_buf_finish(&b, outlen);
}

/*
 * Walk data as libwrap's banner code reads it: the leading NULs, then
 * fgets-sized chunks.  For each chunk, call fn with its text (cut at an
 * embedded NUL) and whether it ended with a newline.
 */
typedef int (*banner_line_fn)(
    void *arg, const char *line, size_t n, int newline);

static int
action_text_banner_walk(
    const char *data, size_t len, size_t *nuls, banner_line_fn fn, void *arg)
{
	size_t i = 0, start, n, text;
	int rc;

	while (i < len && data[i] == '\0')
		i++;
	*nuls = i;
	while (i < len) {
		start = i;
		while (i < len && i - start < BANNER_CHUNK && data[i] != '\n')
			i++;
		if (i < len && data[i] == '\n' && i - start < BANNER_CHUNK)
			i++;
		n = i - start;
		text = strnlen(data + start, n);
		if (text == n && n > 0 && data[start + n - 1] == '\n')
			rc = fn(arg, data + start, n - 1, 1);
		else
			rc = fn(arg, data + start, text, 0);
		if (rc != 0)
			return rc;
	}
	return 0;
}

struct banner_render {
	const struct acl_request *req;
	struct tbuf out;
	char *line, *exp;
};

static int
action_text_banner_render_line(
    void *arg, const char *line, size_t n, int newline)
{
	struct banner_render *br = arg;
	int rc;

	memcpy(br->line, line, n);
	if (newline) {
		memcpy(br->line + n, "\r\n", 2);
		n += 2;
	}
	br->line[n] = '\0';
	rc = acl_expand(br->line, br->req, br->exp, ACL_EXPAND_MAX);
	if (rc == ACL_DONE) {
		action_text_buf_str(&br->out, br->exp);
		return 0;
	}
	if (rc == -1 && errno == E2BIG)
		return 0; /* dropped: see action_text.h */
	return rc == -1 ? -1 : rc;
}

int
action_text_banner_render(const char *data, size_t len,
    const struct acl_request *req, char **out, size_t *outlen)
{
	struct banner_render br = {.req = req};
	size_t nuls, i;
	int rc;

	br.line = malloc(BANNER_CHUNK + 3);
	br.exp = malloc(ACL_EXPAND_MAX);
	if (br.line == NULL || br.exp == NULL) {
		free(br.line);
		free(br.exp);
		return -1;
	}
	/* NULs are written one by one, before anything else, as libwrap does. */
	for (i = 0; i < len && data[i] == '\0'; i++)
		action_text_buf_add(&br.out, "", 1);
	rc = action_text_banner_walk(
	    data, len, &nuls, action_text_banner_render_line, &br);
	free(br.line);
	free(br.exp);
	if (rc != 0) {
		free(br.out.p);
		return rc;
	}
	if ((*out = action_text_buf_finish(&br.out, outlen)) == NULL)
		return -1;
	return ACL_DONE;
}

struct banner_needs {
	unsigned needs;
	char *line;
};

static int
action_text_banner_needs_line(
    void *arg, const char *line, size_t n, int newline)
{
	struct banner_needs *bn = arg;

	(void)newline;
	memcpy(bn->line, line, n);
	bn->line[n] = '\0';
	bn->needs |= acl_expand_needs(bn->line);
	return 0;
}

unsigned
action_text_banner_needs(const char *data, size_t len)
{
	struct banner_needs bn = {0, NULL};
	size_t nuls;

	if ((bn.line = malloc(BANNER_CHUNK + 1)) == NULL)
		return 0;
	action_text_banner_walk(
	    data, len, &nuls, action_text_banner_needs_line, &bn);
	free(bn.line);
	return bn.needs;
}
