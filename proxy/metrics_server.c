/*
 * metrics_server.c - the Prometheus endpoint on the control loop
 * (metrics_server.h): bind, accept, read a request head, answer, close.
 *
 * A scraper's life: accepted into a free slot of clients[] (with none
 * free, onto a bare handle that is reset at once); its request head read
 * into req[] and
 * parsed as it grows (metrics_http.c); the answer written whole, then
 * shutdown (FIN) and the rest read and dropped until the client's EOF;
 * all within METRICS_SERVER_CLIENT_MS, or it is reset.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "admit.h"
#include "conf.h"
#include "log.h"
#include "metrics.h"
#include "metrics_http.h"
#include "metrics_server.h"
#include "server.h"

#define METRICS_SERVER_LOG_EVERY_MS 1000 /* resets past the bound */
#define METRICS_SERVER_TYPE         "text/plain; version=0.0.4; charset=utf-8"

struct metrics_server;

/* A listening socket; a reload may close one while opening another. */
struct metrics_listener {
	uv_tcp_t tcp;
	struct metrics_server *ms;
};

struct metrics_client {
	struct metrics_server *ms;
	size_t slot; /* in ms->clients */
	uv_tcp_t tcp;
	uv_timer_t timer;
	uv_write_t wr;
	uv_shutdown_t sd;
	char req[METRICS_HTTP_HEAD_MAX];
	size_t len;
	size_t drained; /* bytes dropped after the answer */
	char head[256]; /* the answer's status line and fields */
	struct control_buf body;
	int open_handles;
	bool answered; /* the answer is written or being written */
	bool shut;     /* and shut down: FIN sent */
	bool closing;
};

struct metrics_server {
	struct server *srv;
	struct metrics_listener *listener; /* NULL: none */
	char *spec;                        /* its address, as configured */
	struct metrics_client *clients[METRICS_SERVER_CLIENTS_MAX];
	size_t nclients;
	uint64_t refused_log_ms;
	int open_handles;
	bool closed;
};

/* Bytes read after the answer go here: nobody looks at them. */
static char metrics_server_sink[4096];

/* ------------------------------------------------------------------ */
/* Binding. */

int
metrics_server_bind(const char *spec)
{
	struct sockaddr_storage ss;
	struct conf_listen l;
	char *err = NULL;
	int fd, one = 1, rc;

	memset(&ss, 0, sizeof(ss));
	if (conf_parse_listen(spec, &l, &err) != 0) {
		free(err);
		return -EINVAL; /* conf__check_metrics refuses it first */
	}
	rc = l.kind != CONF_LISTEN_ADDR ? UV_EINVAL
	    : strchr(l.host, ':') != NULL
	    ? uv_ip6_addr(l.host, l.port, (struct sockaddr_in6 *)&ss)
	    : uv_ip4_addr(l.host, l.port, (struct sockaddr_in *)&ss);
	free(l.text);
	free(l.host);
	if (rc != 0)
		return -EINVAL;
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -errno;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss,
	        ss.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
	                                 : sizeof(struct sockaddr_in)) < 0 ||
	    listen(fd, METRICS_SERVER_BACKLOG) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

/* Do two specs name the same address?  (NULL is none.) */
static bool
metrics_server_same(const char *a, const char *b)
{
	struct conf_listen x, y;
	bool same;

	if (a == NULL || b == NULL)
		return a == b;
	if (conf_parse_listen(a, &x, NULL) != 0)
		return false;
	if (conf_parse_listen(b, &y, NULL) != 0) {
		free(x.text);
		free(x.host);
		return false;
	}
	same = x.port == y.port && x.host != NULL && y.host != NULL &&
	    strcmp(x.host, y.host) == 0;
	free(x.text);
	free(x.host);
	free(y.text);
	free(y.host);
	return same;
}

/* ------------------------------------------------------------------ */
/* The server's lifetime. */

/* The last handle of ms has closed, after metrics_server_close(): free. */
static void
metrics_server_free_if_done(struct metrics_server *ms)
{
	if (!ms->closed || ms->open_handles > 0 || ms->nclients > 0)
		return;
	free(ms->spec);
	free(ms);
}

