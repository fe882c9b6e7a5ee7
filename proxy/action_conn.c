/*
 * action_conn.c - glue between conn.c and the actions (action.h).
 *
 * The only pieces of struct conn used here: the socket (fd[0]), the facts
 * (client_name, server_name, user), the decision (verdict, rule), the
 * look-up slot (lookup, lk, deadline_ms: so conn_close() cancels a look-up
 * started here as it cancels its own) and arun / severity.
 */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "action.h"
#include "action_conn.h"
#include "conn.h"
#include "log.h"
#include "lookup.h"
#include "server.h"
#include "snapshot.h"

static void conn_rescan(struct conn *c);
static void conn_run(struct conn *c, const struct acl_decision *d);

static const struct conf_service *
svc_conf(const struct conn *c)
{
	return c->snap->svc[c->svc].conf;
}

static void
conn_req(const struct conn *c, struct acl_request *r)
{
	const struct conf_service *cs = svc_conf(c);

	acl_request_init(r);
	r->daemon = cs->daemon != NULL ? cs->daemon : cs->name;
	r->client.addr = c->client.a;
	r->client.port = c->client.a.family == AF_UNSPEC ? -1 : c->client.port;
	r->client.name = c->client_name;
	r->server.addr = c->server.a;
	r->server.port = c->server.a.family == AF_UNSPEC ? -1 : c->server.port;
	r->server.name = c->server_name;
	r->user = c->user;
	r->pid = (long)getpid();
}

static void
conn_ac(struct conn *c, const struct acl_request *req, struct action_conn *ac)
{
	const struct conf_service *cs = svc_conf(c);

	memset(ac, 0, sizeof(*ac));
	ac->loop = &c->w->loop;
	ac->id = c->id;
	ac->fd = c->fd[0];
	ac->req = req;
	ac->service = cs->name;
	ac->on_deny = &cs->on_deny;
}

/* Which table a rule is in (only asked when an aclexec failed). */
static enum acl_table
rule_table(const struct acl_ruleset *rs, const struct acl_rule *rule)
{
	size_t i, n = acl_ruleset_rule_count(rs, ACL_TABLE_ALLOW);

	for (i = 0; i < n; i++)
		if (acl_ruleset_rule(rs, ACL_TABLE_ALLOW, i) == rule)
			return ACL_TABLE_ALLOW;
	return ACL_TABLE_DENY;
}

static bool
rule_has_aclexec(const struct acl_rule *r)
{
	size_t i;

	for (i = 0; r != NULL && i < r->nopts; i++)
		if (r->opts[i].kind == ACL_OPT_ACLEXEC)
			return true;
	return false;
}

/* The final verdict of this rule: apply it. */
static void
conn_apply(
    struct conn *c, const struct acl_decision *d, struct action_result *res)
{
	struct acl_request req;
	struct action_conn ac;

	c->arun = NULL;
	if (res->severity >= 0) {
		c->has_severity = true;
		c->severity = res->severity;
	}
	/* setenv for an exec'd daemon (exec_delivery.c); freed with c. */
	if (res->verdict == ACL_GRANT && !res->rescan && res->env != NULL) {
		action_env_free(c->action_env);
		c->action_env = res->env;
		res->env = NULL;
	}
	action_result_free(res);
	if (res->twisted) {
		c->verdict = ACL_TWIST;
		/* The command holds the socket: just drop our descriptor. */
		conn_close(c, "twist");
		return;
	}
	if (res->rescan) {
		conn_rescan(c);
		return;
	}
	c->verdict = (uint8_t)res->verdict;
	if (res->verdict == ACL_GRANT) {
		conn_deliver(c);
		return;
	}
	conn_req(c, &req);
	conn_ac(c, &req, &ac);
	action_on_deny(&ac, d);
	conn_close(c, res->reason != NULL ? res->reason : "denied");
}

struct run_ctx {
	struct conn *c;
	struct acl_decision d;
};

static void
conn_on_run(void *arg, struct action_result *res)
{
	struct conn *c = arg;
	struct acl_decision d;

	memset(&d, 0, sizeof(d));
	d.rule = c->rule;
	d.verdict = (enum acl_verdict)c->verdict;
	d.table = rule_table(c->snap->rules, c->rule);
	conn_apply(c, &d, res);
}

static void
conn_run(struct conn *c, const struct acl_decision *d)
{
	struct acl_request req;
	struct action_conn ac;
	struct action_result res;

	conn_req(c, &req);
	conn_ac(c, &req, &ac);
	if (action_rule_run(&ac, d, &res, conn_on_run, c, &c->arun) == 1)
		return; /* conn_on_run goes on */
	conn_apply(c, d, &res);
}

void
action_conn_decided(struct conn *c)
{
	struct acl_decision d;

	memset(&d, 0, sizeof(d));
	d.verdict = (enum acl_verdict)c->verdict;
	d.rule = c->rule;
	d.table = rule_has_aclexec(c->rule)
	    ? rule_table(c->snap->rules, c->rule)
	    : ACL_TABLE_NONE;
	if (c->rule == NULL && c->err_file != NULL) {
		d.table_error = true;
		d.error_file = c->err_file;
		d.error_line = c->err_line;
	}
	conn_run(c, &d);
}

