/*
 * decide.h - the second stage of a connection: the rules' verdict, with the
 * look-ups the rules ask for (decide.c).  When it is known, the act stage
 * takes over (action_conn_decided), exactly once per decision.
 */
#ifndef WRAPD_DECIDE_H
#define WRAPD_DECIDE_H

#include "acl.h"

struct conn;

/* A new connection: outside access_times deny at once, else decide from
 * hosts.allow. */
void decide_start(struct conn *c);
/*
 * Decide (again) from table `from`: an aclexec failing in hosts.allow
 * makes its rule no match, and the scan goes on in hosts.deny.  Each
 * look-up it needs gets its own deadline.
 */
void decide_from(struct conn *c, enum acl_table from);
/* The connection is closing: stop any look-up in flight. */
void decide_cancel(struct conn *c);

#endif /* WRAPD_DECIDE_H */