static void
metrics_server_listener_closed(uv_handle_t *h)
{
	struct metrics_listener *l = h->data;
	struct metrics_server *ms = l->ms;

	free(l);
	ms->open_handles--;
	metrics_server_free_if_done(ms);
}

static void
metrics_server_listener_close(struct metrics_listener *l)
{
	if (l != NULL)
		uv_close(
		    (uv_handle_t *)&l->tcp, metrics_server_listener_closed);
}

/* ------------------------------------------------------------------ */
/* Scrapers. */

static void
metrics_server_client_closed(uv_handle_t *h)
{
	struct metrics_client *cl = h->data;
	struct metrics_server *ms = cl->ms;

	if (--cl->open_handles > 0)
		return;
	ms->clients[cl->slot] = NULL;
	ms->nclients--;
	control_proto_buf_free(&cl->body);
	free(cl);
	metrics_server_free_if_done(ms);
}

/*
 * Close the scraper: reset unless its answer is out and shut down (a
 * reset then could only cut what it has not read yet).
 */
static void
metrics_server_client_close(struct metrics_client *cl, bool reset)
{
	if (cl->closing)
		return;
	cl->closing = true;
	uv_read_stop((uv_stream_t *)&cl->tcp);
	if (!reset ||
	    uv_tcp_close_reset(&cl->tcp, metrics_server_client_closed) != 0)
		uv_close((uv_handle_t *)&cl->tcp, metrics_server_client_closed);
	uv_close((uv_handle_t *)&cl->timer, metrics_server_client_closed);
}

static void
metrics_server_client_timeout(uv_timer_t *t)
{
	struct metrics_client *cl = t->data;

	metrics_server_client_close(cl, !cl->shut);
}

static void
metrics_server_client_shut(uv_shutdown_t *sd, int status)
{
	struct metrics_client *cl = sd->data;

	if (status < 0) {
		metrics_server_client_close(cl, true);
		return;
	}
	cl->shut = true; /* now the client's EOF (or the deadline) closes */
}

static void
metrics_server_client_written(uv_write_t *wr, int status)
{
	struct metrics_client *cl = wr->data;

	if (cl->closing)
		return;
	cl->sd.data = cl;
	if (status < 0 ||
	    uv_shutdown(&cl->sd, (uv_stream_t *)&cl->tcp,
	        metrics_server_client_shut) != 0)
		metrics_server_client_close(cl, true);
}

/* The counters, read now, as text into out. */
static void
metrics_server_scrape(struct server *srv, struct control_buf *out)
{
	const struct snapshot *snap = srv->snap;
	struct metrics_rule_count *rules;
	struct metrics_svc_view *v;
	struct metrics_totals t;
	struct metrics_scrape s;
	struct admit_stats as;
	size_t i;

	rules = calloc(METRICS_RULES_MAX, sizeof(*rules));
	v = calloc(snap->nsvc ? snap->nsvc : 1, sizeof(*v));
	if (rules == NULL || v == NULL) {
		out->failed = true;
		goto out;
	}
	for (i = 0; i < snap->nsvc; i++) {
		const struct svc_state *st = snap->svc[i].st;

		v[i].name = snap->svc[i].conf->name;
		v[i].active =
		    atomic_load_explicit(&st->active, memory_order_relaxed);
		metrics_svc_read(&st->metrics, &v[i].t);
		admit_stats(st->admit, &as);
		v[i].refused[METRICS_REFUSED_PER_SOURCE] =
		    as.refused_connections;
		v[i].refused[METRICS_REFUSED_RATE] = as.refused_rate;
		v[i].refused[METRICS_REFUSED_BANNED] = as.ban.refused;
	}
	metrics_read(srv->metrics, &t);
	s.version = WRAPD_VERSION;
	s.totals = &t;
	s.rules = rules;
	s.nrules = metrics_rules_read(srv->metrics, rules, METRICS_RULES_MAX);
	s.svcs = v;
	s.nsvcs = snap->nsvc;
	metrics_render(&s, out);
out:
	free(rules);
	free(v);
}

static const char *
metrics_server_reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 431:
		return "Request Header Fields Too Large";
	default:
		return "Internal Server Error";
	}
}

/* Answer the request r: all of it in one write, then shut down. */
static void
metrics_server_client_answer(
    struct metrics_client *cl, const struct metrics_http_req *r)
{
	int status = r->status;
	uv_buf_t buf[2];
	unsigned n = 1;

