/*
 * status.c - the records of `wrapd status` and `wrapd bans` (status.h).
 *
 * A status round: the control loop asks every running worker
 * (WORKER_MSG_STATUS); each lists its connections into its own part, under
 * st->mu, and wakes the control loop (st->async); when all have answered,
 * or at STATUS_WAIT_MS, the control loop writes the records and calls back
 * every request that waited for this round.  One round at a time: a
 * request that comes during a round waits for it.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "admit.h"
#include "conn.h"
#include "server.h"
#include "snapshot.h"
#include "status.h"
#include "timewin.h"
#include "worker.h"

#define STATUS_WAITERS_MAX 16
#define STATUS_NSTATES     (CONN_CLOSING + 1)

struct status_waiter {
	status_done_fn *done;
	void *arg;
};

/* One worker's answer in the current round. */
struct status_part {
	struct control_buf conns; /* its "conn" records */
	uint64_t states[STATUS_NSTATES];
	uint64_t total;
	bool answered;
};

struct status {
	struct server *srv;
	uv_async_t async;          /* a worker answered */
	uv_timer_t timer;          /* STATUS_WAIT_MS */
	uv_mutex_t mu;             /* parts, answered, collecting */
	struct status_part *parts; /* srv->nworkers */
	unsigned expected, answered;
	bool collecting;
	struct status_waiter waiters[STATUS_WAITERS_MAX];
	size_t nwaiters;
	uint64_t start_ms;
	int open_handles;
};

static void status_async_cb(uv_async_t *h);

struct status *
status_new(struct server *srv)
{
	struct status *st = calloc(1, sizeof(*st));

	if (st == NULL)
		return NULL;
	st->parts =
	    calloc(srv->nworkers ? srv->nworkers : 1, sizeof(*st->parts));
	if (st->parts == NULL) {
		free(st);
		return NULL;
	}
	st->srv = srv;
	uv_mutex_init(&st->mu);
	uv_async_init(srv->loop, &st->async, status_async_cb);
	uv_timer_init(srv->loop, &st->timer);
	st->async.data = st->timer.data = st;
	st->open_handles = 2;
	st->start_ms = uv_now(srv->loop);
	return st;
}

static void
status_parts_clear(struct status *st)
{
	unsigned i;

	for (i = 0; i < st->srv->nworkers; i++) {
		control_proto_buf_free(&st->parts[i].conns);
		memset(&st->parts[i], 0, sizeof(st->parts[i]));
	}
}

static void
status_closed(uv_handle_t *h)
{
	struct status *st = h->data;

	if (--st->open_handles > 0)
		return;
	status_parts_clear(st);
	uv_mutex_destroy(&st->mu);
	free(st->parts);
	free(st);
}

void
status_close(struct status *st)
{
	if (st == NULL)
		return;
	st->nwaiters = 0;
	uv_close((uv_handle_t *)&st->async, status_closed);
	uv_close((uv_handle_t *)&st->timer, status_closed);
}

/* ------------------------------------------------------------------ */
/* The worker's part (on its own thread). */

static void
status_conn_record(struct control_buf *b, const struct conn *c, uint64_t now)
{
	char client[80];

	conn_log_addr(&c->client, client, sizeof(client));
	control_proto_buf_record(b, "conn");
	control_proto_buf_u64(b, "id", c->id);
	control_proto_buf_str(b, "service", conn_svc(c)->conf->name);
	control_proto_buf_str(b, "client", client);
	control_proto_buf_str(
	    b, "state", conn_state_name((enum conn_state)c->state));
	control_proto_buf_u64(b, "age_ms", now - c->start_ms);
	control_proto_buf_u64(b, "in", c->dir[0].bytes);
	control_proto_buf_u64(b, "out", c->dir[1].bytes);
	control_proto_buf_end(b);
}

void
status_worker_report(struct worker *w)
{
	struct status *st = w->srv->status;
	struct status_part part;
	const struct conn *c;
	uint64_t now = uv_now(&w->loop);

	memset(&part, 0, sizeof(part));
	for (c = w->conns.head; c != NULL; c = c->next) {
		if (c->state < STATUS_NSTATES)
			part.states[c->state]++;
		if (++part.total <= STATUS_CONNS_MAX)
			status_conn_record(&part.conns, c, now);
	}
	part.answered = true;
	uv_mutex_lock(&st->mu);
	if (st->collecting && !st->parts[w->idx].answered) {
		st->parts[w->idx] = part;
		st->answered++;
		memset(&part, 0, sizeof(part));
	}
	uv_mutex_unlock(&st->mu);
	control_proto_buf_free(&part.conns); /* a late answer: dropped */
	uv_async_send(&st->async);
}

/* ------------------------------------------------------------------ */
/* The records (control loop). */

static void
status_rate(struct control_buf *b, const struct conf_service *cs)
{
	char r[32];

	if (cs->per_source_rate_count == 0)
		snprintf(r, sizeof(r), "-");
	else
		snprintf(r, sizeof(r), "%u/%us", cs->per_source_rate_count,
		    cs->per_source_rate_secs);
	control_proto_buf_str(b, "per_source_rate", r);
}

