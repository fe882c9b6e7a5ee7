/*
 * status.h - what `wrapd status`, `wrapd bans` and SIGUSR1 report, as
 * records of the control protocol (control_proto.h).
 *
 * Services, listeners, counters and bans are read on the control loop
 * (the snapshot it published; the counters are atomics or locked).  The
 * connections belong to the worker threads, so each worker lists its own
 * when asked (WORKER_MSG_STATUS) and the control loop puts the answers
 * together: a status request is answered once every worker has, or after
 * STATUS_WAIT_MS (the record "conns" says how many did not answer).
 */
#ifndef WRAPD_STATUS_H
#define WRAPD_STATUS_H

#include "control_proto.h"

#define STATUS_WAIT_MS   2000
#define STATUS_CONNS_MAX 1000  /* connections listed; all are counted */
#define STATUS_BANS_MAX  50000 /* bans listed; all are counted */

struct server;
struct status;
struct worker;

/* On the control loop, before the workers start.  NULL: no memory. */
struct status *status_new(struct server *srv);
/* Close its handles; waiting requests are dropped (not called back). */
void status_close(struct status *st);

/* A status is ready: out holds its records (no framing). */
typedef void status_done_fn(void *arg, const struct control_buf *out);
/*
 * Ask for the status; done(arg, ...) runs on the control loop when it is
 * ready (never from within this call).  -1: too many requests waiting.
 */
int status_request(struct status *st, status_done_fn *done, void *arg);
/* Forget a request (its client went away). */
void status_cancel(struct status *st, void *arg);

/* The bans of every service, now (control loop). */
void status_bans(struct server *srv, struct control_buf *out);

/* worker.c, on WORKER_MSG_STATUS: list this worker's connections. */
void status_worker_report(struct worker *w);

#endif /* WRAPD_STATUS_H */
