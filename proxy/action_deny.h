/*
 * action_deny.h - the service's on_deny actions for a denied connection:
 * an in-protocol reply written at once, and a finger query back to the
 * client and a report mail through sendmail, which outlive the connection
 * (jobs of the worker's action_loop).
 */
#ifndef WRAPD_ACTION_DENY_H
#define WRAPD_ACTION_DENY_H

#include "acl.h"
#include "action.h"

struct action_loop;

/*
 * The connection is denied: write on_deny.reply to the client now (what
 * the socket buffer takes), start the finger query and the report mail,
 * and read away what the client has sent so closing does not turn into a
 * reset that loses the reply.  Call just before closing.  Returns the
 * reply's bytes written.
 */
size_t action_deny_start(
    const struct action_conn *ac, const struct acl_decision *d);
/* action_loop_close(): cancel the finger queries of al, drop its jobs. */
void action_deny_cancel_all(struct action_loop *al);

#endif /* WRAPD_ACTION_DENY_H */
