/*
 * server.h - the runtime's control side: one control loop on the main
 * thread (start-up, signals, reload, drain) over the worker threads
 * (worker.h) that serve the connections.
 *
 * Threads share nothing mutable but atomics and the published snapshot
 * pointer (under srv->lock).  The control thread talks to a worker through
 * the worker's message bits and its uv_async_t (server_broadcast); a
 * worker answers through srv->done (it has drained) and srv->single_done.
 */
#ifndef WRAPD_SERVER_H
#define WRAPD_SERVER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "action_limit.h"
#include "conf.h"
#include "listener.h"
#include "snapshot.h"

#ifndef WRAPD_VERSION
#define WRAPD_VERSION "0.1.0"
#endif

struct conn;
struct control;
struct metrics;
struct metrics_server;
struct server;
struct status;
struct worker;

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
	uv_mutex_t msg_lock;   /* serialises uv_async_send with worker exit */
	struct snapshot *snap; /* published snapshot, under lock */
	struct action_limit *limit; /* actions.*: the one limiter */
	uint64_t gen;
	struct worker *workers;
	unsigned nworkers;
	struct inherited_fd *sd;
	int nsd;
	struct lsock **sd_ls;
	struct lsock *stdin_ls;
	bool single; /* serving one inherited connection, then exit */
	bool connected_taken;
	atomic_uint single_done;
	unsigned conf_workers; /* `workers` as started (not reloadable) */
	bool stopping;
	int exit_code;
	atomic_uint nrunning; /* workers not yet finished */
	atomic_uint_fast64_t next_id;
	struct control *control; /* control socket and SIGUSR1 (control.h) */
	struct status *status;   /* status.h: set before the workers start */
	struct metrics *metrics; /* the counters (metrics.h) */
	struct metrics_server *metrics_server; /* the endpoint, or NULL */
};

int server_run(struct server_opts *o);

/* A new connection id, unique in the process. */
uint64_t server_next_id(struct server *srv);
/* Send message bits (enum worker_msg) to every started worker. */
void server_broadcast(struct server *srv, unsigned msg);

#endif /* WRAPD_SERVER_H */