static void
status_service(struct control_buf *b, const struct snap_svc *sv)
{
	const struct conf_service *cs = sv->conf;
	struct admit_stats as;

	admit_stats(sv->st->admit, &as);
	control_proto_buf_record(b, "service");
	control_proto_buf_str(b, "name", cs->name);
	control_proto_buf_str(
	    b, "daemon", cs->daemon != NULL ? cs->daemon : cs->name);
	control_proto_buf_u64(b, "active", atomic_load(&sv->st->active));
	control_proto_buf_u64(b, "max_connections", cs->max_connections);
	control_proto_buf_u64(
	    b, "sources", source_counts_sources(sv->st->sources));
	control_proto_buf_u64(
	    b, "per_source_connections", cs->per_source_connections);
	status_rate(b, cs);
	control_proto_buf_str(b, "access_times",
	    cs->naccess_times == 0     ? "always"
	        : timewin_open_now(cs) ? "open"
	                               : "closed");
	control_proto_buf_u64(b, "refused_connections", as.refused_connections);
	control_proto_buf_u64(b, "refused_rate", as.refused_rate);
	control_proto_buf_u64(b, "refused_banned", as.ban.refused);
	control_proto_buf_u64(b, "ban_after", cs->ban.after);
	control_proto_buf_u64(b, "denials", as.ban.denials);
	control_proto_buf_u64(b, "banned", as.ban.banned);
	control_proto_buf_u64(b, "tracked", as.ban.tracked);
	control_proto_buf_u64(b, "bans_set", as.ban.set);
	control_proto_buf_u64(b, "bans_expired", as.ban.expired);
	control_proto_buf_u64(b, "bans_evicted", as.ban.evicted_bans);
	control_proto_buf_u64(b, "tracks_evicted", as.ban.evicted_tracks);
	control_proto_buf_end(b);
}

static void
status_header(struct status *st, struct control_buf *b, uint64_t now)
{
	const struct server *srv = st->srv;
	const struct snapshot *snap = srv->snap;
	size_t i;

	control_proto_buf_record(b, "wrapd");
	control_proto_buf_str(b, "version", WRAPD_VERSION);
	control_proto_buf_u64(b, "pid", (uint64_t)getpid());
	control_proto_buf_u64(b, "uptime_ms", now - st->start_ms);
	control_proto_buf_u64(b, "generation", snap->gen);
	control_proto_buf_u64(b, "workers", srv->nworkers);
	control_proto_buf_str(b, "config",
	    srv->opts.config_path != NULL ? srv->opts.config_path : "-");
	control_proto_buf_u64(b, "stopping", srv->stopping ? 1 : 0);
	control_proto_buf_end(b);
	for (i = 0; i < snap->nsvc; i++)
		status_service(b, &snap->svc[i]);
	for (i = 0; i < snap->nbind; i++) {
		control_proto_buf_record(b, "listener");
		control_proto_buf_str(
		    b, "service", snap->svc[snap->bind[i].svc].conf->name);
		control_proto_buf_str(b, "listen", snap->bind[i].ls->text);
		control_proto_buf_end(b);
	}
}

/* The workers' connections: at most STATUS_CONNS_MAX listed, all counted. */
static void
status_conns(struct status *st, struct control_buf *b,
    struct status_part *parts, unsigned unanswered)
{
	uint64_t states[STATUS_NSTATES] = {0}, total = 0, listed = 0;
	unsigned i, s;
	const char *p, *nl;

	for (i = 0; i < st->srv->nworkers; i++) {
		total += parts[i].total;
		for (s = 0; s < STATUS_NSTATES; s++)
			states[s] += parts[i].states[s];
		for (p = parts[i].conns.p; p != NULL && *p != '\0';
		     p = nl + 1) {
			if ((nl = strchr(p, '\n')) == NULL ||
			    listed == STATUS_CONNS_MAX)
				break;
			control_proto_buf_add(b, p, (size_t)(nl - p) + 1);
			listed++;
		}
	}
	control_proto_buf_record(b, "conns");
	control_proto_buf_u64(b, "total", total);
	control_proto_buf_u64(b, "listed", listed);
	for (s = 0; s < STATUS_NSTATES; s++)
		control_proto_buf_u64(
		    b, conn_state_name((enum conn_state)s), states[s]);
	control_proto_buf_u64(b, "unanswered_workers", unanswered);
	control_proto_buf_end(b);
}