	cl->answered = true;
	if (status == 200) {
		metrics_server_scrape(cl->ms->srv, &cl->body);
		if (cl->body.failed) {
			log_warnx("metrics: out of memory for a scrape");
			control_proto_buf_free(&cl->body);
			cl->body.failed = false;
			status = 500;
		}
	}
	if (status != 200) {
		control_proto_buf_add(&cl->body,
		    r->why != NULL ? r->why : "out of memory",
		    strlen(r->why != NULL ? r->why : "out of memory"));
		control_proto_buf_add(&cl->body, "\n", 1);
	}
	snprintf(cl->head, sizeof(cl->head),
	    "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
	    "%sConnection: close\r\n\r\n",
	    status, metrics_server_reason(status),
	    status == 200 ? METRICS_SERVER_TYPE : "text/plain; charset=utf-8",
	    cl->body.len, status == 405 ? "Allow: GET, HEAD\r\n" : "");
	buf[0] = uv_buf_init(cl->head, (unsigned)strlen(cl->head));
	if (!r->head && cl->body.len > 0)
		buf[n++] = uv_buf_init(cl->body.p, (unsigned)cl->body.len);
	cl->wr.data = cl;
	if (uv_write(&cl->wr, (uv_stream_t *)&cl->tcp, buf, n,
	        metrics_server_client_written) != 0)
		metrics_server_client_close(cl, true);
}

static void
metrics_server_client_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct metrics_client *cl = h->data;

	(void)hint;
	if (cl->answered)
		*buf = uv_buf_init(
		    metrics_server_sink, sizeof(metrics_server_sink));
	else
		*buf = uv_buf_init(
		    cl->req + cl->len, (unsigned)(sizeof(cl->req) - cl->len));
}

static void
metrics_server_client_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct metrics_client *cl = s->data;
	struct metrics_http_req r;

	(void)buf;
	if (nread == 0 || cl->closing)
		return;
	if (nread < 0) {
		/* The end: after the answer, the close it waited for; before
		 * it, a client gone without asking. */
		metrics_server_client_close(
		    cl, nread != UV_EOF || (cl->answered && !cl->shut));
		return;
	}
	if (cl->answered) {
		cl->drained += (size_t)nread;
		if (cl->drained > METRICS_SERVER_DRAIN_MAX)
			metrics_server_client_close(cl, true);
		return;
	}
	cl->len += (size_t)nread;
	if (metrics_http_parse(cl->req, cl->len, &r) == 1)
		metrics_server_client_answer(cl, &r);
}

static void
metrics_server_refused_closed(uv_handle_t *h)
{
	free(h);
}

/*
 * No slot free (or no memory for a scraper): take the connection onto a
 * bare handle and reset it at once, saying so at most once a second.
 */
static void
metrics_server_refuse(struct metrics_server *ms, uv_stream_t *l)
{
	uv_tcp_t *h = malloc(sizeof(*h));
	uint64_t now = uv_now(ms->srv->loop);

	if (ms->refused_log_ms == 0 ||
	    now >= ms->refused_log_ms + METRICS_SERVER_LOG_EVERY_MS) {
		ms->refused_log_ms = now;
		log_warnx("metrics %s: %zu scrapers at once already; reset one",
		    ms->spec, ms->nclients);
	}
	if (h == NULL)
		return; /* the listener waits for uv_accept(): out of memory */
	uv_tcp_init(ms->srv->loop, h);
	if (uv_accept(l, (uv_stream_t *)h) != 0 ||
	    uv_tcp_close_reset(h, metrics_server_refused_closed) != 0)
		uv_close((uv_handle_t *)h, metrics_server_refused_closed);
}

