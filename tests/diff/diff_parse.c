/*
 * diff_parse.c - the case file format (see cases/README).
 *
 *   === title                     starts a case
 *   --- allow [esc] [noeol]       hosts.allow text follows (verbatim lines)
 *   --- deny [esc] [noeol]        hosts.deny text
 *   --- file NAME [esc] [noeol]   an extra file (for /file patterns)
 *   --- setup                     lines: mkdir NAME | symlink NAME TARGET
 *   --- request [esc]             lines: KEY VALUE (see cases/README)
 *
 * esc: \\ \r \t \n \xHH and \{N}c (c repeated N times) are decoded.
 * noeol: the block's last newline is dropped.  ${DIR} is the case
 * directory, substituted when the case is run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diff.h"

enum blk {
	BLK_NONE,
	BLK_ALLOW,
	BLK_DENY,
	BLK_FILE,
	BLK_SETUP,
	BLK_REQUEST,
};

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void
decode(const char *s, size_t n, int esc, struct diff_buf *out)
{
	size_t i;

	if (!esc) {
		diff_buf_add(out, s, n);
		return;
	}
	for (i = 0; i < n; i++) {
		if (s[i] != '\\' || i + 1 >= n) {
			diff_buf_addc(out, s[i]);
			continue;
		}
		i++;
		switch (s[i]) {
		case 'r':
			diff_buf_addc(out, '\r');
			break;
		case 't':
			diff_buf_addc(out, '\t');
			break;
		case 'n':
			diff_buf_addc(out, '\n');
			break;
		case 'x':
			if (i + 2 < n && hexval(s[i + 1]) >= 0 &&
			    hexval(s[i + 2]) >= 0) {
				diff_buf_addc(out,
				    (char)(hexval(s[i + 1]) * 16 +
				        hexval(s[i + 2])));
				i += 2;
			} else {
				diff_buf_adds(out, "\\x");
			}
			break;
		case '{': {
			char *end;
			unsigned long cnt = strtoul(s + i + 1, &end, 10);
			size_t k;

			if (*end == '}' && (size_t)(end - s) + 1 < n) {
				for (k = 0; k < cnt; k++)
					diff_buf_addc(out, end[1]);
				i = (size_t)(end - s) + 1;
			} else {
				diff_buf_adds(out, "\\{");
			}
			break;
		}
		default:
			diff_buf_addc(out, s[i]);
			break;
		}
	}
}

static int
parse_port(const char *v)
{
	char *end;
	long p = strtol(v, &end, 10);

	if (*v == '\0' || *end != '\0' || p < 0 || p > 65535)
		return -2;
	return (int)p;
}

static int
request_line(struct diff_case *c, const char *line, int esc)
{
	struct diff_buf v = {0};
	const char *sp = strchr(line, ' ');
	size_t klen = sp ? (size_t)(sp - line) : strlen(line);
	const char *val = sp ? sp + 1 : "";
	char **slot = NULL;
	int rc = 0;

	decode(val, strlen(val), esc, &v);
	diff_buf_add(&v, "", 0);
#define KEY(k) (klen == strlen(k) && strncmp(line, k, klen) == 0)
	if (KEY("daemon"))
		slot = &c->daemon;
	else if (KEY("client"))
		slot = &c->client;
	else if (KEY("name"))
		slot = &c->name;
	else if (KEY("user"))
		slot = &c->user;
	else if (KEY("server"))
		slot = &c->server;
	else if (KEY("server-name"))
		slot = &c->server_name;
	else if (KEY("allow-path"))
		slot = &c->allow_path;
	else if (KEY("deny-path"))
		slot = &c->deny_path;
	else if (KEY("expect"))
		slot = &c->expect;
	else if (KEY("server-port"))
		rc = (c->server_port = parse_port(v.p)) == -2 ? -1 : 0;
	else if (KEY("client-port"))
		rc = (c->client_port = parse_port(v.p)) == -2 ? -1 : 0;
	else if (KEY("needs-root"))
		c->needs_root = 1;
	else if (KEY("expand") && c->nexpand < DIFF_MAX_EXPANDS)
		c->expand[c->nexpand++] = diff_strdup(v.p);
	else
		rc = -1;
#undef KEY
	if (slot != NULL) {
		free(*slot);
		*slot = diff_strdup(v.p);
	}
	if (c->expect != NULL && strcmp(c->expect, "grant") != 0 &&
	    strcmp(c->expect, "deny") != 0 && strcmp(c->expect, "twist") != 0)
		rc = -1;
	diff_buf_free(&v);
	return rc;
}

static void
case_init(struct diff_case *c, const char *title)
{
	memset(c, 0, sizeof(*c));
	c->title = diff_strdup(title);
	c->server_port = -1;
	c->client_port = -1;
}

int
diff_parse_file(const char *path, struct diff_case **out, size_t *n)
{
	FILE *fp = fopen(path, "rb");
	struct diff_buf all = {0};
	char chunk[4096];
	size_t got, pos, lineno = 0, cap = 0;
	struct diff_case *cases = NULL, *c = NULL;
	struct diff_buf *blk_buf = NULL;
	enum blk blk = BLK_NONE;
	int esc = 0, noeol = 0;
	char wherebuf[1024];

	if (fp == NULL) {
		perror(path);
		return -1;
	}
	while ((got = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		diff_buf_add(&all, chunk, got);
	fclose(fp);
	diff_buf_add(&all, "", 0);
	*n = 0;

	for (pos = 0; pos < all.len;) {
		char *nl = memchr(all.p + pos, '\n', all.len - pos);
		size_t llen = nl ? (size_t)(nl - (all.p + pos)) : all.len - pos;
		char *line = all.p + pos;
		int header;

		pos += llen + 1;
		lineno++;
		header = llen >= 4 &&
		    (strncmp(line, "=== ", 4) == 0 ||
		        strncmp(line, "--- ", 4) == 0);
		if (header && blk_buf != NULL && noeol && blk_buf->len > 0 &&
		    blk_buf->p[blk_buf->len - 1] == '\n')
			blk_buf->p[--blk_buf->len] = '\0';
		if (header)
			blk_buf = NULL;
		if (header && line[0] == '=') {
			char title[512];

			if (*n == cap) {
				cap = cap ? cap * 2 : 32;
				cases = realloc(cases, cap * sizeof(*cases));
				if (cases == NULL)
					abort();
			}
			snprintf(title, sizeof(title), "%.*s", (int)(llen - 4),
			    line + 4);
			c = &cases[(*n)++];
			case_init(c, title);
			snprintf(
			    wherebuf, sizeof(wherebuf), "%s:%zu", path, lineno);
			c->where = diff_strdup(wherebuf);
			blk = BLK_NONE;
			continue;
		}
		if (header) {
			char hdr[512], *w, *save = NULL;

			if (c == NULL)
				goto bad;
			snprintf(hdr, sizeof(hdr), "%.*s", (int)(llen - 4),
			    line + 4);
			esc = noeol = 0;
			w = strtok_r(hdr, " ", &save);
			if (w == NULL)
				goto bad;
			if (strcmp(w, "allow") == 0) {
				blk = BLK_ALLOW;
				c->have_allow = 1;
				blk_buf = &c->allow;
				diff_buf_add(blk_buf, "", 0);
			} else if (strcmp(w, "deny") == 0) {
				blk = BLK_DENY;
				c->have_deny = 1;
				blk_buf = &c->deny;
				diff_buf_add(blk_buf, "", 0);
			} else if (strcmp(w, "file") == 0) {
				w = strtok_r(NULL, " ", &save);
				if (w == NULL || c->nfiles == DIFF_MAX_FILES)
					goto bad;
				blk = BLK_FILE;
				c->files[c->nfiles].name = diff_strdup(w);
				blk_buf = &c->files[c->nfiles++].text;
				diff_buf_add(blk_buf, "", 0);
			} else if (strcmp(w, "setup") == 0) {
				blk = BLK_SETUP;
			} else if (strcmp(w, "request") == 0) {
				blk = BLK_REQUEST;
			} else {
				goto bad;
			}
			while ((w = strtok_r(NULL, " ", &save)) != NULL) {
				if (strcmp(w, "esc") == 0)
					esc = 1;
				else if (strcmp(w, "noeol") == 0)
					noeol = 1;
				else
					goto bad;
			}
			continue;
		}
		if (nl == NULL && llen == 0)
			break; /* end of file */
		switch (blk) {
		case BLK_ALLOW:
		case BLK_DENY:
		case BLK_FILE:
			decode(line, llen, esc, blk_buf);
			diff_buf_addc(blk_buf, '\n');
			break;
		case BLK_SETUP:
			if (llen > 0 && c->nsetup < DIFF_MAX_SETUP) {
				char *s = malloc(llen + 1);

				if (s == NULL)
					abort();
				memcpy(s, line, llen);
				s[llen] = '\0';
				c->setup[c->nsetup++] = s;
			}
			break;
		case BLK_REQUEST: {
			char tmp[4096];

			if (llen == 0 || line[0] == '#')
				break;
			snprintf(tmp, sizeof(tmp), "%.*s", (int)llen, line);
			if (request_line(c, tmp, esc) != 0)
				goto bad;
			break;
		}
		case BLK_NONE:
			if (llen == 0 || line[0] == '#')
				break;
			goto bad;
		}
	}
	if (blk_buf != NULL && noeol && blk_buf->len > 0 &&
	    blk_buf->p[blk_buf->len - 1] == '\n')
		blk_buf->p[--blk_buf->len] = '\0';
	diff_buf_free(&all);
	*out = cases;
	return (int)*n;
bad:
	fprintf(stderr, "%s:%zu: bad case file line\n", path, lineno);
	diff_buf_free(&all);
	*out = cases;
	return -1;
}
