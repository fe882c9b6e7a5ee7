/*
 * worker.h - a worker thread: one libuv loop serving connections.
 *
 * Each worker owns its loop, its listeners (accept.c), its connections
 * (conn.c) and their per-loop resources: the pipe pool (relay.c), the
 * sockets waiting to be reset (closer.c) and the actions' share
 * (action_loop.c).  It sweeps its connections for timeouts every
 * WORKER_SWEEP_MS, and takes orders from the control loop as message bits.
 */
#ifndef WRAPD_WORKER_H
#define WRAPD_WORKER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "action_loop.h"
#include "closer.h"
#include "relay.h"

#define WORKER_SWEEP_MS 500

struct accept_listener;
struct conn;
struct server;
struct snapshot;
struct svc_state;

/* Messages to a worker (bits in worker->msg). */
enum worker_msg {
	WORKER_MSG_SNAPSHOT = 1u << 0, /* pick up srv->snap */
	WORKER_MSG_STOP = 1u << 1,     /* stop accepting, drain, exit */
	WORKER_MSG_FORCE = 1u << 2,    /* close every connection now */
	WORKER_MSG_RESUME = 1u << 3,   /* a service dropped below its limit */
	WORKER_MSG_STATUS = 1u << 4,   /* report the connections (status.c) */
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
	struct accept_listener **ls; /* accept.c */
	size_t nls;
	struct conn_list conns;
	struct relay_pool pool;
	struct closer closer;       /* sockets waiting to be reset */
	struct action_loop actions; /* this loop's commands and jobs */
	uint64_t nopipe_logged_ms;  /* relay.c: last "no pipe" warning */
	bool stopping;
	bool closed;
	bool started;
	bool gone; /* async handle closed: no more messages (msg_lock) */
};

int worker_init(struct server *srv, struct worker *w, unsigned idx);
/* The thread's body (uv_thread_create). */
void worker_main(void *arg);
/* Set message bits and wake the worker (any thread); false when it has
 * finished and takes no more. */
bool worker_send(struct worker *w, unsigned msg);
/* conn.c: a connection of the service with state st has closed. */
void worker_conn_closed(struct worker *w, struct svc_state *st);

#endif /* WRAPD_WORKER_H */
