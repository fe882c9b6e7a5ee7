/*
 * worker.c - a worker thread's loop: messages, the sweep, start and finish.
 */
#include <stdlib.h>
#include <string.h>

#include "accept.h"
#include "admit.h"
#include "conn.h"
#include "log.h"
#include "server.h"
#include "snapshot.h"
#include "status.h"
#include "worker.h"

static void worker_finish(struct worker *w);

bool
worker_send(struct worker *w, unsigned msg)
{
	bool sent;

	uv_mutex_lock(&w->srv->msg_lock);
	if ((sent = !w->gone)) {
		atomic_fetch_or(&w->msg, msg);
		uv_async_send(&w->async);
	}
	uv_mutex_unlock(&w->srv->msg_lock);
	return sent;
}

static void
worker_apply_snapshot(struct worker *w)
{
	struct snapshot *snap;

	uv_mutex_lock(&w->srv->lock);
	snap = snapshot_ref(w->srv->snap);
	uv_mutex_unlock(&w->srv->lock);
	if (snap == w->snap || accept_apply(w, snap) < 0) {
		if (snap != w->snap)
			log_errx("worker %u: out of memory applying a reload",
			    w->idx);
		snapshot_unref(snap);
		return;
	}
	snapshot_unref(w->snap);
	w->snap = snap;
	if (!w->stopping)
		accept_start_all(w);
}

void
worker_conn_closed(struct worker *w, struct svc_state *st)
{
	atomic_fetch_sub(&st->active, 1);
	/* Some worker paused a listener at the limit: let them look. */
	if (atomic_load(&st->waiters) > 0)
		server_broadcast(w->srv, WORKER_MSG_RESUME);
	if (w->srv->single) {
		atomic_store(&w->srv->single_done, 1);
		uv_async_send(&w->srv->done);
	}
	if (w->stopping && w->conns.n == 0)
		worker_finish(w);
}

static void
worker_finish(struct worker *w)
{
	if (w->closed)
		return;
	w->closed = true;
	accept_close_all(w);
	uv_mutex_lock(&w->srv->msg_lock);
	w->gone = true;
	uv_mutex_unlock(&w->srv->msg_lock);
	uv_close((uv_handle_t *)&w->async, NULL);
	uv_close((uv_handle_t *)&w->sweep, NULL);
	closer_close(&w->closer);
	action_loop_close(&w->actions); /* running commands are let go */
	/* uv_run() returns once the last handle is closed. */
}

static void
worker_force(struct worker *w)
{
	while (w->conns.head != NULL)
		conn_abort(w->conns.head, "shutdown");
}

static void
worker_async_cb(uv_async_t *h)
{
	struct worker *w = h->data;
	unsigned msg = atomic_exchange(&w->msg, 0);

	if (w->closed)
		return;
	if (msg & WORKER_MSG_SNAPSHOT)
		worker_apply_snapshot(w);
	if (msg & WORKER_MSG_STOP) {
		w->stopping = true;
		accept_close_all(w);
	}
	if (msg & WORKER_MSG_FORCE)
		worker_force(w);
	if (msg & WORKER_MSG_RESUME)
		accept_resume(w, uv_now(&w->loop));
	if (msg & WORKER_MSG_STATUS)
		status_worker_report(w);
	if (w->stopping && w->conns.n == 0)
		worker_finish(w);
}

/* Connections refused over per_source: one line per service and sweep. */
static void
worker_log_refusals(struct worker *w)
{
	char last[80];
	uint64_t n;
	size_t i;

	for (i = 0; w->snap != NULL && i < w->snap->nsvc; i++) {
		const struct snap_svc *sv = &w->snap->svc[i];

		n = source_counts_refusals(sv->st->sources, last, sizeof(last));
		if (n > 0)
			log_warnx(
			    "service %s: refused %llu connection(s) over "
			    "per_source.connections (%u), the last from %s",
			    sv->conf->name, (unsigned long long)n,
			    sv->conf->per_source_connections, last);
	}
}

static void
worker_sweep_cb(uv_timer_t *t)
{
	struct worker *w = t->data;
	uint64_t now = uv_now(&w->loop);

	conn_sweep(w, now);
	worker_log_refusals(w);
	admit_sweep(w); /* rate and ban refusals, bans ended, evictions */
	if (!w->closed)
		accept_resume(w, now);
}

static void
worker_walk_cb(uv_handle_t *h, void *arg)
{
	(void)arg;
	log_warnx("  open handle: %s%s", uv_handle_type_name(h->type),
	    uv_is_closing(h) ? " (closing)" : "");
}

void
worker_main(void *arg)
{
	struct worker *w = arg;
	struct server *srv = w->srv;

	/*
	 * Everything a worker owns (listener polls, connections, the
	 * per-loop state of look-ups and actions) is created on its own
	 * thread, starting here.
	 */
	worker_apply_snapshot(w);
	if (w->stopping && w->conns.n == 0)
		worker_finish(w);
	uv_run(&w->loop, UV_RUN_DEFAULT);
	snapshot_unref(w->snap);
	w->snap = NULL;
	relay_pool_free(&w->pool);
	if (uv_loop_close(&w->loop) != 0) {
		log_warnx("worker %u: loop closed with handles open", w->idx);
		uv_walk(&w->loop, worker_walk_cb, NULL);
	}
	atomic_fetch_sub(&srv->nrunning, 1);
	uv_async_send(&srv->done);
}

int
worker_init(struct server *srv, struct worker *w, unsigned idx)
{
	w->srv = srv;
	w->idx = idx;
	atomic_init(&w->msg, 0);
	relay_pool_init(&w->pool);
	if (uv_loop_init(&w->loop) != 0)
		return -1;
	if (uv_async_init(&w->loop, &w->async, worker_async_cb) != 0) {
		uv_loop_close(&w->loop);
		return -1;
	}
	w->async.data = w;
	closer_init(&w->closer, &w->loop);
	action_loop_init(&w->actions, &w->loop, srv->limit);
	w->actions.metrics = srv->metrics;
	w->actions.worker = idx;
	uv_timer_init(&w->loop, &w->sweep);
	w->sweep.data = w;
	uv_timer_start(
	    &w->sweep, worker_sweep_cb, WORKER_SWEEP_MS, WORKER_SWEEP_MS);
	/* The loop keeps no reference on the sweep: it alone must not keep
	 * a finished worker alive. */
	uv_unref((uv_handle_t *)&w->sweep);
	return 0;
}