static void
status_finish(struct status *st)
{
	struct status_waiter w[STATUS_WAITERS_MAX];
	struct status_part *parts;
	struct control_buf out = {0};
	unsigned unanswered, i;
	size_t n;
	uint64_t now;

	uv_timer_stop(&st->timer);
	parts =
	    calloc(st->srv->nworkers ? st->srv->nworkers : 1, sizeof(*parts));
	uv_mutex_lock(&st->mu);
	st->collecting = false;
	unanswered = st->expected - st->answered;
	if (parts != NULL)
		for (i = 0; i < st->srv->nworkers; i++) {
			parts[i] = st->parts[i];
			memset(&st->parts[i], 0, sizeof(st->parts[i]));
		}
	uv_mutex_unlock(&st->mu);
	uv_update_time(st->srv->loop);
	now = uv_now(st->srv->loop);
	status_header(st, &out, now);
	if (parts != NULL)
		status_conns(st, &out, parts, unanswered);
	else
		out.failed = true;
	n = st->nwaiters;
	memcpy(w, st->waiters, n * sizeof(w[0]));
	st->nwaiters = 0;
	for (i = 0; i < n; i++)
		w[i].done(w[i].arg, &out);
	for (i = 0; parts != NULL && i < st->srv->nworkers; i++)
		control_proto_buf_free(&parts[i].conns);
	free(parts);
	control_proto_buf_free(&out);
}

static void
status_async_cb(uv_async_t *h)
{
	struct status *st = h->data;
	bool done;

	uv_mutex_lock(&st->mu);
	done = st->collecting && st->answered >= st->expected;
	uv_mutex_unlock(&st->mu);
	if (done)
		status_finish(st);
}

static void
status_timer_cb(uv_timer_t *t)
{
	struct status *st = t->data;

	if (st->collecting)
		status_finish(st);
}

int
status_request(struct status *st, status_done_fn *done, void *arg)
{
	struct server *srv = st->srv;
	unsigned i, n = 0;

	if (st->nwaiters == STATUS_WAITERS_MAX)
		return -1;
	st->waiters[st->nwaiters].done = done;
	st->waiters[st->nwaiters].arg = arg;
	st->nwaiters++;
	if (st->collecting)
		return 0;
	uv_mutex_lock(&st->mu);
	status_parts_clear(st);
	st->collecting = true;
	st->answered = 0;
	st->expected = 0;
	uv_mutex_unlock(&st->mu);
	/* Workers answer on their own threads; this one counts them. */
	for (i = 0; i < srv->nworkers; i++)
		if (srv->workers[i].started &&
		    worker_send(&srv->workers[i], WORKER_MSG_STATUS))
			n++;
	uv_mutex_lock(&st->mu);
	st->expected = n;
	uv_mutex_unlock(&st->mu);
	uv_async_send(&st->async); /* no worker left: answer all the same */
	uv_timer_start(&st->timer, status_timer_cb, STATUS_WAIT_MS, 0);
	return 0;
}

void
status_cancel(struct status *st, void *arg)
{
	size_t i;

	for (i = 0; i < st->nwaiters; i++)
		if (st->waiters[i].arg == arg) {
			st->waiters[i] = st->waiters[--st->nwaiters];
			return;
		}
}

/* ------------------------------------------------------------------ */
/* Bans. */

struct status_bans {
	struct control_buf *out;
	const char *service;
	uint64_t now_ms;
	time_t wall;
	uint64_t total, listed;
};

static void
status_ban_record(void *arg, const struct ban_event *ev)
{
	struct status_bans *sb = arg;
	char src[80];
	uint64_t left =
	    ev->until_ms > sb->now_ms ? ev->until_ms - sb->now_ms : 0;
	uint64_t age = sb->now_ms > ev->set_ms ? sb->now_ms - ev->set_ms : 0;

	if (sb->total++ >= STATUS_BANS_MAX)
		return;
	sb->listed++;
	source_key_format(&ev->key, src, sizeof(src));
	control_proto_buf_record(sb->out, "ban");
	control_proto_buf_str(sb->out, "service", sb->service);
	control_proto_buf_str(sb->out, "source", src);
	control_proto_buf_u64(sb->out, "remaining_ms", left);
	control_proto_buf_i64(sb->out, "expires",
	    (int64_t)sb->wall + (int64_t)((left + 999) / 1000));
	control_proto_buf_i64(
	    sb->out, "set", (int64_t)sb->wall - (int64_t)(age / 1000));
	control_proto_buf_u64(sb->out, "denials", ev->denials);
	control_proto_buf_u64(sb->out, "refused", ev->refused);
	control_proto_buf_end(sb->out);
}

void
status_bans(struct server *srv, struct control_buf *out)
{
	struct status_bans sb;
	size_t i;

	memset(&sb, 0, sizeof(sb));
	sb.out = out;
	uv_update_time(srv->loop);
	sb.now_ms = uv_now(srv->loop);
	sb.wall = time(NULL);
	for (i = 0; i < srv->snap->nsvc; i++) {
		const struct snap_svc *sv = &srv->snap->svc[i];

		sb.service = sv->conf->name;
		ban_list(admit_bans(sv->st->admit), sb.now_ms,
		    status_ban_record, &sb);
	}
	control_proto_buf_record(out, "bans");
	control_proto_buf_u64(out, "total", sb.total);
	control_proto_buf_u64(out, "listed", sb.listed);
	control_proto_buf_end(out);
}
