/*
 * decide.c - the second stage: decide a connection with the rules.
 *
 * The decision is staged (acl.h): acl_eval() runs on what is known; when a
 * rule needs a fact that takes the network (host name, ident user), one
 * asynchronous look-up runs (lookup.h) and evaluation starts over with the
 * fact stored.  Nothing here blocks the loop.
 *
 * Fail closed: each look-up gets its own lookup_timeout from the moment
 * the rules first need it (a client's silent ident server cannot use up
 * the time of a later name rule, nor a slow aclexec that of the rescan).
 * A look-up that ends without an answer (the deadline, or no room to ask:
 * lookup.h) leaves the fact "unknown", as libwrap would store it, but the
 * verdict may not grant on it: when the rules reached that fact on the way
 * to a grant, the connection is denied (decide_unanswered_matters).
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "action_conn.h"
#include "action_plan.h"
#include "conn.h"
#include "decide.h"
#include "lookup.h"
#include "metrics.h"
#include "server.h"
#include "snapshot.h"
#include "timewin.h"
#include "worker.h"

static void decide_run(struct conn *c);
static void decide_done(struct conn *c);

static char *
decide_fact_dup(const char *s)
{
	size_t n = strnlen(s, ACL_STRING_MAX - 1);
	char *p = malloc(n + 1);

	if (p != NULL) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

/* Store a fact; NULL (out of memory) falls back to "unknown". */
static void
decide_store(char **slot, const char *s)
{
	free(*slot);
	*slot = decide_fact_dup(s);
	if (*slot == NULL)
		*slot = decide_fact_dup(ACL_UNKNOWN);
}

static unsigned
decide_fact_bit(enum conn_lookup what)
{
	switch (what) {
	case CONN_LOOKUP_CLIENT_NAME:
		return ACL_NEEDS_CLIENT_NAME;
	case CONN_LOOKUP_SERVER_NAME:
		return ACL_NEEDS_SERVER_NAME;
	case CONN_LOOKUP_USER:
		return ACL_NEEDS_USER;
	default:
		return 0;
	}
}

/* Count the connection in (or out of) its service's look-ups in flight. */
static void
decide_looking(struct conn *c, bool on)
{
	if (c->looking == on)
		return;
	c->looking = on;
	if (on)
		atomic_fetch_add(&conn_svc(c)->st->looking, 1);
	else
		atomic_fetch_sub(&conn_svc(c)->st->looking, 1);
}

/*
 * A look-up of `what` ended with status (metrics.h): counted by kind and
 * outcome, its time since decide_fetch() started it observed unless it
 * was not asked.  A look-up cancelled with its connection is not counted.
 */
static void
decide_count(struct conn *c, enum conn_lookup what, enum lookup_status status)
{
	uint64_t at = uv_now(&c->w->loop) - c->start_ms;
	enum metrics_lookup kind = what == CONN_LOOKUP_USER
	    ? METRICS_LOOKUP_IDENT
	    : METRICS_LOOKUP_DNS;

	_Static_assert((int)LOOKUP_ANSWERED == (int)METRICS_ANSWERED &&
	        (int)LOOKUP_TIMED_OUT == (int)METRICS_TIMED_OUT &&
	        (int)LOOKUP_SKIPPED == (int)METRICS_SKIPPED,
	    "lookup.h's outcomes are metrics.h's");
	metrics_lookup(c->w->srv->metrics, c->w->idx, kind,
	    (enum metrics_outcome)status,
	    at > c->lookup_began ? at - c->lookup_began : 0);
}

/* A look-up ended: store what it said and decide again. */
static void
decide_fact_known(struct conn *c, const char *value, enum lookup_status status)
{
	enum conn_lookup what = (enum conn_lookup)c->lookup;

	c->lookup = CONN_LOOKUP_NONE;
	decide_looking(c, false);
	decide_count(c, what, status);
	decide_store(what == CONN_LOOKUP_CLIENT_NAME ? &c->client_name
	        : what == CONN_LOOKUP_SERVER_NAME    ? &c->server_name
	                                             : &c->user,
	    value);
	if (status != LOOKUP_ANSWERED) {
		c->unanswered |= (uint8_t)decide_fact_bit(what);
		c->unanswered_why = status == LOOKUP_TIMED_OUT
		    ? "lookup-timeout"
		    : "lookup-skipped";
	}
	decide_run(c);
}

static void
decide_name_cb(void *arg, const char *name, enum lookup_status status)
{
	decide_fact_known(arg, name, status);
}

static void
decide_ident_cb(void *arg, const char *user, enum lookup_status status)
{
	decide_fact_known(arg, user, status);
}

