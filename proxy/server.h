/*
 * server.h - the runtime: one control loop (signals, reload, drain) on the
 * main thread, and one worker thread per event loop serving connections.
 *
 * Threads share nothing mutable but atomics and the published snapshot
 * pointer (under srv->lock).  The control thread talks to a worker through
 * the worker's message bits and its uv_async_t; a worker answers through
 * srv->done (it has drained) and srv->single_done.
 */
#ifndef WRAPD_SERVER_H
#define WRAPD_SERVER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "action_limit.h"
#include "action_loop.h"
#include "closer.h"
#include "conf.h"
#include "listener.h"
#include "relay.h"
#include "snapshot.h"

#ifndef WRAPD_VERSION
#define WRAPD_VERSION "0.1.0"
#endif

struct conn;
struct server;
struct worker;

/* A listening socket polled by one worker. */
struct wlistener {
	uv_poll_t poll;
	struct worker *w;
	struct lsock *ls; /* a reference */
	int fd;
	size_t svc;       /* index into w->snap->svc */
	bool polling;
	bool paused;      /* at max_connections: counted in st->waiters */
	bool closing;
	uint64_t backoff_until; /* out of fds: poll again after this */
};

/* Messages to a worker (bits in worker->msg). */
enum worker_msg {
	WORKER_MSG_SNAPSHOT = 1u << 0, /* pick up srv->snap */
	WORKER_MSG_STOP = 1u << 1,     /* stop accepting, drain, exit */
	WORKER_MSG_FORCE = 1u << 2,    /* close every connection now */
	WORKER_MSG_RESUME = 1u << 3,   /* a service dropped below its limit */
};

struct conn_list {
	struct conn *head;
	size_t n;
};

struct worker {
	struct server *srv;
	unsigned idx;
	uv_loop_t loop;
	uv_thread_t thread;
	uv_async_t async;
	uv_timer_t sweep; /* coarse timeouts: connect, idle; resumes */
	atomic_uint msg;
	struct snapshot *snap; /* current snapshot, as this worker sees it */
	struct wlistener **ls;
	size_t nls;
	struct conn_list conns;
	struct relay_pool pool;
	struct closer closer;      /* sockets waiting to be reset */
	struct action_loop actions; /* this loop's commands and jobs */
	uint64_t nopipe_logged_ms; /* relay.c: last "no pipe" warning */
	bool stopping;
	bool closed;
	bool started;
	bool gone; /* async handle closed: no more messages (msg_lock) */
};

/*
 * Build the configuration (file or command line), printing or logging every
 * error; NULL on error.  Called at startup and for each reload.
 */
typedef struct wrapd_conf *server_conf_fn(void *arg, bool reload);

struct server_opts {
	const char *config_path; /* NULL: quick mode */
	server_conf_fn *make_conf;
	void *make_arg;
	unsigned workers_override; /* --workers; 0 = conf */
	uint64_t drain_ms;
	bool verbose;
	/*
	 * The effective user that started wrapd: besides root, the only
	 * owner trusted for the configuration and rule files (conf_trust.h),
	 * also once privileges are dropped.
	 */
	uid_t owner;
};

struct server {
	struct server_opts opts;
	uv_loop_t *loop; /* the control loop (main thread) */
	uv_signal_t sighup, sigterm, sigint;
	uv_timer_t drain_timer;
	uv_async_t done;
	uv_mutex_t lock;
	uv_mutex_t msg_lock; /* serialises uv_async_send with worker exit */
	struct snapshot *snap; /* published snapshot, under lock */
	struct action_limit *limit; /* actions.*: the one limiter */
	uint64_t gen;
	struct worker *workers;
	unsigned nworkers;
	struct inherited_fd *sd;
	int nsd;
	struct lsock **sd_ls;
	struct lsock *stdin_ls;
	bool single;       /* serving one inherited connection, then exit */
	bool connected_taken;
	atomic_uint single_done;
	unsigned conf_workers; /* `workers` as started (not reloadable) */
	bool stopping;
	int exit_code;
	atomic_uint nrunning; /* workers not yet finished */
	atomic_uint_fast64_t next_id;
};

int server_run(struct server_opts *o);

/* Worker side, for conn.c. */
void worker_conn_closed(struct worker *w, size_t svc_idx,
    struct svc_state *st);
uint64_t server_next_id(struct server *srv);

#endif /* WRAPD_SERVER_H */
