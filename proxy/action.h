/*
 * action.h - what a decided connection's rule and service ask to be done:
 * the options of the matched rule (hosts_options(5): spawn, twist,
 * aclexec, banners, setenv, keepalive, linger, severity, umask, nice,
 * user, group) and the service's on_deny actions (reply, finger, mail).
 *
 * Everything runs on the connection's loop without blocking it: commands
 * are started, never waited for, except aclexec, whose exit status the
 * decision needs (action_rule_run() then completes through its callback).
 * Every command and look-up is bounded by actions.max_running and
 * actions.per_source (action_limit.h); skipped actions are logged in summary.
 *
 * How the connection code uses it (conn.c):
 *
 *   acl_eval() -> ACL_DONE with decision d, d.rule != NULL:
 *     needs = action_rule_needs(d.rule, req.daemon, &ident_ms);
 *     find those facts (ident with ident_ms when rfc931 set it), then
 *     action_rule_run(&ac, &d, &res, cb, c, &c->action_run):
 *       0: res is final now;  1: cb(c, &res) later (cancel on close);
 *     res.rescan: an aclexec failed in hosts.allow: acl_eval() again with
 *       start = ACL_TABLE_DENY, and run that decision's rule the same way;
 *     res.twisted: the client socket now belongs to a twist command: close
 *       our fd (no shutdown, no reset, no writes);
 *     res.verdict ACL_DENY: action_on_deny(&ac, &d), then close.
 *   No rule matched and the verdict is deny (table error): action_on_deny().
 */
#ifndef WRAPD_ACTION_H
#define WRAPD_ACTION_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

#include "acl.h"
#include "conf.h"

/* Deadline of spawn and aclexec commands: the process group is killed. */
#define ACTION_CMD_TIMEOUT_MS 60000
/* Banner files are read up to this size. */
#define ACTION_BANNER_MAX     (64 * 1024)
/* How often skipped actions are summarised in the log, at most. */
#define ACTION_SKIPS_LOG_MS   1000

/*
 * Process-wide limits and sendmail path from conf (startup and every
 * reload; any thread).  The first call also marks every inherited fd above
 * 2 close-on-exec (action_proc_seal_fds), so no command or exec'd daemon
 * inherits what wrapd's own parent leaked to it.  Returns 0, -1 on ENOMEM.
 */
int action_configure(const struct conf_actions *ca);

/*
 * A worker loop is shutting down (its connections are closed): stop
 * watching its commands (they run on, in their own sessions), cancel its
 * finger queries, close its handles.  Run the loop once more afterwards.
 */
void action_worker_close(uv_loop_t *loop);

/* What the actions need to know about the connection (borrowed). */
struct action_conn {
	uv_loop_t *loop;
	uint64_t id;                   /* for log lines */
	int fd;                        /* the client socket */
	const struct acl_request *req; /* facts; daemon, addresses, ports */
	const char *service;           /* service name */
	const struct conf_on_deny *on_deny; /* NULL: none */
	/*
	 * The service's account (services[].user / group) for the rule's
	 * spawn, twist and aclexec; the rule's own user and group options
	 * override it.  Not set: wrapd's own account.
	 */
	bool set_uid, set_gid;
	uid_t uid;
	gid_t gid;
};

struct action_result {
	enum acl_verdict verdict; /* final for this rule, unless rescan */
	bool rescan;        /* aclexec failed in hosts.allow: scan hosts.deny */
	bool twisted;       /* the socket was handed to a twist command */
	int severity;       /* syslog priority for this connection's line; -1 */
	const char *reason; /* why the verdict changed here (static), or NULL */
	/*
	 * For a daemon wrapd execs for this connection: the environment with
	 * the rule's setenv applied (NULL: unchanged), umask (-1: unchanged),
	 * nice (0), user/group.  Owned by the result: action_result_free().
	 */
	char **env;
	int umask;
	int nice;
	bool set_uid, set_gid;
	uid_t uid;
	gid_t gid;
};

void action_result_free(struct action_result *res);
/* Free an environment array as action_result.env holds it (NULL: no-op). */
void action_env_free(char **env);

/*
 * Facts the options of r will need before action_rule_run (enum
 * acl_need_bits): their %-expansions, `rfc931` (the user, looked up with
 * *ident_timeout_ms; left unchanged when the rule does not say), and the
 * expansions inside the banner file for daemon.
 */
unsigned action_rule_needs(
    const struct acl_rule *r, const char *daemon, uint64_t *ident_timeout_ms);

struct action_run;
typedef void (*action_rule_cb)(void *arg, struct action_result *res);

/*
 * Run the options of d->rule in order.  Returns 0 when done (*res filled;
 * *run untouched), or 1 when an aclexec is running: cb(arg, res) comes
 * later with res pointing into the run (valid during the callback; move
 * what you keep, e.g. res->env, and set it to NULL), and *run is set for
 * action_run_cancel().  The request is copied, but the strings it points
 * to (facts, daemon) must stay valid until then.
 */
int action_rule_run(const struct action_conn *ac, const struct acl_decision *d,
    struct action_result *res, action_rule_cb cb, void *arg,
    struct action_run **run);
/* The connection is closing: no callback.  The command runs on. */
void action_run_cancel(struct action_run *run);

/*
 * The connection is denied: write on_deny.reply to the client now (what
 * the socket buffer takes), start the finger query and the report mail
 * (they outlive the connection), and read away what the client has sent
 * so closing does not turn into a reset that loses the reply.  Call just
 * before closing.
 */
void action_on_deny(const struct action_conn *ac, const struct acl_decision *d);

/*
 * Write bytes to the client socket without blocking: what the socket
 * buffer takes (a fresh connection takes 16 KiB or more).  Returns the
 * bytes written.
 */
size_t action_client_write(int fd, const char *buf, size_t len);

#endif /* WRAPD_ACTION_H */