/*
 * Connections of a service waiting on look-ups may hold at most half of
 * its max_connections: past that, a new look-up is not started (the fact
 * is unanswered, so a verdict that needs it denies), and the other half
 * stays free for clients whose rules decide without one.  Without this,
 * clients behind silent resolvers or ident servers, from as many sources
 * as per_source allows, could hold every slot for lookup_timeout each.
 */
static bool
decide_lookup_room(const struct conn *c)
{
	const struct snap_svc *sv = conn_svc(c);
	unsigned cap = sv->conf->max_connections / 2;

	return atomic_load(&sv->st->looking) < (cap > 0 ? cap : 1);
}

/*
 * Start the look-up for one missing fact, with timeout_ms of its own.
 * Returns 1 when a look-up is in flight (decide_run runs again from its
 * callback), 0 when the fact was settled at once: "unknown", and
 * unanswered unless there is nothing to ask (no IP address).
 */
static int
decide_fetch(struct conn *c, enum conn_lookup what, uint64_t timeout_ms)
{
	const struct conn_addr *ca;
	struct sockaddr_storage a, l;
	char **slot;

	slot = what == CONN_LOOKUP_CLIENT_NAME ? &c->client_name
	    : what == CONN_LOOKUP_SERVER_NAME  ? &c->server_name
	                                       : &c->user;
	if (!decide_lookup_room(c))
		goto skipped;
	c->lookup = (uint8_t)what;
	c->deadline_ms = uv_now(&c->w->loop) + timeout_ms;
	c->lookup_began = (uint32_t)(uv_now(&c->w->loop) - c->start_ms);
	switch (what) {
	case CONN_LOOKUP_CLIENT_NAME:
	case CONN_LOOKUP_SERVER_NAME:
		ca = what == CONN_LOOKUP_CLIENT_NAME ? &c->client : &c->server;
		if (acl_addr_to_sockaddr(&ca->a, ca->port, ca->scope, &a) == 0)
			break;
		c->lk.name = lookup_name_start(&c->w->loop,
		    (struct sockaddr *)&a, timeout_ms, decide_name_cb, c);
		if (c->lk.name == NULL)
			goto skipped;
		decide_looking(c, true);
		return 1;
	case CONN_LOOKUP_USER:
		if (acl_addr_to_sockaddr(&c->client.a, c->client.port,
		        c->client.scope, &a) == 0 ||
		    acl_addr_to_sockaddr(
		        &c->server.a, c->server.port, c->server.scope, &l) == 0)
			break;
		c->lk.ident =
		    lookup_ident_start(&c->w->loop, (struct sockaddr *)&l,
		        (struct sockaddr *)&a, timeout_ms, decide_ident_cb, c);
		if (c->lk.ident == NULL)
			goto skipped;
		decide_looking(c, true);
		return 1;
	default:
		break;
	}
	/* No IP address to ask about: "unknown" is the answer, as libwrap's. */
	c->lookup = CONN_LOOKUP_NONE;
	decide_store(slot, ACL_UNKNOWN);
	return 0;
skipped:
	c->lookup = CONN_LOOKUP_NONE;
	decide_count(c, what, LOOKUP_SKIPPED);
	decide_store(slot, ACL_UNKNOWN);
	c->unanswered |= (uint8_t)decide_fact_bit(what);
	c->unanswered_why = "lookup-skipped";
	return 0;
}

/*
 * Did the rules reach the unanswered fact `bit` on the way to this
 * decision?  Evaluation is a pure function of the request, so evaluating
 * again with that fact not yet known stops exactly where the rules first
 * ask for it, if they do.  Both scans count: the one from hosts.allow, and
 * the rescan from hosts.deny after a failed aclexec.
 */
static bool
decide_fact_reached(const struct conn *c, unsigned bit)
{
	struct acl_request req;
	struct acl_decision dec;
	enum acl_status want;

	conn_request(c, &req);
	if (bit == ACL_NEEDS_CLIENT_NAME) {
		req.client.name = NULL;
		want = ACL_NEED_CLIENT_NAME;
	} else if (bit == ACL_NEEDS_SERVER_NAME) {
		req.server.name = NULL;
		want = ACL_NEED_SERVER_NAME;
	} else {
		req.user = NULL;
		want = ACL_NEED_USER;
	}
	if (acl_eval(c->snap->rules, &req, ACL_TABLE_ALLOW, &dec) == want)
		return true;
	return c->scan_from != ACL_TABLE_ALLOW &&
	    acl_eval(c->snap->rules, &req, (enum acl_table)c->scan_from,
	        &dec) == want;
}

/* Would this verdict rest on a fact that no answer gave? */
static bool
decide_unanswered_matters(const struct conn *c)
{
	unsigned bit;

	for (bit = 1; bit <= ACL_NEEDS_USER; bit <<= 1)
		if ((c->unanswered & bit) && decide_fact_reached(c, bit))
			return true;
	return false;
}

