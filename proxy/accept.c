/*
 * accept.c - a worker's listening sockets: poll, accept, pause, resume.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "accept.h"
#include "conn.h"
#include "listener.h"
#include "log.h"
#include "server.h"
#include "snapshot.h"
#include "worker.h"

static void accept_cb(uv_poll_t *h, int status, int events);

static void
accept_closed(uv_handle_t *h)
{
	struct accept_listener *wl = h->data;

	listener_unref(wl->ls);
	free(wl);
}

static void
accept_start(struct accept_listener *wl)
{
	if (wl->polling || wl->closing)
		return;
	if (uv_poll_start(&wl->poll, UV_READABLE, accept_cb) == 0)
		wl->polling = true;
}

/* The listener stops polling for `why` (metrics.h): counted. */
static void
accept_count_pause(struct accept_listener *wl, enum metrics_pause why)
{
	const struct svc_state *st = wl->w->snap->svc[wl->svc].st;
	struct metrics_svc_slot *s = metrics_svc_slot(&st->metrics, wl->w->idx);

	metrics_count(&s->pauses[why], 1);
}

static void
accept_stop(struct accept_listener *wl)
{
	if (!wl->polling)
		return;
	uv_poll_stop(&wl->poll);
	wl->polling = false;
}

/* At the service's limit: stop polling until a connection closes. */
static void
accept_pause(struct accept_listener *wl)
{
	accept_stop(wl);
	if (!wl->paused) {
		wl->paused = true;
		accept_count_pause(wl, METRICS_PAUSE_MAX_CONNECTIONS);
		atomic_fetch_add(&wl->w->snap->svc[wl->svc].st->waiters, 1);
	}
}

void
accept_resume(struct worker *w, uint64_t now)
{
	size_t i;

	if (w->stopping)
		return;
	for (i = 0; i < w->nls; i++) {
		struct accept_listener *wl = w->ls[i];
		const struct snap_svc *sv = &w->snap->svc[wl->svc];

		if (wl->paused &&
		    atomic_load(&sv->st->active) < sv->conf->max_connections) {
			wl->paused = false;
			atomic_fetch_sub(&sv->st->waiters, 1);
			accept_start(wl);
		}
		if (!wl->paused && !wl->polling && wl->backoff_until <= now)
			accept_start(wl);
	}
}

static void
accept_cb(uv_poll_t *h, int status, int events)
{
	struct accept_listener *wl = h->data;
	struct worker *w = wl->w;
	const struct snap_svc *sv = &w->snap->svc[wl->svc];
	struct sockaddr_storage peer;
	socklen_t plen;
	int i, fd;

	(void)events;
	if (status < 0) {
		/*
		 * libuv stopped the handle (POLLERR).  Poll again after the
		 * back-off, as when out of descriptors: a listener must not
		 * go deaf for good on one error.
		 */
		log_warnx("listen %s: %s (polling again in %d ms)",
		    wl->ls->text, uv_strerror(status), ACCEPT_BACKOFF_MS);
		wl->polling = false;
		wl->backoff_until = uv_now(&w->loop) + ACCEPT_BACKOFF_MS;
		accept_count_pause(wl, METRICS_PAUSE_POLL_ERROR);
		return;
	}
	for (i = 0; i < ACCEPT_BATCH; i++) {
		if (atomic_load(&sv->st->active) >= sv->conf->max_connections) {
			/* The kernel's backlog holds the rest meanwhile. */
			accept_pause(wl);
			return;
		}
		plen = sizeof(peer);
		fd = accept4(wl->fd, (struct sockaddr *)&peer, &plen,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			switch (errno) {
			case EAGAIN:
				return;
			case EINTR:
			case ECONNABORTED:
			case EPROTO:
			case EPERM:
				continue;
			case EINVAL:
				/* listener_shutdown(): this socket is done. */
				accept_stop(wl);
				return;
			case EMFILE:
			case ENFILE:
			case ENOBUFS:
			case ENOMEM:
				log_warn("listen %s: accept (deferring "
				         "connections for %d ms)",
				    wl->ls->text, ACCEPT_BACKOFF_MS);
				accept_stop(wl);
				wl->backoff_until =
				    uv_now(&w->loop) + ACCEPT_BACKOFF_MS;
				accept_count_pause(wl, METRICS_PAUSE_EMFILE);
				return;
			default:
				log_warn("listen %s: accept", wl->ls->text);
				return;
			}
		}
		conn_accept(
		    w, (uint32_t)wl->svc, fd, (struct sockaddr *)&peer, plen);
	}
}

