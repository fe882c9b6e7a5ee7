/*
 * match_json.c - `wrapd match --json`: one object on one line.  The keys
 * are a contract (wrapd(8)): new ones may come, none is renamed or
 * removed.  Strings go through json.h; bytes the client gets (banners, the
 * on_deny reply) through json_bytes, so a NUL is \u0000.
 */
#include <string.h>

#include "cli_json.h"
#include "log.h"
#include "match.h"

/* ,"key": -- every member but an object's first. */
static void
match_json_next(FILE *fp, const char *key)
{
	fputc(',', fp);
	cli_json_key(fp, key);
}

static void
match_json_endpoint(
    FILE *fp, const char *addr, const struct match_side *s, int port)
{
	fputc('{', fp);
	cli_json_key(fp, "address");
	cli_json_str(fp, addr);
	match_json_next(fp, "name");
	cli_json_str(fp, s->resolved ? s->name : NULL);
	match_json_next(fp, "port");
	cli_json_uint(fp, port >= 0, port >= 0 ? (unsigned long)port : 0);
	fputc('}', fp);
}

/* "country", "asn", "geoip" (how each was found) and "fact_error". */
static void
match_json_geo(
    FILE *fp, const struct match_facts *f, const struct match_prediction *p)
{
	bool found_c = f->req.geo.country_state == ACL_GEO_FOUND;
	bool found_a = f->req.geo.asn_state == ACL_GEO_FOUND;

	match_json_next(fp, "country");
	cli_json_str(fp, found_c ? f->req.geo.country : NULL);
	match_json_next(fp, "asn");
	cli_json_uint(fp, found_a, f->req.geo.asn);
	match_json_next(fp, "geoip");
	fputc('{', fp);
	cli_json_key(fp, "country");
	cli_json_str(fp, match_facts_geo_state(f, ACL_GEO_COUNTRY, 1));
	match_json_next(fp, "asn");
	cli_json_str(fp, match_facts_geo_state(f, ACL_GEO_ASN, 1));
	fputc('}', fp);
	match_json_next(fp, "fact_error");
	fputs(!p->eval_failed && p->dec.fact_error ? "true" : "false", fp);
}

/* The request: daemon, client, name, user, server, lookups, service. */
static void
match_json_request(FILE *fp, const struct match_facts *f)
{
	match_json_next(fp, "daemon");
	cli_json_str(fp, f->req.daemon != NULL ? f->req.daemon : ACL_UNKNOWN);
	match_json_next(fp, "client");
	match_json_endpoint(fp,
	    f->req.client.addr.family != AF_UNSPEC ? f->client_addr : NULL,
	    &f->client, f->req.client.port);
	match_json_next(fp, "name");
	cli_json_str(fp, f->client.resolved ? f->client.name : NULL);
	match_json_next(fp, "user");
	cli_json_str(fp, f->req.user);
	match_json_next(fp, "server");
	match_json_endpoint(fp,
	    f->req.server.addr.family != AF_UNSPEC ? f->server_addr : NULL,
	    &f->server, f->req.server.port);
	match_json_next(fp, "lookups");
	fprintf(fp, "%d", f->lookups);
	match_json_next(fp, "service");
	cli_json_str(
	    fp, f->env->service != NULL ? f->env->service->name : NULL);
}

/* Is the service open now (null: no service, or no access_times)? */
static void
match_json_access_times(
    FILE *fp, const struct match_facts *f, const struct match_prediction *p)
{
	const struct conf_service *cs = f->env->service;

	match_json_next(fp, "access_times");
	if (cs == NULL || cs->naccess_times == 0)
		fputs("null", fp);
	else
		fputs(p->closed ? "false" : "true", fp);
}

/* table_error, error_file, error_line: where a table or a fact decided. */
static void
match_json_errors(FILE *fp, const struct match_prediction *p)
{
	bool table = !p->eval_failed && p->dec.table_error;
	bool where = table || (!p->eval_failed && p->dec.fact_error);

	match_json_next(fp, "table_error");
	fputs(table ? "true" : "false", fp);
	match_json_next(fp, "error_file");
	cli_json_str(fp, where ? p->dec.error_file : NULL);
	match_json_next(fp, "error_line");
	cli_json_uint(fp, where, p->dec.error_line);
}

/* The members a plan step adds to its option's object. */
static void
match_json_step(FILE *fp, const struct match_prediction *p, size_t i)
{
	const struct action_step *st = &p->plan.steps[i];
	const char *env;

	switch (st->kind) {
	case ACTION_STEP_SEND:
		if (st->text != NULL) {
			match_json_next(fp, "expanded");
			cli_json_bytes(fp, st->text, st->len);
		}
		match_json_next(fp, "file");
		cli_json_str(fp, st->path);
		match_json_next(fp, "exists");
		fputs(p->banner_exists[i] ? "true" : "false", fp);
		break;
	case ACTION_STEP_SETENV:
		match_json_next(fp, "expanded");
		cli_json_str(fp, st->text);
		if ((env = match_predict_env(&p->plan, i)) != NULL) {
			match_json_next(fp, "env");
			cli_json_str(fp, env);
		}
		break;
	case ACTION_STEP_KEEPALIVE:
		break;
	default: /* a command: shown, never run */
		match_json_next(fp, "expanded");
		cli_json_str(fp, st->text);
		match_json_next(fp, "run");
		fputs("false", fp);
		if (st->kind == ACTION_STEP_ACLEXEC) {
			match_json_next(fp, "assumed_exit");
			fputs("0", fp);
		}
		break;
	}
}

