/*
 * accept.h - the first stage of a connection: a worker polls its listening
 * sockets and accepts in batches.
 *
 * Each worker polls its own SO_REUSEPORT socket of every bound listener
 * (inherited sockets are polled by every worker; a non-blocking accept that
 * loses the race just sees EAGAIN).  At a service's max_connections the
 * listener pauses until a connection of the service ends (the kernel's
 * backlog holds the rest); out of descriptors, or after a poll error, it
 * backs off for ACCEPT_BACKOFF_MS and tries again.
 */
#ifndef WRAPD_ACCEPT_H
#define WRAPD_ACCEPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define ACCEPT_BATCH      64   /* accepts per readable event */
#define ACCEPT_BACKOFF_MS 1000 /* pause when out of fds or after an error */

struct lsock;
struct snapshot;
struct worker;

/* A listening socket polled by one worker. */
struct accept_listener {
	uv_poll_t poll;
	struct worker *w;
	struct lsock *ls; /* a reference */
	int fd;
	size_t svc; /* index into w->snap->svc */
	bool polling;
	bool paused; /* at max_connections: counted in st->waiters */
	bool closing;
	uint64_t backoff_until; /* poll again after this (loop time) */
};

/*
 * The worker takes snapshot snap: keep the listeners it still binds, open
 * the new ones, close the dropped ones, and (worker 0) serve an inherited
 * connected socket.  Listeners are not started (accept_start_all).
 * Returns -1 when out of memory (the worker keeps its listeners).
 */
int accept_apply(struct worker *w, struct snapshot *snap);
void accept_start_all(struct worker *w);
/* Stop polling and close every listener of the worker (stop, finish). */
void accept_close_all(struct worker *w);
/* Resume paused listeners below their limit, and backed-off ones. */
void accept_resume(struct worker *w, uint64_t now);

#endif /* WRAPD_ACCEPT_H */
