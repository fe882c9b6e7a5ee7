/*
 * match_predict.c - what the daemon would do with one request, found by
 * running the daemon's own code on it: acl_eval() for the decision (with
 * the facts the rules ask for), action_plan_needs() for the facts the
 * rule's options need, action_plan_build() for the options themselves
 * (expansions, setenv, user and group, banner bytes).  What only running
 * can tell is assumed to go well: every command starts, and an aclexec
 * exits 0 (a dry run, as tcpdmatch's).
 *
 * The verdict, reason and priority are then those the daemon's connection
 * line would show (action_run.c's finish, conn_log.c's priority).
 */
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "match.h"
#include "timewin.h"

static int
match_predict_eval(struct match_facts *f, struct acl_decision *dec)
{
	enum acl_status st;
	int i;

	/* Each fact is asked for at most once; 4 rounds are plenty. */
	for (i = 0; i < 4; i++) {
		st = acl_eval(f->env->rs, &f->req, ACL_TABLE_ALLOW, dec);
		if (st == ACL_DONE)
			return 0;
		if (match_facts_supply(f, (int)st) != 0)
			return -1;
	}
	return -1;
}

/* The account commands run as: the service's, unless the rule says. */
static void
match_predict_base(const struct match_env *env, struct action_settings *base)
{
	const struct conf_service *cs = env->service;

	memset(base, 0, sizeof(*base));
	base->umask = -1;
	if (cs == NULL)
		return;
	base->set_uid = cs->has_uid;
	base->uid = cs->uid;
	base->set_gid = cs->has_gid;
	base->gid = cs->gid;
}

/* The connection line's verdict and reason= (action_run.c's finish). */
static void
match_predict_verdict(struct match_prediction *p)
{
	const struct action_plan *plan = &p->plan;

	if (p->closed) {
		p->verdict = ACL_DENY;
		p->reason = "access-times";
		return;
	}
	if (p->eval_failed) {
		p->verdict = ACL_DENY;
		p->reason = "evaluation did not complete";
		return;
	}
	p->verdict = plan->verdict;
	if (plan->reason != NULL) {
		p->verdict = ACL_DENY;
		p->reason = plan->reason;
	} else if (p->verdict == ACL_TWIST) {
		p->reason = "twist";
	} else if (p->verdict == ACL_DENY) {
		p->reason = "denied";
	}
}

/* Its priority (conn_log.c): the severity option, else by verdict. */
static void
match_predict_prio(struct match_prediction *p)
{
	p->prio = p->verdict == ACL_GRANT ? LOG_INFO : LOG_WARNING;
	if (!p->eval_failed && p->plan.severity >= 0)
		p->prio = p->plan.severity;
}

static int
match_predict_append(struct match_prediction *p, const char *b, size_t n)
{
	char *nb;

	if (n == 0)
		return 0;
	if ((nb = realloc(p->sent, p->sent_len + n)) == NULL)
		return -1;
	memcpy(nb + p->sent_len, b, n);
	p->sent = nb;
	p->sent_len += n;
	return 0;
}

/*
 * What the client gets from wrapd before the backend (or the twist
 * command) speaks: the banners in order, then on a deny the service's
 * on_deny reply.
 */
static int
match_predict_sent(struct match_prediction *p, const struct match_env *env)
{
	const struct action_plan *plan = &p->plan;
	const struct conf_on_deny *od;
	size_t i;

	if (plan->nsteps > 0 &&
	    (p->banner_exists = calloc(plan->nsteps, sizeof(bool))) == NULL)
		return -1;
	for (i = 0; i < plan->nsteps; i++) {
		const struct action_step *st = &plan->steps[i];

		if (st->kind != ACTION_STEP_SEND)
			continue;
		p->banner_exists[i] = st->text != NULL ||
		    (st->path != NULL && access(st->path, F_OK) == 0);
		if (st->text != NULL &&
		    match_predict_append(p, st->text, st->len) != 0)
			return -1;
	}
	if (p->verdict != ACL_DENY || env->service == NULL)
		return 0;
	od = &env->service->on_deny;
	if (od->reply == NULL || od->reply_len == 0)
		return 0;
	p->reply = true;
	return match_predict_append(p, od->reply, od->reply_len);
}

static void
match_predict_expand(struct match_facts *f, struct match_prediction *p)
{
	if (f->env->expand == NULL)
		return;
	if ((p->expanded = malloc(ACL_EXPAND_MAX + 1)) == NULL) {
		p->expand_error = "out of memory";
		return;
	}
	if (match_facts_expand(f, f->env->expand, p->expanded,
	        ACL_EXPAND_MAX + 1, &p->expand_error) != 0) {
		free(p->expanded);
		p->expanded = NULL;
	}
}

int
match_predict(struct match_facts *f, struct match_prediction *p)
{
	struct action_settings base;
	int rc = 0;

	memset(p, 0, sizeof(*p));
	/*
	 * Outside the service's access_times the daemon denies before the
	 * rules (decide.c): no rule, no look-up, on_deny still runs.
	 */
	p->closed =
	    f->env->service != NULL && !timewin_open_now(f->env->service);
	if (p->closed)
		p->dec.verdict = ACL_DENY;
	else
		p->eval_failed = match_predict_eval(f, &p->dec) != 0;
	/* The daemon fetches the facts the options need, then plans. */
	if (!p->closed && !p->eval_failed && p->dec.rule != NULL)
		match_facts_supply_needs(
		    f, action_plan_needs(p->dec.rule, f->req.daemon, NULL));
	/* An evaluation that did not complete left a deny with no rule. */
	match_predict_base(f->env, &base);
	if (action_plan_build(&p->dec, &f->req, &base, &p->plan) != 0)
		rc = -1;
	match_predict_verdict(p);
	match_predict_prio(p);
	if (match_predict_sent(p, f->env) != 0) {
		p->verdict = ACL_DENY;
		p->reason = "out of memory";
		rc = -1;
	}
	match_predict_expand(f, p);
	return rc;
}

void
match_predict_free(struct match_prediction *p)
{
	action_plan_free(&p->plan);
	free(p->banner_exists);
	free(p->sent);
	free(p->expanded);
	memset(p, 0, sizeof(*p));
}

bool
match_predict_reached(
    const struct match_prediction *p, const struct acl_option *o)
{
	/* Options are in order in their rule's array: compare places. */
	return p->plan.failed == NULL || o <= p->plan.failed;
}

const char *
match_predict_env(const struct action_plan *plan, size_t step)
{
	size_t i, k = 0;

	if (plan->steps[step].kind != ACTION_STEP_SETENV ||
	    plan->steps[step].opt == plan->failed)
		return NULL;
	/* The plan's env holds the setenv steps that did not fail, in order. */
	for (i = 0; i < step; i++)
		if (plan->steps[i].kind == ACTION_STEP_SETENV &&
		    plan->steps[i].opt != plan->failed)
			k++;
	return k < plan->nenv ? plan->env[k] : NULL;
}

const char *
match_predict_word(enum acl_verdict v, int json)
{
	switch (v) {
	case ACL_GRANT:
		return json ? "grant" : "granted";
	case ACL_TWIST:
		return json ? "twist" : "delegated";
	case ACL_DENY:
	default:
		return json ? "deny" : "denied";
	}
}

const char *
match_predict_table(enum acl_table t)
{
	return t == ACL_TABLE_ALLOW ? "allow"
	    : t == ACL_TABLE_DENY   ? "deny"
	                            : NULL;
}
