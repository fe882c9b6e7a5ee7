/*
 * action_loop.h - what the actions of one worker loop share: the commands
 * it runs (action_proc.h), its rule runs waiting on an aclexec
 * (action_run.c), its finger queries and report mails (action_deny.c), and
 * the process-wide limiter (action_limit.h, owned by the server) that every
 * command, query and mail is admitted by.
 *
 * One struct action_loop lives in each struct worker, created and closed
 * with the worker's loop; nothing here is global.
 */
#ifndef WRAPD_ACTION_LOOP_H
#define WRAPD_ACTION_LOOP_H

#include <stdbool.h>
#include <uv.h>

#include "acl.h"
#include "action_limit.h"
#include "action_proc.h"
#include "metrics.h"

/* How often skipped actions are summarised in the log, at most. */
#define ACTION_SKIPS_LOG_MS 1000

struct action_run;
struct deny_job;

struct action_loop {
	uv_loop_t *loop;
	struct action_limit *limit; /* the process's (struct server) */
	struct action_procs procs;
	uv_timer_t timer;        /* logs skipped actions in summary */
	struct action_run *runs; /* rule runs waiting on an aclexec */
	struct deny_job *jobs;   /* finger queries and mails in flight */
	struct metrics *metrics; /* the process's counters, or NULL */
	unsigned worker;         /* this loop's slot in them */
	bool open;
};

void action_loop_init(
    struct action_loop *al, uv_loop_t *loop, struct action_limit *limit);
/*
 * The loop is shutting down (its connections are closed): stop watching
 * its commands (they run on, in their own sessions), cancel its finger
 * queries, close its handles.  Run the loop once more afterwards.
 */
void action_loop_close(struct action_loop *al);

/* Whether a connection's source was admitted by actions.per_source. */
enum action_admit {
	ACTION_ADMIT_UNKNOWN, /* not asked yet: the first command asks */
	ACTION_ADMIT_OK,
	ACTION_ADMIT_REFUSED,
};

/*
 * Take what one command, finger query or mail (action `what`) needs: the
 * source's token (once per connection's rule run or deny report: *admit
 * remembers), for a mail one token of actions.mail_rate, and a running
 * slot.  Returns 0 (the slot is the caller's: action_limit_put() it, or
 * hand it to the process runner), or -1 when skipped (counted for the
 * summary).  Either way counted in wrapd_actions_total.
 */
int action_loop_take(struct action_loop *al, const struct acl_addr *src,
    enum action_admit *admit, enum metrics_action what);

#endif /* WRAPD_ACTION_LOOP_H */
