/*
 * match_text.c - `wrapd match`'s readable output: one `label: value` line
 * per fact, the rule and each of its options as the daemon would carry it
 * out, and last exactly one `access: granted|denied|delegated` line
 * (wrapd(8) makes that a contract).  Every byte from outside (names, rule
 * text, banner bytes) goes through cli_text(): one item stays one line.
 */
#include <string.h>
#include <syslog.h>

#include "cli_text.h"
#include "log.h"
#include "match.h"

static void
match_text_line(FILE *fp, const char *label, const char *s)
{
	fprintf(fp, "%-9s ", label);
	cli_text(fp, s);
	fputc('\n', fp);
}

/*
 * Bytes the client gets, one line per CR LF-ended line (the daemon ends
 * every banner line so), other control bytes escaped.
 */
static void
match_text_bytes(FILE *fp, const char *label, const char *b, size_t n)
{
	const char *end = b + n, *crlf;

	while (b < end) {
		crlf = memmem(b, (size_t)(end - b), "\r\n", 2);
		fprintf(fp, "%-9s ", label);
		cli_text_n(fp, b,
		    crlf != NULL ? (size_t)(crlf - b) : (size_t)(end - b));
		fputc('\n', fp);
		if (crlf == NULL) {
			fputs("note:     the last line has no CR LF\n", fp);
			break;
		}
		b = crlf + 2;
	}
}

static void
match_text_side(FILE *fp, const char *side, const char *addr,
    const struct match_side *s, int port, bool show_addr)
{
	if (show_addr)
		fprintf(fp, "%-9s address  %s\n", side, addr);
	if (s->resolved) {
		fprintf(fp, "%-9s hostname ", side);
		cli_text(fp, s->name);
		fputc('\n', fp);
	}
	if (port >= 0)
		fprintf(fp, "%-9s port     %d\n", side, port);
}

static void
match_text_geo(FILE *fp, const struct match_facts *f)
{
	if (!f->geo_shown)
		return;
	/* A found country is two letters: checked when opened. */
	if (f->req.geo.country_state == ACL_GEO_FOUND)
		fprintf(fp, "client:   country  %s\n", f->req.geo.country);
	else
		fprintf(fp, "client:   country  %s\n",
		    match_facts_geo_state(f, ACL_GEO_COUNTRY, 0));
	if (f->req.geo.asn_state == ACL_GEO_FOUND)
		fprintf(fp, "client:   asn      %lu\n",
		    (unsigned long)f->req.geo.asn);
	else
		fprintf(fp, "client:   asn      %s\n",
		    match_facts_geo_state(f, ACL_GEO_ASN, 0));
}

static void
match_text_request(FILE *fp, const struct match_facts *f)
{
	match_text_side(fp, "client:", f->client_addr, &f->client,
	    f->req.client.port, true);
	if (f->req.user != NULL) {
		fputs("client:   username ", fp);
		cli_text(fp, f->req.user);
		fputc('\n', fp);
	}
	match_text_geo(fp, f);
	match_text_side(fp, "server:", f->server_addr, &f->server,
	    f->req.server.port, f->req.server.addr.family != AF_UNSPEC);
	fputs("server:   process  ", fp);
	cli_text(fp, f->req.daemon != NULL ? f->req.daemon : ACL_UNKNOWN);
	fputc('\n', fp);
	if (f->env->service != NULL)
		match_text_line(fp, "service:", f->env->service->name);
	if (f->lookups > 0)
		fprintf(fp, "lookups:  %d DNS look-up(s) made\n", f->lookups);
}

/* Why no rule decided: the evaluation, a table, or a GeoIP fact. */
static void
match_text_errors(FILE *fp, const struct match_prediction *p)
{
	const struct acl_decision *d = &p->dec;

	if (p->eval_failed) {
		fputs("error:    evaluation did not complete\n", fp);
	} else if (d->table_error) {
		fprintf(fp, "error:    %s table unusable at ",
		    match_predict_table(d->table));
		cli_text(fp, d->error_file != NULL ? d->error_file : "?");
		fprintf(fp, ":%u (libwrap stops reading the table there)\n",
		    d->error_line);
	} else if (d->fact_error) {
		fputs(
		    "error:    no answer for the GeoIP fact a pattern of ", fp);
		cli_text(fp, d->error_file != NULL ? d->error_file : "?");
		fprintf(fp, ":%u needs (wrapd denies there)\n", d->error_line);
	}
}

