/*
 * diff_wrapd.c - wrapd's verdict for a case: acl_ruleset_load() on the same
 * files and acl_eval() on the same request.  Facts the case does not give
 * are answered "unknown" when the engine asks, which is what libwrap's
 * request (no look-up methods) turns an empty field into.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "diff.h"

/* request_set() keeps at most STRING_LENGTH - 1 bytes: callers do the same. */
static const char *
trunc127(char *buf, const char *s)
{
	if (s == NULL)
		return NULL;
	snprintf(buf, ACL_STRING_MAX, "%s", s);
	return buf;
}

/*
 * libwrap reports the LAST physical line of a logical line (xgets counts
 * lines as it joins them); acl reports the first.  Map first -> last with
 * the file's bytes.
 */
static int
last_physical_line(const char *path, unsigned first)
{
	FILE *fp = fopen(path, "rb");
	int c, prev = 0, line = 1;

	if (fp == NULL)
		return (int)first;
	while (line < (int)first && (c = getc(fp)) != EOF)
		if (c == '\n')
			line++;
	while ((c = getc(fp)) != EOF) {
		if (c == '\n') {
			if (prev != '\\')
				break;
			line++;
		}
		prev = c;
	}
	fclose(fp);
	return line;
}

struct wreq {
	struct acl_request req;
	char daemon[ACL_STRING_MAX], name[ACL_STRING_MAX];
	char user[ACL_STRING_MAX], sname[ACL_STRING_MAX];
};

static int
wrapd_request(const struct diff_case *c, long pid, struct wreq *w)
{
	acl_request_init(&w->req);
	w->req.pid = pid;
	w->req.daemon = trunc127(w->daemon, c->daemon);
	if (c->client != NULL && strcmp(c->client, "unknown") != 0) {
		if (acl_addr_parse(&w->req.client.addr, c->client) != 0)
			return -1;
		w->req.client.port = c->client_port;
	}
	w->req.client.name = trunc127(w->name, c->name);
	w->req.user = trunc127(w->user, c->user);
	if (c->server != NULL && strcmp(c->server, "unknown") != 0) {
		if (acl_addr_parse(&w->req.server.addr, c->server) != 0)
			return -1;
		/* libwrap has a server sockaddr, so a port: 0 if not given. */
		w->req.server.port = c->server_port >= 0 ? c->server_port : 0;
	}
	w->req.server.name = trunc127(w->sname, c->server_name);
	return 0;
}

static int
answer(struct acl_request *req, int need)
{
	switch (need) {
	case ACL_NEED_CLIENT_NAME:
		if (req->client.name != NULL)
			return -1; /* asked twice: engine bug */
		req->client.name = ACL_UNKNOWN;
		return 0;
	case ACL_NEED_SERVER_NAME:
		if (req->server.name != NULL)
			return -1;
		req->server.name = ACL_UNKNOWN;
		return 0;
	case ACL_NEED_USER:
		if (req->user != NULL)
			return -1;
		req->user = ACL_UNKNOWN;
		return 0;
	default:
		return -1;
	}
}

int
diff_wrapd(const struct diff_case *c, const char *dir, const char *allow_path,
    const char *deny_path, long pid, struct diff_outcome *o)
{
	struct acl_load_opts lo;
	struct acl_ruleset *rs;
	struct acl_decision dec;
	struct wreq w;
	enum acl_status st;
	size_t i;
	int k, rc;
	static char out[ACL_EXPAND_MAX + 1];

	(void)dir;
	memset(o, 0, sizeof(*o));
	o->verdict = DIFF_FAILED;
	memset(&lo, 0, sizeof(lo));
	lo.allow_path = allow_path;
	lo.deny_path = deny_path;
	rs = acl_ruleset_load(&lo, NULL);
	if (rs == NULL) {
		snprintf(o->log, sizeof(o->log), "acl_ruleset_load failed");
		return -1;
	}
	if (wrapd_request(c, pid, &w) != 0) {
		snprintf(o->log, sizeof(o->log), "bad request address");
		acl_ruleset_unref(rs);
		return -1;
	}
	memset(&dec, 0, sizeof(dec));
	for (k = 0; k < 8; k++) {
		st = acl_eval(rs, &w.req, ACL_TABLE_ALLOW, &dec);
		if (st == ACL_DONE || answer(&w.req, (int)st) != 0)
			break;
	}
	if (st != ACL_DONE) {
		snprintf(o->log, sizeof(o->log),
		    "acl_eval did not finish (status %d)", (int)st);
		acl_ruleset_unref(rs);
		return -1;
	}
	o->verdict = dec.verdict == ACL_GRANT ? DIFF_GRANT
	    : dec.verdict == ACL_TWIST        ? DIFF_TWIST
	                                      : DIFF_DENY;
	if (dec.rule != NULL) {
		snprintf(o->file, sizeof(o->file), "%s", dec.rule->file);
		o->line = last_physical_line(dec.rule->file, dec.rule->line);
	}
	if (dec.table_error)
		snprintf(o->log, sizeof(o->log), "table error at %s:%u",
		    dec.error_file ? dec.error_file : "?", dec.error_line);

	for (i = 0; i < c->nexpand; i++) {
		if (wrapd_request(c, pid, &w) != 0)
			break;
		rc = -1;
		for (k = 0; k < 8; k++) {
			rc = acl_expand(c->expand[i], &w.req, out, sizeof(out));
			if (rc == ACL_DONE || rc < 0 || answer(&w.req, rc) != 0)
				break;
		}
		if (rc == ACL_DONE)
			o->expanded[i] = diff_strdup(out);
		else
			o->expanded[i] = NULL;
	}
	acl_ruleset_unref(rs);
	return 0;
}
