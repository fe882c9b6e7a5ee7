/*
 * action_conn.c - glue between conn.c and the act stage (action.h).
 *
 * The only pieces of struct conn used here: the socket (fd[0]), the facts
 * (through conn_request()), the decision (verdict, rule, table) and arun /
 * severity / action_env.  When an aclexec in hosts.allow fails, the scan
 * goes on in hosts.deny through decide_from(), so look-ups and the
 * deadline work exactly as for the first decision.
 */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "action.h"
#include "action_conn.h"
#include "action_deny.h"
#include "action_plan.h"
#include "action_run.h"
#include "admit.h"
#include "conn.h"
#include "decide.h"
#include "log.h"
#include "server.h"
#include "snapshot.h"
#include "worker.h"

static void action_conn_run(struct conn *c, const struct acl_decision *d);

static void
action_conn_view(
    struct conn *c, const struct acl_request *req, struct action_conn *ac)
{
	const struct conf_service *cs = conn_svc(c)->conf;

	memset(ac, 0, sizeof(*ac));
	ac->al = &c->w->actions;
	ac->id = c->id;
	ac->fd = c->fd[0];
	ac->req = req;
	ac->service = cs->name;
	ac->on_deny = &cs->on_deny;
	ac->sendmail = c->snap->conf->actions.sendmail;
	ac->set_uid = cs->has_uid;
	ac->uid = cs->uid;
	ac->set_gid = cs->has_gid;
	ac->gid = cs->gid;
}

/* The final verdict of this rule: apply it. */
static void
action_conn_apply(
    struct conn *c, const struct acl_decision *d, struct action_result *res)
{
	struct acl_request req;
	struct action_conn ac;

	c->arun = NULL;
	conn_metrics_bytes(c, 1, res->sent); /* banners: part of out= */
	if (res->severity >= 0) {
		c->has_severity = true;
		c->severity = res->severity;
	}
	/* setenv for an exec'd daemon (deliver_exec.c); freed with c. */
	if (res->verdict == ACL_GRANT && !res->rescan && res->env != NULL) {
		action_plan_env_free(c->action_env);
		c->action_env = res->env;
		res->env = NULL;
	}
	action_run_result_free(res);
	if (res->twisted) {
		c->verdict = ACL_TWIST;
		/* The command holds the socket: just drop our descriptor. */
		conn_close(c, "twist");
		return;
	}
	if (res->rescan) {
		decide_from(c, ACL_TABLE_DENY);
		return;
	}
	c->verdict = (uint8_t)res->verdict;
	if (res->verdict == ACL_GRANT) {
		conn_metrics_count(c); /* now, not when the session ends */
		conn_deliver(c);
		return;
	}
	conn_request(c, &req);
	action_conn_view(c, &req, &ac);
	conn_metrics_bytes(c, 1, action_deny_start(&ac, d));
	admit_denied(c, res->reason); /* a denial for the ban */
	conn_close(c,
	    res->reason != NULL       ? res->reason
	        : c->deny_why != NULL ? c->deny_why
	        : c->failed_closed    ? c->unanswered_why
	                              : "denied");
}

static void
action_conn_on_run(void *arg, struct action_result *res)
{
	struct conn *c = arg;
	struct acl_decision d;

	memset(&d, 0, sizeof(d));
	d.rule = c->rule;
	d.verdict = (enum acl_verdict)c->verdict;
	d.table = (enum acl_table)c->table;
	action_conn_apply(c, &d, res);
}

static void
action_conn_run(struct conn *c, const struct acl_decision *d)
{
	struct acl_request req;
	struct action_conn ac;
	struct action_result res;

	conn_request(c, &req);
	action_conn_view(c, &req, &ac);
	if (action_run_start(&ac, d, &res, action_conn_on_run, c, &c->arun) ==
	    1)
		return; /* action_conn_on_run goes on */
	action_conn_apply(c, d, &res);
}

void
action_conn_decided(struct conn *c)
{
	struct acl_decision d;

	memset(&d, 0, sizeof(d));
	d.verdict = (enum acl_verdict)c->verdict;
	d.rule = c->rule;
	d.table = (enum acl_table)c->table;
	if (c->rule == NULL && c->err_file != NULL) {
		d.table_error = true;
		d.error_file = c->err_file;
		d.error_line = c->err_line;
	}
	action_conn_run(c, &d);
}

void
action_conn_closing(struct conn *c)
{
	if (c->arun != NULL) {
		action_run_cancel(c->arun);
		c->arun = NULL;
	}
}