/* A plan step: what the daemon does for its option. */
static void
match_text_step(FILE *fp, const struct match_prediction *p, size_t i)
{
	const struct action_step *st = &p->plan.steps[i];
	const char *env;

	switch (st->kind) {
	case ACTION_STEP_SEND:
		fputs("banner:   ", fp);
		cli_text(fp, st->path != NULL ? st->path : "");
		fputs(p->banner_exists[i] ? "\n" : " (no such file)\n", fp);
		if (st->text != NULL)
			match_text_bytes(fp, "banner: |", st->text, st->len);
		break;
	case ACTION_STEP_SETENV:
		if ((env = match_predict_env(&p->plan, i)) != NULL)
			match_text_line(fp, "env:", env);
		break;
	case ACTION_STEP_KEEPALIVE:
		fputs("note:     SO_KEEPALIVE set on the client socket\n", fp);
		break;
	case ACTION_STEP_ACLEXEC:
		match_text_line(fp, "command:", st->text);
		fputs("note:     aclexec not run (dry run); assuming exit "
		      "status 0\n",
		    fp);
		break;
	default:
		match_text_line(fp, "command:", st->text);
		fputs("note:     not run (dry run)\n", fp);
		break;
	}
}

static void
match_text_option(
    FILE *fp, const struct match_prediction *p, const struct acl_option *o)
{
	bool reached = match_predict_reached(p, o);
	size_t i;

	fprintf(fp, "option:   %s", acl_parse_opt_name(o->kind));
	if (o->value != NULL) {
		fputc(' ', fp);
		cli_text(fp, o->value);
	}
	fputc('\n', fp);
	if (!reached) {
		fputs("note:     not reached: an earlier option denies\n", fp);
		return;
	}
	for (i = 0; i < p->plan.nsteps; i++)
		if (p->plan.steps[i].opt == o)
			match_text_step(fp, p, i);
	if (p->plan.failed == o)
		fprintf(fp, "error:    %s: %s (libwrap denies)\n",
		    acl_parse_opt_name(o->kind), p->plan.reason);
}

static void
match_text_rule(FILE *fp, const struct match_prediction *p)
{
	const struct acl_rule *rule = p->dec.rule;
	const struct action_plan *plan = &p->plan;
	size_t i;

	fprintf(fp, "matched:  %s table, ", match_predict_table(p->dec.table));
	cli_text(fp, rule->file);
	fprintf(fp, ":%u\n", rule->line);
	match_text_line(fp, "rule:", rule->text);
	for (i = 0; i < rule->nopts; i++)
		match_text_option(fp, p, &rule->opts[i]);
	for (i = 0; i < plan->nnotes; i++) {
		fprintf(fp,
		    "log:      %s: %s: ", log_prio_name(plan->notes[i].prio),
		    acl_parse_opt_name(plan->notes[i].opt));
		cli_text(fp, plan->notes[i].text);
		fputc('\n', fp);
	}
	if (rule->opt_error != NULL) {
		fputs("error:    option error at ", fp);
		cli_text(fp, rule->file);
		fprintf(fp, ":%u:%u: ", rule->line, rule->opt_error_col);
		cli_text(fp, rule->opt_error);
		fputs(" (libwrap denies)\n", fp);
	}
}

/* The service's on_deny, when the daemon would run it. */
static void
match_text_on_deny(
    FILE *fp, const struct match_facts *f, const struct match_prediction *p)
{
	const struct conf_service *cs = f->env->service;

	if (cs == NULL || p->verdict != ACL_DENY)
		return;
	if (p->reply)
		match_text_bytes(
		    fp, "reply:  |", cs->on_deny.reply, cs->on_deny.reply_len);
	if (cs->on_deny.finger)
		fputs(
		    "note:     on_deny finger query (not made: dry run)\n", fp);
	if (cs->on_deny.mail != NULL)
		match_text_line(fp, "mail:", cs->on_deny.mail);
}

void
match_text_print(
    FILE *fp, const struct match_facts *f, const struct match_prediction *p)
{
	match_text_request(fp, f);
	match_text_errors(fp, p);
	if (p->closed)
		fputs("matched:  no rule: outside the service's access_times "
		      "(wrapd denies before the rules)\n",
		    fp);
	else if (p->dec.rule != NULL)
		match_text_rule(fp, p);
	else if (!p->dec.table_error && !p->dec.fact_error)
		fputs("matched:  no rule matched\n", fp);
	match_text_on_deny(fp, f, p);
	if (f->env->expand != NULL) {
		if (p->expanded != NULL)
			match_text_line(fp, "expanded:", p->expanded);
		else
			fprintf(
			    fp, "error:    --expand: %s\n", p->expand_error);
	}
	if (p->reason != NULL)
		match_text_line(fp, "reason:", p->reason);
	fprintf(fp, "priority: %s\n", log_prio_name(p->prio));
	fprintf(fp, "access: %s\n", match_predict_word(p->verdict, 0));
}
