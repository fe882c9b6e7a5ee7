/*
 * conf_validate.c - checks across keys and services, shared by the file
 * and quick mode (where the command line fills the struct directly).
 *
 * Per-value syntax is checked where values are parsed; here are only the
 * rules that need more than one value: a service has exactly one of
 * backend and exec, names and listen addresses are unique, "systemd" and
 * "stdin" stand alone, at most one service owns stdin; then the services'
 * user and group are resolved to ids (conf_account.c).
 */
#include <stdlib.h>
#include <string.h>

#include "conf_int.h"

struct conf_ref {
	const char *key; /* service name or listen host */
	uint16_t port;
	size_t svc, idx; /* document order */
};

static int
conf_validate_ref_cmp(const void *a, const void *b)
{
	const struct conf_ref *x = a, *y = b;
	int r = strcmp(x->key, y->key);
	if (r != 0)
		return r;
	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	if (x->svc != y->svc)
		return x->svc < y->svc ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static void
conf_validate_check_service(struct conf_ctx *cx, struct conf_service *s)
{
	const char *name = s->name ? s->name : "?";
	const char *why;

	if (s->name == NULL) {
		conf__err(cx, s->line, s->col, "a service has no name");
	} else if ((why = conf__check_name(s->name, strlen(s->name))) != NULL) {
		conf__err(cx, s->line, s->col, "service name \"%s\": %s",
		    s->name, why);
	}
	if (s->daemon == NULL && s->name != NULL)
		s->daemon = conf__strdup(s->name);
	else if (s->daemon != NULL &&
	    (why = conf__check_name(s->daemon, strlen(s->daemon))) != NULL)
		conf__err(cx, s->line, s->col,
		    "service \"%s\": daemon \"%s\": %s", name, s->daemon, why);
	if (s->nlisten == 0)
		conf__err(cx, s->line, s->col,
		    "service \"%s\": no listen address", name);
	for (size_t i = 0; s->nlisten > 1 && i < s->nlisten; i++) {
		const struct conf_listen *l = &s->listen[i];
		if (l->kind != CONF_LISTEN_ADDR)
			conf__err(cx, l->line, l->col,
			    "service \"%s\": \"%s\" must be the only listen "
			    "entry of its service",
			    name, l->text);
	}
	bool has_exec = s->exec_argv != NULL && s->exec_argv[0] != NULL;
	bool has_backend = s->backend != NULL;
	if (has_exec && has_backend)
		conf__err(cx, s->line, s->col,
		    "service \"%s\": has both backend and exec; choose one",
		    name);
	else if (!has_exec && !has_backend)
		conf__err(cx, s->line, s->col,
		    "service \"%s\": needs a backend or an exec", name);
	if (has_exec && s->exec_argv[0][0] != '/')
		conf__err(cx, s->line, s->col,
		    "service \"%s\": exec program \"%s\" must be an absolute "
		    "path",
		    name, s->exec_argv[0]);
	if (has_exec && s->proxy_protocol != CONF_PROXY_PROTOCOL_NONE)
		conf__err(cx, s->line, s->col,
		    "service \"%s\": proxy_protocol is for a backend, not for "
		    "exec",
		    name);
	if (s->max_connections == 0)
		conf__err(cx, s->line, s->col,
		    "service \"%s\": max_connections must be at least 1", name);
	/*
	 * Unset: one source may hold an eighth of the service, so a single
	 * address (idle, or waiting on its own silent resolver) can never
	 * take every slot.
	 */
	if (s->per_source_connections == 0)
		s->per_source_connections =
		    s->max_connections / 8 > 0 ? s->max_connections / 8 : 1;
	conf__check_daemons(cx, s);
	if (s->connect_timeout_ms == 0 || s->lookup_timeout_ms == 0)
		conf__err(cx, s->line, s->col,
		    "service \"%s\": the connect and lookup timeouts must not "
		    "be 0",
		    name);
}

/*
 * The metrics endpoint names each rule's file:line with its count of
 * matches, by service: who can scrape it learns which rules clients hit
 * and how often.  Legal anywhere, but said when it is not loopback.
 */
static void
conf_validate_metrics(struct conf_ctx *cx, const struct wrapd_conf *c)
{
	static const unsigned char v6_loopback[16] = {[15] = 1};
	static const unsigned char v4_mapped[12] = {[10] = 0xff, [11] = 0xff};
	unsigned char a[16];
	char *host = NULL, *err = NULL;
	uint16_t port;
	bool v6;

	if (c->metrics == NULL)
		return;
	if (conf__parse_hostport(c->metrics, &host, &port, a, &v6, &err) != 0) {
		free(err); /* conf__check_metrics refused it already */
		return;
	}
	free(host);
	/* a[] is IPv4-mapped for IPv4: 127.0.0.0/8 (also written as
	 * [::ffff:127.x.y.z]), or ::1. */
	(void)v6;
	if ((memcmp(a, v4_mapped, 12) == 0 && a[12] == 127) ||
	    memcmp(a, v6_loopback, 16) == 0)
		return;
	conf__warn(cx, 0, 0,
	    "metrics \"%s\" is not a loopback address: whoever can reach it "
	    "sees which rules clients hit and how often; bind it to "
	    "127.0.0.1 or [::1], or filter the port",
	    c->metrics);
}

/* Sort references and report each one equal to an earlier one. */
static void
conf_validate_dups(struct conf_ctx *cx, struct wrapd_conf *c,
    struct conf_ref *v, size_t n, bool listen)
{
	qsort(v, n, sizeof *v, conf_validate_ref_cmp);
	for (size_t i = 1; i < n && !cx->full; i++) {
		size_t first = i - 1;
		while (first > 0 && strcmp(v[first - 1].key, v[i].key) == 0 &&
		    v[first - 1].port == v[i].port)
			first--;
		if (strcmp(v[first].key, v[i].key) != 0 ||
		    v[first].port != v[i].port)
			continue;
		const struct conf_service *a = &c->services[v[first].svc];
		const struct conf_service *b = &c->services[v[i].svc];
		if (!listen) {
			conf__err(cx, b->line, b->col,
			    "duplicate service name \"%s\" (first at line %u)",
			    b->name, a->line);
			continue;
		}
		const struct conf_listen *l = &b->listen[v[i].idx];
		const struct conf_listen *f = &a->listen[v[first].idx];
		if (f->line != 0)
			conf__err(cx, l->line, l->col,
			    "listen address \"%s\" is already used by service "
			    "\"%s\" (line %u, column %u)",
			    l->text, a->name ? a->name : "?", f->line, f->col);
		else
			conf__err(cx, l->line, l->col,
			    "listen address \"%s\" is already used by service "
			    "\"%s\"",
			    l->text, a->name ? a->name : "?");
	}
}

int
conf_validate(struct wrapd_conf *c, struct conf_errs *errs)
{
	struct conf_errs local = {0};
	struct conf_ctx cx = {0};
	cx.errs = errs != NULL ? errs : &local;
	cx.file = c->path;
	cx.conf = c;
	size_t before = cx.errs->n;
	size_t nl = 0, stdin_svc = SIZE_MAX;

	if (c->warnings != NULL) /* validated again: say each once */
		conf_errs_free(c->warnings);

	if (c->nservices == 0)
		conf__err(&cx, 0, 0, "no services defined");
	/* The file's value is checked where it is written; this is for the
	 * command line's --control. */
	const char *why;
	if (c->control != NULL &&
	    (why = conf__check_control(c->control, strlen(c->control))) != NULL)
		conf__err(&cx, 0, 0, "control \"%s\": %s", c->control, why);
	conf_validate_metrics(&cx, c);
	for (size_t i = 0; i < c->nservices; i++) {
		struct conf_service *s = &c->services[i];
		conf_validate_check_service(&cx, s);
		nl += s->nlisten;
		for (size_t j = 0; j < s->nlisten; j++) {
			if (s->listen[j].kind != CONF_LISTEN_STDIN)
				continue;
			if (stdin_svc == SIZE_MAX)
				stdin_svc = i;
			else if (stdin_svc != i)
				conf__err(&cx, s->listen[j].line,
				    s->listen[j].col,
				    "service \"%s\": only one service can "
				    "listen on stdin (service \"%s\" does)",
				    s->name ? s->name : "?",
				    c->services[stdin_svc].name
				        ? c->services[stdin_svc].name
				        : "?");
		}
	}

	struct conf_ref *v = calloc(c->nservices + nl + 1, sizeof *v);
	if (v == NULL)
		abort();
	size_t n = 0;
	for (size_t i = 0; i < c->nservices; i++)
		if (c->services[i].name != NULL)
			v[n++] = (struct conf_ref){
			    .key = c->services[i].name, .svc = i};
	conf_validate_dups(&cx, c, v, n, false);
	n = 0;
	for (size_t i = 0; i < c->nservices; i++) {
		const struct conf_service *s = &c->services[i];
		for (size_t j = 0; j < s->nlisten; j++)
			if (s->listen[j].kind == CONF_LISTEN_ADDR &&
			    s->listen[j].host != NULL)
				v[n++] =
				    (struct conf_ref){.key = s->listen[j].host,
				        .port = s->listen[j].port,
				        .svc = i,
				        .idx = j};
	}
	conf_validate_dups(&cx, c, v, n, true);
	free(v);
	if (cx.errs->n == before)
		conf__resolve_accounts(&cx, c);

	int rc = cx.errs->n == before ? 0 : -1;
	conf_errs_free(&local);
	return rc;
}
