/*
 * action_run.h - run the options of a decided connection's rule: its plan
 * (action_plan.h) carried out on the connection's loop.
 *
 * How the connection code uses it (action_conn.c):
 *
 *   action_run_start(&ac, &d, &res, cb, c, &c->arun):
 *     0: res is final now;  1: cb(c, &res) later (cancel on close);
 *   res.rescan: an aclexec failed in hosts.allow: decide again from
 *     hosts.deny, and run that decision's rule the same way;
 *   res.twisted: the client socket now belongs to a twist command: close
 *     our fd (no shutdown, no reset, no writes);
 *   res.verdict ACL_DENY: action_deny_start(), then close.
 */
#ifndef WRAPD_ACTION_RUN_H
#define WRAPD_ACTION_RUN_H

#include <stdbool.h>

#include "acl.h"
#include "action.h"

struct action_loop;
struct action_run;

struct action_result {
	enum acl_verdict verdict; /* final for this rule, unless rescan */
	bool rescan;        /* aclexec failed in hosts.allow: scan hosts.deny */
	bool twisted;       /* the socket was handed to a twist command */
	int severity;       /* syslog priority for this connection's line; -1 */
	const char *reason; /* why the verdict changed here (static), or NULL */
	size_t sent;        /* bytes written to the client (banners) */
	/*
	 * For a daemon wrapd execs for this connection: the environment with
	 * the rule's setenv applied (NULL: unchanged).  Owned by the result:
	 * action_run_result_free().
	 */
	char **env;
};

typedef void (*action_run_cb)(void *arg, struct action_result *res);

/*
 * Run the options of d->rule.  Returns 0 when done (*res filled; *run
 * untouched), or 1 when an aclexec is running: cb(arg, res) comes later
 * with res pointing into the run (valid during the callback; move what you
 * keep, e.g. res->env, and set it to NULL), and *run is set for
 * action_run_cancel().  The request is copied, but the strings it points
 * to (facts, daemon) must stay valid until then.
 */
int action_run_start(const struct action_conn *ac, const struct acl_decision *d,
    struct action_result *res, action_run_cb cb, void *arg,
    struct action_run **run);
/* The connection is closing: no callback.  The command runs on. */
void action_run_cancel(struct action_run *run);
void action_run_result_free(struct action_result *res);
/* action_loop_close(): the runs of al lose their aclexec's callback. */
void action_run_detach_all(struct action_loop *al);

#endif /* WRAPD_ACTION_RUN_H */