/* A connected inherited socket: serve that one connection. */
static void
accept_connected(struct worker *w, const struct snap_bind *b)
{
	struct sockaddr_storage peer;
	socklen_t plen = sizeof(peer);
	int fd = b->ls->fds[0];

	if (w->srv->connected_taken)
		return;
	w->srv->connected_taken = true;
	if (getpeername(fd, (struct sockaddr *)&peer, &plen) < 0) {
		log_warn("%s: getpeername", b->ls->text);
		memset(&peer, 0, sizeof(peer));
		peer.ss_family = AF_UNSPEC;
	}
	/* The conn closes fd; the lsock must not close it again. */
	b->ls->owned = false;
	conn_accept(w, (uint32_t)b->svc, fd, (struct sockaddr *)&peer, plen);
}

/* A listener of w for bind b, or NULL (logged). */
static struct accept_listener *
accept_open(struct worker *w, const struct snap_bind *b)
{
	struct accept_listener *l;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return NULL;
	l->w = w;
	l->ls = listener_ref(b->ls);
	l->fd = b->ls->fds[b->ls->nfds > 1 ? w->idx : 0];
	l->svc = b->svc;
	if (uv_poll_init(&w->loop, &l->poll, l->fd) != 0) {
		log_errx("listen %s: cannot poll", b->ls->text);
		listener_unref(l->ls);
		free(l);
		return NULL;
	}
	l->poll.data = l;
	return l;
}

/* Lift a pause: it counts in the old snapshot's service state. */
static void
accept_unpause(struct accept_listener *l)
{
	if (l->paused)
		atomic_fetch_sub(&l->w->snap->svc[l->svc].st->waiters, 1);
	l->paused = false;
}

static void
accept_close(struct accept_listener *l)
{
	accept_unpause(l);
	l->closing = true;
	uv_close((uv_handle_t *)&l->poll, accept_closed);
}

int
accept_apply(struct worker *w, struct snapshot *snap)
{
	struct accept_listener **nls;
	size_t i, j;

	nls = calloc(snap->nbind ? snap->nbind : 1, sizeof(*nls));
	if (nls == NULL)
		return -1;
	for (j = 0; j < w->nls; j++)
		accept_unpause(w->ls[j]);
	for (i = 0; i < snap->nbind; i++) {
		const struct snap_bind *b = &snap->bind[i];

		if (b->ls->connected) {
			if (w->idx == 0 && !w->stopping) {
				struct snapshot *old = w->snap;

				w->snap = snap; /* conn_accept refs w->snap */
				accept_connected(w, b);
				w->snap = old;
			}
			continue;
		}
		for (j = 0; j < w->nls; j++)
			if (w->ls[j] != NULL && w->ls[j]->ls == b->ls)
				break;
		if (j < w->nls) {
			nls[i] = w->ls[j];
			w->ls[j] = NULL;
			nls[i]->svc = b->svc;
			continue;
		}
		nls[i] = accept_open(w, b);
	}
	/* Listeners the new snapshot dropped. */
	for (j = 0; j < w->nls; j++)
		if (w->ls[j] != NULL)
			accept_close(w->ls[j]);
	free(w->ls);
	/* Compact: connected binds and failures left holes. */
	for (i = j = 0; i < snap->nbind; i++)
		if (nls[i] != NULL)
			nls[j++] = nls[i];
	w->ls = nls;
	w->nls = j;
	return 0;
}

void
accept_start_all(struct worker *w)
{
	size_t i;

	for (i = 0; i < w->nls; i++)
		accept_start(w->ls[i]);
}

void
accept_close_all(struct worker *w)
{
	size_t i;

	for (i = 0; i < w->nls; i++)
		accept_close(w->ls[i]);
	free(w->ls);
	w->ls = NULL;
	w->nls = 0;
}
