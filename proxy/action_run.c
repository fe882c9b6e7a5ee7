/*
 * action_run.c - carry out a rule's plan on the connection's loop.
 *
 * The plan (action_plan.c) has already expanded, checked and rendered
 * every option; here the steps happen in order: banners are written to the
 * client, spawn and twist commands started, keepalive set, and an aclexec
 * started and waited for (the run resumes in its exit callback).  Only what
 * running can tell changes the plan's verdict: an aclexec's exit status, a
 * command the limits skip or that cannot start.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "action_loop.h"
#include "action_plan.h"
#include "action_run.h"
#include "log.h"

struct action_run {
	struct action_loop *al;
	struct action_run *next, *prev; /* al->runs */
	struct action_conn ac;
	struct acl_request req; /* a copy: ac.req points here */
	struct acl_decision d;
	struct action_plan plan;
	size_t next_step;
	enum action_admit admit;
	struct action_result res;
	bool nomatch; /* an aclexec said no */
	bool aborted; /* a step failed at run time: deny with res.reason */
	struct action_proc *wait; /* aclexec in flight */
	action_run_cb cb;
	void *arg;
};

static void
action_run_log(const struct action_run *r, int prio, enum acl_opt_kind opt,
    const char *detail)
{
	log_msg(prio, "conn=%llu actions: %s rule=%s:%u %s",
	    (unsigned long long)r->ac.id, acl_parse_opt_name(opt),
	    r->d.rule ? r->d.rule->file : "-", r->d.rule ? r->d.rule->line : 0,
	    detail ? detail : "");
}

static void
action_run_abort(struct action_run *r, const char *reason)
{
	r->aborted = true;
	r->res.reason = reason;
}

static void action_run_steps(struct action_run *r);

static void
action_run_on_aclexec(void *arg, int exit_status, int term_signal)
{
	struct action_run *r = arg;

	r->wait = NULL;
	if (term_signal != 0) {
		/* Killed (deadline or signal): it said nothing; fail closed. */
		action_run_abort(r, "aclexec killed");
	} else if (exit_status != 0) {
		/* Any non-zero status, 129-255 too, is its "no match". */
		r->nomatch = true;
	}
	action_run_steps(r);
}

/* The action a command step counts as (wrapd_actions_total). */
static enum metrics_action
action_run_metric(const struct action_step *st)
{
	switch (st->kind) {
	case ACTION_STEP_TWIST:
		return METRICS_ACTION_TWIST;
	case ACTION_STEP_ACLEXEC:
		return METRICS_ACTION_ACLEXEC;
	default:
		return METRICS_ACTION_SPAWN;
	}
}

/*
 * Start the shell command of step st.  0, or -1 when the limits skipped
 * it, or -2 when it could not start (logged).
 */
static int
action_run_command(struct action_run *r, const struct action_step *st,
    int stdio_fd, action_proc_cb cb, struct action_proc **out)
{
	struct action_loop *al = r->al;
	struct action_proc_opts po;
	char **env = NULL;
	int err;

	if (action_loop_take(
	        al, &r->req.client.addr, &r->admit, action_run_metric(st)) != 0)
		return -1;
	memset(&po, 0, sizeof(po));
	po.cmd = st->text;
	po.stdio_fd = stdio_fd;
	po.umask = st->set.umask;
	po.nice = st->set.nice;
	po.set_uid = st->set.set_uid;
	po.uid = st->set.uid;
	po.set_gid = st->set.set_gid;
	po.gid = st->set.gid;
	po.timeout_ms =
	    st->kind == ACTION_STEP_TWIST ? 0 : ACTION_CMD_TIMEOUT_MS;
	po.limit = al->limit;
	if (st->set.nenv > 0) {
		if ((env = action_plan_env_build(r->plan.env, st->set.nenv)) ==
		    NULL) {
			action_limit_put(al->limit);
			return -2;
		}
		po.env = env;
	}
	err = action_proc_start(&al->procs, &po, cb, r, out);
	action_plan_env_free(env);
	if (err != 0) {
		action_limit_put(al->limit);
		action_run_log(r, LOG_WARNING, st->opt->kind, uv_strerror(err));
		return -2;
	}
	return 0;
}

