/*
 * action_loop.c - a worker loop's share of the actions.
 */
#include "action_loop.h"
#include "action_deny.h"
#include "action_run.h"
#include "log.h"

static void
action_loop_on_timer(uv_timer_t *t)
{
	struct action_loop *al = t->data;
	struct action_limit_skips sk;

	if (action_limit_take_skips_due(
	        al->limit, uv_now(al->loop), ACTION_SKIPS_LOG_MS, &sk))
		log_msg(LOG_NOTICE,
		    "actions skipped: %llu over max_running, "
		    "%llu over per_source, %llu over mail_rate",
		    (unsigned long long)sk.over_running,
		    (unsigned long long)sk.over_rate,
		    (unsigned long long)sk.over_mail_rate);
}

void
action_loop_init(
    struct action_loop *al, uv_loop_t *loop, struct action_limit *limit)
{
	al->loop = loop;
	al->limit = limit;
	al->runs = NULL;
	al->jobs = NULL;
	al->metrics = NULL;
	al->worker = 0;
	action_proc_set_init(&al->procs, loop);
	uv_timer_init(loop, &al->timer);
	al->timer.data = al;
	uv_timer_start(&al->timer, action_loop_on_timer, ACTION_SKIPS_LOG_MS,
	    ACTION_SKIPS_LOG_MS);
	uv_unref((uv_handle_t *)&al->timer); /* never keeps a loop alive */
	al->open = true;
}

void
action_loop_close(struct action_loop *al)
{
	if (!al->open)
		return;
	al->open = false;
	action_run_detach_all(al);
	action_deny_cancel_all(al);
	action_proc_set_close(&al->procs);
	uv_timer_stop(&al->timer);
	uv_close((uv_handle_t *)&al->timer, NULL);
}

static int
action_loop_admit(struct action_loop *al, const struct acl_addr *src,
    enum action_admit *admit, bool mail)
{
	uint64_t now = uv_now(al->loop);

	if (*admit == ACTION_ADMIT_UNKNOWN)
		*admit = action_limit_admit(al->limit, src, now)
		    ? ACTION_ADMIT_OK
		    : ACTION_ADMIT_REFUSED;
	if (*admit != ACTION_ADMIT_OK)
		return -1;
	if (mail && !action_limit_admit_mail(al->limit, now))
		return -1;
	return action_limit_take(al->limit) ? 0 : -1;
}

int
action_loop_take(struct action_loop *al, const struct acl_addr *src,
    enum action_admit *admit, enum metrics_action what)
{
	int rc = action_loop_admit(al, src, admit, what == METRICS_ACTION_MAIL);

	metrics_action(al->metrics, al->worker, what, rc == 0);
	return rc;
}
