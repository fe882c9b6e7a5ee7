/*
 * accept_proxy.c - a service behind a load balancer (accept_proxy_from):
 * read the PROXY header its peer puts first, asynchronously on the loop,
 * before the decision stage; then the connection is decided, logged and
 * passed on as the client the header names.
 *
 * Fail closed: only a peer inside accept_proxy_from is read at all, and
 * every connection of the service must start with a valid header.  A
 * peer outside the list, a header that is missing, malformed, longer than
 * PROXY_HEADER_MAX, LOCAL (no client), or not complete within
 * timeouts.proxy_header, is refused: reset, logged as a deny with the
 * reason, and never shown to the backend.  The header's bytes are taken
 * off the socket exactly (peeked, then consumed up to the header's last
 * byte), so what follows it reaches the backend untouched.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "accept_proxy.h"
#include "admit.h"
#include "conn.h"
#include "decide.h"
#include "log.h"
#include "proxy_header.h"
#include "snapshot.h"
#include "source.h"
#include "worker.h"

/* The bytes of a header not complete yet (all of them header bytes). */
struct accept_proxy {
	size_t have;
	uint8_t buf[PROXY_HEADER_MAX];
};

static void
accept_proxy_refuse(struct conn *c, const char *reason, const char *why)
{
	char a[64];

	acl_addr_format(&c->client.a, a, sizeof(a));
	log_warnx("conn=%llu service=%s peer %s: %s: refused",
	    (unsigned long long)c->id, conn_svc(c)->conf->name, a, why);
	c->decided = true;
	c->verdict = ACL_DENY;
	c->rule = NULL;
	conn_abort(c, reason);
}

/* The header is read: the connection is now the client it names. */
static void
accept_proxy_done(struct conn *c, const struct proxy_header *h)
{
	const struct snap_svc *sv = conn_svc(c);
	struct conn_addr balancer;
	char peer[64], cl[64];

	uv_poll_stop(&c->side[0]);
	free(c->proxy_in);
	c->proxy_in = NULL;
	if (h->local) {
		accept_proxy_refuse(c, "proxy-local",
		    "PROXY header without a client address (v2 LOCAL, v1 "
		    "UNKNOWN)");
		return;
	}
	acl_addr_format(&c->client.a, peer, sizeof(peer));
	acl_addr_format(&h->src, cl, sizeof(cl));
	log_debug("conn=%llu PROXY v%d header from %s: client %s port %u",
	    (unsigned long long)c->id, h->version, peer, cl,
	    (unsigned)h->sport);
	/*
	 * From here the connection is the client the header names: bans,
	 * rates and per-source counts are its own (admit.c); the balancer's
	 * count, taken at accept, is given back.
	 */
	balancer = c->client;
	memset(&c->client, 0, sizeof(c->client));
	c->client.a = h->src;
	c->client.port = h->sport;
	if (!admit_client(c)) {
		c->client = balancer; /* what conn_close gives back */
		accept_proxy_refuse(c, "per-source",
		    "the client the header names is banned or over a "
		    "per_source limit");
		return;
	}
	source_counts_put(sv->st->sources, &balancer.a);
	memset(&c->server, 0, sizeof(c->server));
	c->server.a = h->dst;
	c->server.port = h->dport;
	conn_set_state(c, CONN_DECIDING);
	decide_start(c);
}

/*
 * Look at what has arrived: 1 when the stage is over (done or refused),
 * 0 to wait for more.
 */
static int
accept_proxy_read(struct conn *c)
{
	struct accept_proxy *ap = c->proxy_in;
	struct proxy_header h;
	const char *why;
	ssize_t n, k;
	int rc;

	do
		n = recv(c->fd[0], ap->buf + ap->have,
		    sizeof(ap->buf) - ap->have, MSG_PEEK | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	if (n < 0) {
		accept_proxy_refuse(c, "client-reset", strerror(errno));
		return 1;
	}
	if (n == 0) {
		accept_proxy_refuse(c, "proxy-header-missing",
		    "connection ended before a PROXY header");
		return 1;
	}
	rc = proxy_header_parse(ap->buf, ap->have + (size_t)n, &h, &why);
	if (rc < 0) {
		accept_proxy_refuse(c, "proxy-header-bad", why);
		return 1;
	}
	/* Consume the header's bytes only: all of them if not complete. */
	k = rc > 0 ? (ssize_t)((size_t)rc - ap->have) : n;
	do
		n = recv(c->fd[0], ap->buf + ap->have, (size_t)k, MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n != k) {
		accept_proxy_refuse(
		    c, "client-read-error", "peeked bytes could not be read");
		return 1;
	}
	ap->have += (size_t)n;
	if (rc == 0)
		return 0;
	accept_proxy_done(c, &h);
	return 1;
}

static void
accept_proxy_cb(uv_poll_t *hd, int status, int events)
{
	struct conn *c = hd->data;

	(void)events;
	if (status < 0) {
		accept_proxy_refuse(c, "client-reset", uv_strerror(status));
		return;
	}
	(void)accept_proxy_read(c);
}

void
accept_proxy_start(struct conn *c)
{
	const struct conf_service *cs = conn_svc(c)->conf;

	if (!conf_daemons_cidr_contains(cs->proxy_from, cs->nproxy_from,
	        c->client.a.family, c->client.a.bytes)) {
		accept_proxy_refuse(
		    c, "proxy-untrusted", "not in accept_proxy_from");
		return;
	}
	if ((c->proxy_in = calloc(1, sizeof(*c->proxy_in))) == NULL) {
		accept_proxy_refuse(c, "out-of-memory", "no memory");
		return;
	}
	c->deadline_ms = uv_now(&c->w->loop) + cs->proxy_header_timeout_ms;
	conn_set_state(c, CONN_HEADER);
	if (accept_proxy_read(c))
		return;
	uv_poll_start(&c->side[0], UV_READABLE, accept_proxy_cb);
}

void
accept_proxy_sweep(struct conn *c, uint64_t now)
{
	if (now >= c->deadline_ms)
		accept_proxy_refuse(c, "proxy-header-timeout",
		    "no complete PROXY header within timeouts.proxy_header");
}