static void
metrics_server_connection(uv_stream_t *l, int status)
{
	struct metrics_server *ms = ((struct metrics_listener *)l->data)->ms;
	struct metrics_client *cl;
	size_t i;

	if (status < 0)
		return;
	for (i = 0; i < METRICS_SERVER_CLIENTS_MAX && ms->clients[i] != NULL;
	     i++)
		;
	if (i == METRICS_SERVER_CLIENTS_MAX ||
	    (cl = calloc(1, sizeof(*cl))) == NULL) {
		metrics_server_refuse(ms, l);
		return;
	}
	cl->ms = ms;
	cl->slot = i;
	uv_tcp_init(ms->srv->loop, &cl->tcp);
	uv_timer_init(ms->srv->loop, &cl->timer);
	cl->tcp.data = cl->timer.data = cl;
	cl->open_handles = 2;
	ms->clients[i] = cl;
	ms->nclients++;
	if (uv_accept(l, (uv_stream_t *)&cl->tcp) != 0) {
		metrics_server_client_close(cl, false);
		return;
	}
	uv_timer_start(&cl->timer, metrics_server_client_timeout,
	    METRICS_SERVER_CLIENT_MS, 0);
	if (uv_read_start((uv_stream_t *)&cl->tcp, metrics_server_client_alloc,
	        metrics_server_client_read) != 0)
		metrics_server_client_close(cl, true);
}

/* ------------------------------------------------------------------ */

/* Serve the bound fd: a new listener, or NULL (logged; fd closed). */
static struct metrics_listener *
metrics_server_listen(struct metrics_server *ms, int fd, const char *spec)
{
	struct metrics_listener *l = calloc(1, sizeof(*l));
	int rc;

	if (l == NULL) {
		close(fd);
		log_errx("metrics %s: out of memory", spec);
		return NULL;
	}
	l->ms = ms;
	uv_tcp_init(ms->srv->loop, &l->tcp);
	l->tcp.data = l;
	ms->open_handles++;
	if ((rc = uv_tcp_open(&l->tcp, fd)) != 0 ||
	    (rc = uv_listen((uv_stream_t *)&l->tcp, METRICS_SERVER_BACKLOG,
	         metrics_server_connection)) != 0) {
		if (uv_fileno((uv_handle_t *)&l->tcp, &(uv_os_fd_t){0}) != 0)
			close(fd); /* not taken over by the handle */
		log_errx("metrics %s: cannot serve: %s", spec, uv_strerror(rc));
		metrics_server_listener_close(l);
		return NULL;
	}
	log_info("metrics on %s (GET /metrics)", spec);
	return l;
}

int
metrics_server_start(struct server *srv, int fd, const char *spec)
{
	struct metrics_server *ms = calloc(1, sizeof(*ms));

	if (ms == NULL || (spec != NULL && (ms->spec = strdup(spec)) == NULL)) {
		free(ms);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	ms->srv = srv;
	srv->metrics_server = ms;
	if (fd >= 0 &&
	    (ms->listener = metrics_server_listen(ms, fd, spec)) == NULL) {
		free(ms->spec);
		ms->spec = NULL;
	}
	return 0;
}

void
metrics_server_reload(struct server *srv, const char *spec)
{
	struct metrics_server *ms = srv->metrics_server;
	struct metrics_listener *l = NULL;
	char *copy = NULL;
	int fd;

	if (ms == NULL || metrics_server_same(spec, ms->spec))
		return; /* unchanged: the same socket */
	if (spec != NULL) {
		if ((fd = metrics_server_bind(spec)) < 0) {
			log_errx("reload: metrics %s: cannot listen: %s; %s%s",
			    spec, strerror(-fd),
			    ms->spec != NULL ? "still serving " : "none served",
			    ms->spec != NULL ? ms->spec : "");
			return;
		}
		if ((copy = strdup(spec)) == NULL ||
		    (l = metrics_server_listen(ms, fd, spec)) == NULL) {
			if (copy == NULL)
				close(fd);
			free(copy);
			return;
		}
	} else
		log_info("reload: metrics no longer served");
	metrics_server_listener_close(ms->listener);
	free(ms->spec);
	ms->listener = l;
	ms->spec = copy;
}

void
metrics_server_close(struct server *srv)
{
	struct metrics_server *ms = srv->metrics_server;
	size_t i;

	if (ms == NULL)
		return;
	srv->metrics_server = NULL;
	ms->closed = true;
	for (i = 0; i < METRICS_SERVER_CLIENTS_MAX; i++)
		if (ms->clients[i] != NULL)
			metrics_server_client_close(
			    ms->clients[i], !ms->clients[i]->shut);
	metrics_server_listener_close(ms->listener);
	ms->listener = NULL;
	metrics_server_free_if_done(ms);
}