void
action_conn_closing(struct conn *c)
{
	if (c->arun != NULL) {
		action_run_cancel(c->arun);
		c->arun = NULL;
	}
}

/* ------------------------------------------------------------------ */
/*
 * An aclexec in hosts.allow failed: that rule did not match after all, and
 * the scan goes on in hosts.deny (facts fetched as conn.c fetches them,
 * under the same deadline).
 */

static void
rescan_name_cb(void *arg, const char *name)
{
	struct conn *c = arg;
	char **slot = c->lookup == CONN_LOOKUP_CLIENT_NAME ? &c->client_name
	                                                   : &c->server_name;

	free(*slot);
	*slot = strndup(name, ACL_STRING_MAX - 1);
	c->lookup = CONN_LOOKUP_NONE;
	conn_rescan(c);
}

static void
rescan_ident_cb(void *arg, const char *user)
{
	struct conn *c = arg;

	free(c->user);
	c->user = strndup(user, ACL_STRING_MAX - 1);
	c->lookup = CONN_LOOKUP_NONE;
	conn_rescan(c);
}

static socklen_t
ca_sockaddr(const struct conn_addr *ca, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (ca->a.family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(ca->port);
		memcpy(&s4->sin_addr, ca->a.bytes, 4);
		return sizeof(*s4);
	}
	if (ca->a.family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(ca->port);
		s6->sin6_scope_id = ca->scope;
		memcpy(&s6->sin6_addr, ca->a.bytes, 16);
		return sizeof(*s6);
	}
	return 0;
}

/*
 * 1: a look-up is running; 0: the fact is settled ("unknown"); -1: out of
 * memory.
 */
static int
rescan_fetch(struct conn *c, enum conn_lookup what)
{
	uint64_t now = uv_now(&c->w->loop), left;
	struct sockaddr_storage a, l;
	char **slot = what == CONN_LOOKUP_CLIENT_NAME ? &c->client_name
	    : what == CONN_LOOKUP_SERVER_NAME         ? &c->server_name
	                                              : &c->user;

	if (now < c->deadline_ms) {
		left = c->deadline_ms - now;
		c->lookup = (uint8_t)what;
		if (what == CONN_LOOKUP_USER) {
			if (ca_sockaddr(&c->client, &a) != 0 &&
			    ca_sockaddr(&c->server, &l) != 0 &&
			    (c->lk.ident = lookup_ident_start(&c->w->loop,
			         (struct sockaddr *)&l, (struct sockaddr *)&a,
			         left, rescan_ident_cb, c)) != NULL)
				return 1;
		} else {
			const struct conn_addr *ca =
			    what == CONN_LOOKUP_CLIENT_NAME ? &c->client
			                                    : &c->server;

			if (ca_sockaddr(ca, &a) != 0 &&
			    (c->lk.name = lookup_name_start(&c->w->loop,
			         (struct sockaddr *)&a, left, rescan_name_cb,
			         c)) != NULL)
				return 1;
		}
	}
	c->lookup = CONN_LOOKUP_NONE;
	free(*slot);
	*slot = strdup(ACL_UNKNOWN);
	return *slot != NULL ? 0 : -1;
}

static void
conn_rescan(struct conn *c)
{
	struct acl_request req;
	struct acl_decision d;
	enum acl_status st;
	enum conn_lookup need;
	unsigned needs;

	for (;;) {
		conn_req(c, &req);
		st = acl_eval(c->snap->rules, &req, ACL_TABLE_DENY, &d);
		need = st == ACL_NEED_CLIENT_NAME ? CONN_LOOKUP_CLIENT_NAME
		    : st == ACL_NEED_SERVER_NAME  ? CONN_LOOKUP_SERVER_NAME
		    : st == ACL_NEED_USER         ? CONN_LOOKUP_USER
		                                  : CONN_LOOKUP_NONE;
		if (need == CONN_LOOKUP_NONE && d.rule != NULL) {
			needs = action_rule_needs(d.rule, req.daemon, NULL);
			if ((needs & ACL_NEEDS_CLIENT_NAME) &&
			    c->client_name == NULL)
				need = CONN_LOOKUP_CLIENT_NAME;
			else if ((needs & ACL_NEEDS_SERVER_NAME) &&
			    c->server_name == NULL)
				need = CONN_LOOKUP_SERVER_NAME;
			else if ((needs & ACL_NEEDS_USER) && c->user == NULL)
				need = CONN_LOOKUP_USER;
		}
		if (need == CONN_LOOKUP_NONE)
			break;
		switch (rescan_fetch(c, need)) {
		case 0:
			continue;
		case 1:
			return;
		default:
			conn_close(c, "out-of-memory");
			return;
		}
	}
	c->verdict = (uint8_t)d.verdict;
	c->rule = d.rule;
	if (d.table_error && d.rule == NULL) {
		c->err_file = d.error_file;
		c->err_line = d.error_line;
	}
	d.table = ACL_TABLE_DENY;
	conn_run(c, &d);
}
