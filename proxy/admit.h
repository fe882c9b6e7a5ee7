/*
 * admit.h - the first thing done with an accepted connection: may its
 * source be served at all?  Per service, in this order:
 *
 *   ban                     a source banned (ban.h) is refused;
 *   per_source.rate         a source over its rate of new connections is
 *                           refused (a GCRA per source: action_limit.h);
 *   per_source.connections  a source with that many open is refused
 *                           (source.h).
 *
 * A refused connection is reset before anything is spent on it: no
 * look-up, no action, no log line of its own; refusals are counted and
 * logged in summary by the workers' sweep.  A refusal over a limit, and a
 * deny by the rules, is a denial for the ban (admit_denied); nothing here
 * ever refuses a source for another's doing, or the service as a whole.
 *
 * The state lives with the service state (snapshot.h), so bans, rates and
 * counts survive a reload; it is shared by every worker thread.
 */
#ifndef WRAPD_ADMIT_H
#define WRAPD_ADMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "ban.h"

struct conn;
struct worker;
struct admit_state;

struct admit_state *admit_state_new(void);
void admit_state_free(struct admit_state *as);

/*
 * A new connection (c->snap, c->svc and c->client set): true when it may
 * go on, counted in its source's connections (source_counts_put() gives
 * them back at close); false when it must be reset now.
 */
bool admit_accept(struct conn *c);
/*
 * The same checks for c->client alone: at accept, or for the client a
 * load balancer's PROXY header names (accept_proxy.c).
 */
bool admit_client(struct conn *c);
/*
 * The connection was denied (action_conn.c), reason the action stage's
 * (NULL: the verdict itself).  A deny by a rule counts for the ban; one
 * that wrapd made for its own reasons (a look-up that did not answer,
 * access_times, a failed aclexec, a table error) does not.
 */
void admit_denied(struct conn *c, const char *reason);
/* The worker's sweep: summaries of refusals, bans ended, evictions. */
void admit_sweep(struct worker *w);

/* What `wrapd status` shows of a service. */
struct admit_stats {
	uint64_t refused_connections; /* over per_source.connections */
	uint64_t refused_rate;        /* over per_source.rate */
	struct ban_stats ban;         /* ban.refused: refused while banned */
};
void admit_stats(struct admit_state *as, struct admit_stats *out);
struct ban_table *admit_bans(struct admit_state *as);

#endif /* WRAPD_ADMIT_H */