static void
action_run_twist(struct action_run *r, const struct action_step *st)
{
	int fd = r->ac.fd, fl = fcntl(fd, F_GETFL);

	/* The command reads and writes the socket itself, blocking. */
	(void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	if (action_run_command(r, st, fd, NULL, NULL) == 0)
		r->res.twisted = true;
	else
		(void)fcntl(fd, F_SETFL, fl);
}

/* Carry out one step; false when the run must wait for an aclexec. */
static bool
action_run_step(struct action_run *r, const struct action_step *st)
{
	int on = 1, rc;
	size_t n;

	switch (st->kind) {
	case ACTION_STEP_SETENV:
		break; /* in the plan's env, for the commands after it */
	case ACTION_STEP_SEND:
		if (st->text == NULL)
			break;
		n = action_send(r->ac.fd, st->text, st->len);
		r->res.sent += n;
		if (n < st->len)
			action_run_log(r, LOG_WARNING, st->opt->kind,
			    "client socket full: banner cut");
		break;
	case ACTION_STEP_SPAWN:
		(void)action_run_command(r, st, -1, NULL, NULL);
		break;
	case ACTION_STEP_ACLEXEC:
		rc = action_run_command(
		    r, st, -1, action_run_on_aclexec, &r->wait);
		if (rc == 0)
			return false; /* action_run_on_aclexec goes on */
		action_run_abort(
		    r, rc == -1 ? "aclexec skipped" : "aclexec not run");
		break;
	case ACTION_STEP_TWIST:
		action_run_twist(r, st);
		break;
	case ACTION_STEP_KEEPALIVE:
		if (setsockopt(r->ac.fd, SOL_SOCKET, SO_KEEPALIVE, &on,
		        sizeof(on)) != 0)
			action_run_log(
			    r, LOG_WARNING, st->opt->kind, strerror(errno));
		break;
	}
	return true;
}

/* The verdict once every step ran: the plan's, and what running said. */
static void
action_run_finish(struct action_run *r)
{
	const struct action_plan *p = &r->plan;

	r->res.severity = p->severity;
	if (r->aborted) {
		r->res.verdict = ACL_DENY;
	} else if (p->reason != NULL) {
		r->res.verdict = ACL_DENY;
		r->res.reason = p->reason;
	} else if (r->res.twisted) {
		r->res.verdict = ACL_TWIST;
	} else if (r->nomatch && !p->keyword) {
		/* Debian's aclexec: the rule did not match after all. */
		if (r->d.table == ACL_TABLE_ALLOW) {
			r->res.rescan = true;
			r->res.verdict = ACL_DENY;
		} else {
			r->res.verdict = ACL_GRANT;
		}
		r->res.reason = "aclexec failed";
	} else if (p->verdict == ACL_TWIST) {
		r->res.verdict = ACL_DENY; /* the twist did not start */
		r->res.reason = "twist skipped";
	} else {
		r->res.verdict = p->verdict;
	}
	if (p->nenv > 0 && r->res.verdict == ACL_GRANT)
		r->res.env = action_plan_env_build(p->env, p->nenv);
}

static void
action_run_unlink(struct action_run *r)
{
	if (r->prev != NULL)
		r->prev->next = r->next;
	else if (r->al != NULL && r->al->runs == r)
		r->al->runs = r->next;
	if (r->next != NULL)
		r->next->prev = r->prev;
	r->next = r->prev = NULL;
}

static void
action_run_free(struct action_run *r)
{
	action_run_unlink(r);
	action_plan_free(&r->plan);
	free(r);
}

/* Carry out the steps from r->next_step until the end or an aclexec. */
static void
action_run_steps(struct action_run *r)
{
	while (!r->aborted && r->next_step < r->plan.nsteps)
		if (!action_run_step(r, &r->plan.steps[r->next_step++]))
			return;
	action_run_finish(r);
	if (r->cb != NULL) {
		action_run_cb cb = r->cb;

		r->cb = NULL;
		cb(r->arg, &r->res);
		action_run_result_free(&r->res);
		action_run_free(r);
	}
}

void
action_run_result_free(struct action_result *res)
{
	action_plan_env_free(res->env);
	res->env = NULL;
}

int
action_run_start(const struct action_conn *ac, const struct acl_decision *d,
    struct action_result *res, action_run_cb cb, void *arg,
    struct action_run **runp)
{
	struct action_settings base;
	struct action_run *r;
	size_t i;

	memset(res, 0, sizeof(*res));
	res->verdict = d->verdict;
	res->severity = -1;
	if (d->rule == NULL || d->rule->nopts == 0)
		return 0;
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		res->verdict = ACL_DENY;
		res->reason = "out of memory";
		return 0;
	}
	r->al = ac->al;
	r->ac = *ac;
	r->req = *ac->req;
	r->ac.req = &r->req;
	r->d = *d;
	r->res = *res;
	/* Commands run as the service's account unless the rule says. */
	memset(&base, 0, sizeof(base));
	base.umask = -1;
	base.set_uid = ac->set_uid;
	base.uid = ac->uid;
	base.set_gid = ac->set_gid;
	base.gid = ac->gid;
	(void)action_plan_build(d, &r->req, &base, &r->plan);
	for (i = 0; i < r->plan.nnotes; i++)
		if (log_enabled(r->plan.notes[i].prio))
			action_run_log(r, r->plan.notes[i].prio,
			    r->plan.notes[i].opt, r->plan.notes[i].text);
	r->next = r->al->runs;
	if (r->al->runs != NULL)
		r->al->runs->prev = r;
	r->al->runs = r;
	action_run_steps(r);
	if (r->wait == NULL) {
		/* Finished without waiting. */
		*res = r->res;
		r->res.env = NULL;
		action_run_free(r);
		return 0;
	}
	r->cb = cb;
	r->arg = arg;
	if (runp != NULL)
		*runp = r;
	return 1;
}

void
action_run_cancel(struct action_run *r)
{
	if (r == NULL)
		return;
	action_proc_forget(r->wait);
	r->wait = NULL;
	r->cb = NULL;
	action_run_result_free(&r->res);
	action_run_free(r);
}

void
action_run_detach_all(struct action_loop *al)
{
	/*
	 * Runs belong to their connections, which cancel them when they
	 * close; here they only lose their aclexec (its callback never
	 * comes) and their link to the loop.
	 */
	while (al->runs != NULL) {
		struct action_run *r = al->runs;

		action_run_unlink(r);
		action_proc_forget(r->wait);
		r->wait = NULL;
		r->al = NULL;
	}
}