static void
match_json_option(
    FILE *fp, const struct match_prediction *p, const struct acl_option *o)
{
	bool reached = match_predict_reached(p, o);
	size_t i;

	fputc('{', fp);
	cli_json_key(fp, "name");
	cli_json_str(fp, acl_parse_opt_name(o->kind));
	match_json_next(fp, "value");
	cli_json_str(fp, o->value);
	match_json_next(fp, "reached");
	fputs(reached ? "true" : "false", fp);
	for (i = 0; reached && i < p->plan.nsteps; i++)
		if (p->plan.steps[i].opt == o)
			match_json_step(fp, p, i);
	if (p->plan.failed == o) {
		match_json_next(fp, "error");
		cli_json_str(fp, p->plan.reason);
	}
	fputc('}', fp);
}

static void
match_json_options(FILE *fp, const struct match_prediction *p)
{
	const struct acl_rule *rule = p->dec.rule;
	const struct action_plan *plan = &p->plan;
	size_t i;

	match_json_next(fp, "option_error");
	cli_json_str(fp, rule != NULL ? rule->opt_error : NULL);
	match_json_next(fp, "option_error_col");
	cli_json_uint(fp, rule != NULL && rule->opt_error != NULL,
	    rule != NULL ? rule->opt_error_col : 0);
	match_json_next(fp, "options");
	fputc('[', fp);
	for (i = 0; rule != NULL && i < rule->nopts; i++) {
		if (i > 0)
			fputc(',', fp);
		match_json_option(fp, p, &rule->opts[i]);
	}
	fputc(']', fp);
	match_json_next(fp, "notes");
	fputc('[', fp);
	for (i = 0; i < plan->nnotes; i++) {
		fputs(i > 0 ? ",{" : "{", fp);
		cli_json_key(fp, "option");
		cli_json_str(fp, acl_parse_opt_name(plan->notes[i].opt));
		match_json_next(fp, "priority");
		cli_json_str(fp, log_prio_name(plan->notes[i].prio));
		match_json_next(fp, "text");
		cli_json_str(fp, plan->notes[i].text);
		fputc('}', fp);
	}
	fputc(']', fp);
}

/* What the client gets from wrapd, and the service's on_deny. */
static void
match_json_sent(
    FILE *fp, const struct match_facts *f, const struct match_prediction *p)
{
	const struct conf_service *cs = f->env->service;

	match_json_next(fp, "sent");
	cli_json_bytes(fp, p->sent != NULL ? p->sent : "", p->sent_len);
	match_json_next(fp, "on_deny");
	if (cs == NULL || p->verdict != ACL_DENY) {
		fputs("null", fp);
		return;
	}
	fputc('{', fp);
	cli_json_key(fp, "reply");
	if (p->reply)
		cli_json_bytes(fp, cs->on_deny.reply, cs->on_deny.reply_len);
	else
		fputs("null", fp);
	match_json_next(fp, "finger");
	fputs(cs->on_deny.finger ? "true" : "false", fp);
	match_json_next(fp, "mail");
	cli_json_str(fp, cs->on_deny.mail);
	fputc('}', fp);
}

void
match_json_print(
    FILE *fp, const struct match_facts *f, const struct match_prediction *p)
{
	const struct acl_rule *rule = p->dec.rule;

	fputc('{', fp);
	cli_json_key(fp, "verdict");
	cli_json_str(fp, match_predict_word(p->verdict, 1));
	match_json_next(fp, "reason");
	cli_json_str(fp, p->reason);
	match_json_next(fp, "priority");
	cli_json_str(fp, log_prio_name(p->prio));
	match_json_next(fp, "table");
	cli_json_str(
	    fp, p->eval_failed ? NULL : match_predict_table(p->dec.table));
	match_json_next(fp, "file");
	cli_json_str(fp, rule != NULL ? rule->file : NULL);
	match_json_next(fp, "line");
	cli_json_uint(fp, rule != NULL, rule != NULL ? rule->line : 0);
	match_json_next(fp, "rule");
	cli_json_str(fp, rule != NULL ? rule->text : NULL);
	match_json_request(fp, f);
	match_json_access_times(fp, f, p);
	match_json_errors(fp, p);
	match_json_geo(fp, f, p);
	match_json_options(fp, p);
	match_json_sent(fp, f, p);
	if (f->env->expand != NULL) {
		match_json_next(fp, "expanded");
		cli_json_str(fp, p->expanded);
		if (p->expanded == NULL) {
			match_json_next(fp, "expand_error");
			cli_json_str(fp, p->expand_error);
		}
	}
	fputc('}', fp);
}