void
decide_from(struct conn *c, enum acl_table from)
{
	c->scan_from = (uint8_t)from;
	decide_run(c);
}

static void
decide_run(struct conn *c)
{
	const struct conf_service *cs = conn_svc(c)->conf;
	struct acl_request req;
	struct acl_decision dec;
	enum acl_status st;
	enum conn_lookup need;
	uint64_t timeout_ms;
	unsigned needs;

	for (;;) {
		conn_request(c, &req);
		st = acl_eval(
		    c->snap->rules, &req, (enum acl_table)c->scan_from, &dec);
		timeout_ms = cs->lookup_timeout_ms;
		switch (st) {
		case ACL_NEED_CLIENT_NAME:
			need = CONN_LOOKUP_CLIENT_NAME;
			break;
		case ACL_NEED_SERVER_NAME:
			need = CONN_LOOKUP_SERVER_NAME;
			break;
		case ACL_NEED_USER:
			need = CONN_LOOKUP_USER;
			break;
		default:
			need = CONN_LOOKUP_NONE;
			break;
		}
		if (need == CONN_LOOKUP_NONE) {
			/*
			 * Decided.  The rule's options (spawn %n, ...) may
			 * still want facts; fetch them now, so the actions
			 * that run on this decision have them (an `rfc931 N`
			 * option sets the ident look-up's own timeout).
			 */
			needs = dec.rule != NULL ? action_plan_needs(dec.rule,
			                               req.daemon, &timeout_ms)
			                         : 0;
			if ((needs & ACL_NEEDS_CLIENT_NAME) &&
			    c->client_name == NULL)
				need = CONN_LOOKUP_CLIENT_NAME;
			else if ((needs & ACL_NEEDS_SERVER_NAME) &&
			    c->server_name == NULL)
				need = CONN_LOOKUP_SERVER_NAME;
			else if ((needs & ACL_NEEDS_USER) && c->user == NULL)
				need = CONN_LOOKUP_USER;
			if (need != CONN_LOOKUP_USER)
				timeout_ms = cs->lookup_timeout_ms;
			if (need == CONN_LOOKUP_NONE)
				break;
		}
		if (decide_fetch(c, need, timeout_ms))
			return; /* back in decide_name_cb / decide_ident_cb */
	}
	c->decided = true;
	c->verdict = (uint8_t)dec.verdict;
	c->rule = dec.rule;
	c->table = (uint8_t)dec.table;
	c->err_file = NULL;
	if (dec.table_error && dec.rule == NULL) {
		c->err_file = dec.error_file;
		c->err_line = dec.error_line;
	}
	if (dec.verdict != ACL_DENY && c->unanswered != 0 &&
	    decide_unanswered_matters(c)) {
		/*
		 * Fail closed: the rules asked for a fact that no answer
		 * gave, so no rule may grant on it.  No rule decided; the
		 * service's on_deny still runs.
		 */
		c->verdict = ACL_DENY;
		c->rule = NULL;
		c->failed_closed = true;
	}
	decide_done(c);
}

/*
 * The decision point: every connection passes here exactly once, with
 * c->verdict, c->rule (NULL: no rule matched, or a table error at
 * c->err_file:c->err_line) and the facts fetched so far.
 *
 * How actions plug in (proxy/action_*.c): this is the one place to call
 * them.  An action that must run before the connection is served or closed
 * (banners, twist, aclexec's verdict) takes over here and, when it is done,
 * calls conn_deliver() (grant) or conn_close(c, "denied") (deny); spawn,
 * finger and mail are fire-and-forget and are started here before the
 * verdict is applied.  They must not block and must not keep pointers to c
 * past conn_close() (the struct is freed after it).
 */
static void
decide_done(struct conn *c)
{
	/* proxy/action_conn.c: options, on_deny, then deliver or close. */
	action_conn_decided(c);
}

void
decide_start(struct conn *c)
{
	/*
	 * Outside the service's access_times (timewin.c) the connection is
	 * denied before the rules: no look-up is spent on it.  No rule
	 * decided; the service's on_deny still runs.
	 */
	if (!timewin_open_now(conn_svc(c)->conf)) {
		c->decided = true;
		c->verdict = ACL_DENY;
		c->rule = NULL;
		c->err_file = NULL;
		c->deny_why = "access-times";
		decide_done(c);
		return;
	}
	decide_from(c, ACL_TABLE_ALLOW);
}

void
decide_cancel(struct conn *c)
{
	if (c->lookup == CONN_LOOKUP_USER)
		lookup_ident_cancel(c->lk.ident);
	else if (c->lookup != CONN_LOOKUP_NONE)
		lookup_name_cancel(c->lk.name);
	c->lookup = CONN_LOOKUP_NONE;
	decide_looking(c, false);
}
