/*
 * conn.c - the connection object: accept, state, the facts as the rules
 * see them, delivery, timeouts, and the one way out (conn_close).  Each
 * stage lives in its own file; conn.h has the map.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "accept_proxy.h"
#include "action_conn.h"
#include "action_plan.h"
#include "admit.h"
#include "conn.h"
#include "decide.h"
#include "deliver.h"
#include "ftp.h"
#include "geoip.h"
#include "log.h"
#include "relay.h"
#include "server.h"
#include "snapshot.h"
#include "source.h"
#include "worker.h"

static const char *const conn_state_names[] = {
    "deciding",
    "connecting",
    "relaying",
    "exec",
    "closing",
    "header",
};

int
conn_fd(const struct conn *c, int side)
{
	return c->fd[side];
}

const char *
conn_state_name(enum conn_state st)
{
	return (size_t)st <
	        sizeof(conn_state_names) / sizeof(conn_state_names[0])
	    ? conn_state_names[st]
	    : "?";
}

void
conn_set_state(struct conn *c, enum conn_state st)
{
	if (log_enabled(LOG_DEBUG))
		log_debug("conn=%llu state %s -> %s", (unsigned long long)c->id,
		    conn_state_names[c->state], conn_state_names[st]);
	c->state = (uint8_t)st;
}

void
conn_addr_set(struct conn_addr *ca, const struct sockaddr *sa)
{
	memset(ca, 0, sizeof(*ca));
	(void)acl_addr_from_sockaddr(&ca->a, sa);
	ca->port = (uint16_t)acl_sockaddr_port(sa);
	if (sa->sa_family == AF_INET6)
		ca->scope = ((const struct sockaddr_in6 *)sa)->sin6_scope_id;
}


void
conn_request(const struct conn *c, struct acl_request *r)
{
	const struct conf_service *cs = conn_svc(c)->conf;

	acl_request_init(r);
	r->daemon = cs->daemon != NULL ? cs->daemon : cs->name;
	r->client.addr = c->client.a;
	r->client.port = c->client.a.family == AF_UNSPEC ? -1 : c->client.port;
	r->client.name = c->client_name;
	r->server.addr = c->server.a;
	r->server.port = c->server.a.family == AF_UNSPEC ? -1 : c->server.port;
	r->server.name = c->server_name;
	r->user = c->user;
	r->pid = log_pid(); /* cached: %p needs it per evaluation */
	/* Only for rules with country= / asn=: a look-up in memory. */
	geoip_fill(&c->snap->geoip, c->snap->rules, r);
}

/* ------------------------------------------------------------------ */
/* Close. */

static void
conn_free(struct conn *c)
{
	snapshot_unref(c->snap);
	free(c->client_name);
	free(c->server_name);
	free(c->user);
	action_plan_env_free(c->action_env);
	free(c->proxy_in);
	free(c);
}

static void
conn_handle_closed(uv_handle_t *h)
{
	struct conn *c = h->data;

	if (h == (uv_handle_t *)&c->side[0] ||
	    h == (uv_handle_t *)&c->side[1]) {
		int s = h == (uv_handle_t *)&c->side[0] ? 0 : 1;

		if (c->fd[s] >= 0 && c->abort && c->state == CONN_CLOSING)
			closer_reset(&c->w->closer, c->fd[s]);
		else if (c->fd[s] >= 0)
			closer_fin(&c->w->closer, c->fd[s]);
		c->fd[s] = -1;
	} else
		free(h); /* the process handle */
	if (--c->pending_closes == 0 && c->state == CONN_CLOSING)
		conn_free(c);
}

void
conn_close_side(struct conn *c, int s)
{
	if (s == 0 ? !c->client_open : !c->backend_open)
		return;
	if (s == 0)
		c->client_open = false;
	else
		c->backend_open = false;
	c->pending_closes++;
	uv_close((uv_handle_t *)&c->side[s], conn_handle_closed);
}

static void
conn_unlink(struct conn *c)
{
	struct worker *w = c->w;

	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		w->conns.head = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	c->next = c->prev = NULL;
	w->conns.n--;
}

void
conn_close(struct conn *c, const char *reason)
{
	struct worker *w = c->w;
	const struct snap_svc *sv = conn_svc(c);

	if (c->state == CONN_CLOSING)
		return;
	c->reason = reason;
	conn_set_state(c, CONN_CLOSING);
	action_conn_closing(c);
	decide_cancel(c);
	conn_metrics_count(c);
	conn_log(c);
	relay_release(c);
	ftp_release(c);
	conn_close_side(c, 0);
	conn_close_side(c, 1);
	if (c->proc != NULL && !uv_is_closing((uv_handle_t *)c->proc)) {
		c->pending_closes++;
		uv_close((uv_handle_t *)c->proc, conn_handle_closed);
	}
	conn_unlink(c);
	if (c->counted) {
		source_counts_put(sv->st->sources, &c->client.a);
		worker_conn_closed(w, sv->st);
	}
	c->counted = false;
	/* The snapshot reference goes with the struct, in conn_free(). */
	if (c->pending_closes == 0)
		conn_free(c);
}

void
conn_abort(struct conn *c, const char *reason)
{
	if (c->state == CONN_CLOSING)
		return;
	c->abort = true;
	conn_close(c, reason);
}

/* ------------------------------------------------------------------ */
/* Accept. */

void
conn_accept(struct worker *w, uint32_t svc, int fd, const struct sockaddr *peer,
    socklen_t peerlen)
{
	struct sockaddr_storage local;
	socklen_t llen = sizeof(local);
	struct conn *c;
	int one = 1;

	(void)peerlen;
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_warnx("out of memory: connection dropped");
		closer_reset(&w->closer, fd); /* cut, not ended: no FIN */
		return;
	}
	c->w = w;
	c->snap = snapshot_ref(w->snap);
	c->svc = svc;
	conn_addr_set(&c->client, peer);
	if (!admit_accept(c)) {
		/* Banned, or over a per-source limit (admit.c): refused before
		 * anything is spent on it; logged in summary by the sweep. */
		closer_reset(&w->closer, fd);
		snapshot_unref(c->snap);
		free(c);
		return;
	}
	c->id = server_next_id(w->srv);
	c->start_ms = c->last_ms = uv_now(&w->loop);
	c->fd[0] = fd;
	c->fd[1] = -1;
	c->dir[0].prd = c->dir[0].pwr = -1;
	c->dir[1].prd = c->dir[1].pwr = -1;
	c->reason = "-";
	if (getsockname(fd, (struct sockaddr *)&local, &llen) == 0)
		conn_addr_set(&c->server, (struct sockaddr *)&local);
	else
		c->server.a.family = AF_UNSPEC;
	/* A relay must not add Nagle delays to what it forwards. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

	if (uv_poll_init(&w->loop, &c->side[0], fd) != 0) {
		log_warnx("conn=%llu: cannot poll socket; dropped",
		    (unsigned long long)c->id);
		source_counts_put(conn_svc(c)->st->sources, &c->client.a);
		closer_reset(&w->closer, fd);
		snapshot_unref(c->snap);
		free(c);
		return;
	}
	c->side[0].data = c;
	c->side[1].data = c;
	c->client_open = true;
	c->counted = true;
	atomic_fetch_add(&conn_svc(c)->st->active, 1);
	c->next = w->conns.head;
	if (c->next != NULL)
		c->next->prev = c;
	w->conns.head = c;
	w->conns.n++;
	if (conn_svc(c)->conf->nproxy_from > 0) {
		accept_proxy_start(c); /* then decide_start() */
		return;
	}
	conn_set_state(c, CONN_DECIDING);
	decide_start(c);
}

/* Granted: hand the connection to the service's backend. */
void
conn_deliver(struct conn *c)
{
	const struct conf_service *cs = conn_svc(c)->conf;

	if (cs->backend_kind == CONF_BACKEND_EXEC)
		deliver_exec(c);
	else
		deliver_backend_connect(c);
}

void
conn_backend_connected(struct conn *c)
{
	conn_set_state(c, CONN_RELAYING);
	if (ftp_wanted(c) && ftp_start(c) < 0) {
		conn_abort(c, "out-of-memory");
		return;
	}
	relay_start(c);
}

/* ------------------------------------------------------------------ */
/* Timeouts. */

void
conn_sweep(struct worker *w, uint64_t now)
{
	struct conn *c, *next;
	const struct conf_service *cs;

	for (c = w->conns.head; c != NULL; c = next) {
		next = c->next;
		cs = conn_svc(c)->conf;
		if (c->ftp != NULL)
			ftp_sweep(c, now);
		switch (c->state) {
		case CONN_HEADER:
			accept_proxy_sweep(c, now);
			break;
		case CONN_DECIDING:
			/*
			 * Look-ups end themselves at the deadline; this is a
			 * backstop so a lost callback cannot pin a client.
			 */
			if (c->lookup != CONN_LOOKUP_NONE &&
			    now >= c->deadline_ms + 5000)
				conn_abort(c, "lookup-timeout");
			break;
		case CONN_CONNECTING:
			if (now >= c->deadline_ms)
				conn_abort(c, "connect-timeout");
			else if (!c->backend_open)
				deliver_backend_connect(
				    c); /* had no descriptor */
			break;
		case CONN_RELAYING:
			if (cs->idle_timeout_ms == 0)
				break;
			/* Quiet for a while: did the kernel move bytes? */
			if (now - c->last_ms >= cs->idle_timeout_ms / 2 &&
			    relay_peers_moved(c))
				c->last_ms = now;
			if (now - c->last_ms >= cs->idle_timeout_ms)
				conn_abort(c, "idle-timeout");
			break;
		default:
			break;
		}
	}
}
