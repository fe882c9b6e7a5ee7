/*
 * cmd_match.c - `wrapd match`: predict the decision for one request, the way
 * tcpdmatch(8) does, with the same rule engine the proxy uses.
 *
 * The output format is a contract used by external tests (see wrapd(8)):
 * readable lines ending in exactly one `access: granted|denied|delegated`,
 * or with --json one JSON object on one line.  Exit 0 whenever the
 * prediction ran, whatever the verdict; 2 on usage errors.
 *
 * Like tcpdmatch this is a dry run: spawn, twist and aclexec commands are
 * expanded and shown, never run; aclexec is assumed to exit 0.
 *
 * With --geoip-country / --geoip-asn the client is looked up in those
 * databases up front, as the proxy does, and the answers are shown; a
 * country= or asn= pattern reached without its database has no answer,
 * and the request is denied there, as wrapd would refuse such rules.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acl.h"
#include "cli_json.h"
#include "cli_resolve.h"
#include "cli_text.h"
#include "commands.h"
#include "geoip.h"

/* Room for one expansion (libwrap's BUFSIZ) plus our NUL. */
#define MATCH_EXPAND_BUF (ACL_EXPAND_MAX + 1)
/* How much of a banner file `match` shows. */
#define MATCH_BANNER_MAX 4096

struct match_side {
	const char *addr_text;     /* as given, or NULL */
	const char *name_opt;      /* --name / --server-name, or NULL */
	char name[ACL_STRING_MAX]; /* the name in use, once known */
	int resolved;              /* 1 once name[] is filled */
};

struct match_ctx {
	struct acl_request req;
	struct match_side client, server;
	char daemon[ACL_STRING_MAX];
	char user[ACL_STRING_MAX];
	const char *user_opt;
	int user_asked;     /* the engine asked for the user at least once */
	int lookups;        /* DNS look-ups made (for the output) */
	struct geoip geo;   /* the databases given that could be opened */
	unsigned geo_given; /* enum acl_geo_bits of --geoip-* */
	bool geo_shown;     /* a database was given, or the engine asked */
};

static void
match_usage(FILE *fp)
{
	fputs("usage: wrapd match [--allow FILE] [--deny FILE] [--name NAME] "
	      "[--user USER]\n"
	      "                   [--server ADDR] [--server-name NAME] "
	      "[--server-port N]\n"
	      "                   [--client-port N] [--expand TEMPLATE] "
	      "[--json]\n"
	      "                   [--geoip-country FILE] [--geoip-asn FILE] "
	      "[--]\n"
	      "                   DAEMON CLIENT_ADDR\n",
	    fp);
}

static int
match_parse_port(const char *s, int *port)
{
	char *end;
	long v;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < 0 || v > 65535)
		return -1;
	*port = (int)v;
	return 0;
}

/* Address text: numeric IPv4/IPv6 (also ::ffff:a.b.c.d) or `unknown`. */
static int
match_parse_addr(const char *s, struct acl_addr *a)
{
	if (strcmp(s, ACL_UNKNOWN) == 0) {
		memset(a, 0, sizeof(*a));
		a->family = AF_UNSPEC;
		return 0;
	}
	return acl_addr_parse(a, s);
}


/* The host name of one side: given, or looked up now (the slow path). */
static const char *
match_side_name(
    struct match_ctx *m, struct match_side *side, const struct acl_endpoint *ep)
{
	struct sockaddr_storage ss;

	if (side->resolved)
		return side->name;
	if (side->name_opt != NULL) {
		acl_request_copy_string(side->name, sizeof(side->name), side->name_opt);
	} else if (acl_addr_to_sockaddr(&ep->addr, 0, 0, &ss) > 0) {
		m->lookups++;
		cli_resolve_name((const struct sockaddr *)&ss, side->name,
		    sizeof(side->name));
	} else {
		acl_request_copy_string(side->name, sizeof(side->name), ACL_UNKNOWN);
	}
	side->resolved = 1;
	return side->name;
}

/* Answer one ACL_NEED_* question.  Returns -1 for an unknown status. */
static int
match_supply(struct match_ctx *m, int need)
{
	switch (need) {
	case ACL_NEED_CLIENT_NAME:
		m->req.client.name =
		    match_side_name(m, &m->client, &m->req.client);
		return 0;
	case ACL_NEED_SERVER_NAME:
		m->req.server.name =
		    match_side_name(m, &m->server, &m->req.server);
		return 0;
	case ACL_NEED_USER:
		/* No ident from a command line: the user is what was given. */
		m->user_asked = 1;
		acl_request_copy_string(m->user, sizeof(m->user),
		    m->user_opt != NULL ? m->user_opt : ACL_UNKNOWN);
		m->req.user = m->user;
		return 0;
	case ACL_NEED_GEO:
		/* Asked for only without the database: no answer. */
		m->geo_shown = true;
		if (m->req.geo.country_state == ACL_GEO_UNASKED)
			m->req.geo.country_state = ACL_GEO_FAILED;
		if (m->req.geo.asn_state == ACL_GEO_UNASKED)
			m->req.geo.asn_state = ACL_GEO_FAILED;
		return 0;
	default:
		return -1;
	}
}

/* Look the client up in every database given, to decide and to show. */
static void
match_geo_lookup(struct match_ctx *m)
{
	if (m->geo_given != 0)
		m->geo_shown = true;
	if (m->geo_given & ACL_GEO_COUNTRY)
		geoip_db_lookup(m->geo.country, GEOIP_COUNTRY,
		    &m->req.client.addr, &m->req.geo);
	if (m->geo_given & ACL_GEO_ASN)
		geoip_db_lookup(
		    m->geo.asn, GEOIP_ASN, &m->req.client.addr, &m->req.geo);
}

/*
 * A GeoIP fact for people: the value, or why there is none (JSON: a word).
 */
static const char *
match_geo_state(const struct match_ctx *m, unsigned fact, int json)
{
	enum acl_geo_state st = fact == ACL_GEO_COUNTRY
	    ? m->req.geo.country_state
	    : m->req.geo.asn_state;
	bool have =
	    (fact == ACL_GEO_COUNTRY ? m->geo.country : m->geo.asn) != NULL;

	switch (st) {
	case ACL_GEO_FOUND:
		return "found";
	case ACL_GEO_NONE:
		return json ? "none" : "none (in no network of the database)";
	case ACL_GEO_FAILED:
		if (have)
			return json ? "failed" : "unknown (the look-up failed)";
		if (!(m->geo_given & fact))
			return json ? "no-database"
			    : fact == ACL_GEO_COUNTRY
			    ? "unknown (no database: --geoip-country)"
			    : "unknown (no database: --geoip-asn)";
		return json ? "no-database"
		            : "unknown (the database could not be used)";
	default:
		return json ? "not-looked-up" : "not looked up";
	}
}

/*
 * Expand tmpl, answering the engine's questions.  Returns 0, or -1 with
 * *why set when the expansion cannot be done.
 */
static int
match_expand(struct match_ctx *m, const char *tmpl, char *out, size_t outsz,
    const char **why)
{
	int rc, i;

	/* Each fact is asked for at most once; 4 rounds are plenty. */
	for (i = 0; i < 4; i++) {
		rc = acl_expand(tmpl, &m->req, out, outsz);
		if (rc == ACL_DONE)
			return 0;
		if (rc < 0) {
			*why = errno == E2BIG
			    ? "expansion longer than 8191 bytes (libwrap exits)"
			    : "expansion failed";
			return -1;
		}
		if (match_supply(m, rc) != 0)
			break;
	}
	*why = "expansion did not converge";
	return -1;
}

static int
match_eval(
    struct match_ctx *m, const struct acl_ruleset *rs, struct acl_decision *dec)
{
	enum acl_status st;
	int i;

	for (i = 0; i < 4; i++) {
		st = acl_eval(rs, &m->req, ACL_TABLE_ALLOW, dec);
		if (st == ACL_DONE)
			return 0;
		if (match_supply(m, (int)st) != 0)
			return -1;
	}
	return -1;
}

static int
match_opt_expands(enum acl_opt_kind k)
{
	return k == ACL_OPT_SPAWN || k == ACL_OPT_TWIST ||
	    k == ACL_OPT_ACLEXEC || k == ACL_OPT_SETENV;
}

/* One option as it would run: its expansion or other details. */
struct match_optview {
	const struct acl_option *opt;
	char *expanded;  /* for expanding options and banners, or NULL */
	const char *err; /* why it could not be expanded */
	char banner_path[PATH_MAX];
	int banner_state; /* -1 no file, 0 n/a, 1 read */
};

/* Read and expand a banner file as libwrap's banners option would. */
static void
match_banner(struct match_ctx *m, struct match_optview *v)
{
	FILE *fp;
	char line[MATCH_BANNER_MAX];
	char *exp, *out;
	size_t used = 0, n;
	const char *why;

	snprintf(v->banner_path, sizeof(v->banner_path), "%s/%s",
	    v->opt->value != NULL ? v->opt->value : "",
	    m->req.daemon != NULL ? m->req.daemon : ACL_UNKNOWN);
	fp = fopen(v->banner_path, "r");
	if (fp == NULL) {
		v->banner_state = -1;
		return;
	}
	v->banner_state = 1;
	out = calloc(1, MATCH_BANNER_MAX + 1);
	exp = malloc(MATCH_EXPAND_BUF);
	if (out == NULL || exp == NULL) {
		free(out);
		free(exp);
		fclose(fp);
		v->err = "out of memory";
		return;
	}
	while (used < MATCH_BANNER_MAX && fgets(line, sizeof(line), fp)) {
		if (match_expand(m, line, exp, MATCH_EXPAND_BUF, &why) != 0) {
			v->err = why;
			break;
		}
		n = strlen(exp);
		if (n > MATCH_BANNER_MAX - used)
			n = MATCH_BANNER_MAX - used;
		memcpy(out + used, exp, n);
		used += n;
	}
	out[used] = '\0';
	free(exp);
	fclose(fp);
	v->expanded = out;
}

static void
match_view_options(struct match_ctx *m, const struct acl_rule *rule,
    struct match_optview *views)
{
	size_t i;
	char *buf;

	for (i = 0; i < rule->nopts; i++) {
		struct match_optview *v = &views[i];

		memset(v, 0, sizeof(*v));
		v->opt = &rule->opts[i];
		if (v->opt->kind == ACL_OPT_BANNERS) {
			match_banner(m, v);
			continue;
		}
		if (!match_opt_expands(v->opt->kind) || v->opt->value == NULL)
			continue;
		buf = malloc(MATCH_EXPAND_BUF);
		if (buf == NULL) {
			v->err = "out of memory";
			continue;
		}
		if (match_expand(m, v->opt->value, buf, MATCH_EXPAND_BUF,
		        &v->err) != 0) {
			free(buf);
			continue;
		}
		v->expanded = buf;
	}
}

static const char *
match_verdict_word(enum acl_verdict v, int json)
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

static const char *
match_table_name(enum acl_table t)
{
	return t == ACL_TABLE_ALLOW ? "allow"
	    : t == ACL_TABLE_DENY   ? "deny"
	                            : NULL;
}

static void
match_line(FILE *fp, const char *label, const char *s)
{
	fprintf(fp, "%-9s ", label);
	cli_text(fp, s);
	fputc('\n', fp);
}

struct match_result {
	struct acl_decision dec;
	int eval_failed;
	struct match_optview *views;
	size_t nviews;
	const char *expand_tmpl;
	char *expand_out;
	const char *expand_err;
	char client_addr[64], server_addr[64];
};

/*
 * The final verdict: the engine's decision, except that an expansion that
 * libwrap could not do (over-long: it exits) ends the request too.
 */
static enum acl_verdict
match_final(const struct match_result *r)
{
	size_t i;

	if (r->eval_failed)
		return ACL_DENY;
	for (i = 0; i < r->nviews; i++)
		if (r->views[i].err != NULL &&
		    r->views[i].opt->kind != ACL_OPT_BANNERS)
			return ACL_DENY;
	return r->dec.verdict;
}

/* How an option's expansion is used: a command, NAME=VALUE, banner text. */
static void
match_print_expanded(FILE *fp, const struct match_optview *v)
{
	const char *p, *nl;
	size_t n;

	switch (v->opt->kind) {
	case ACL_OPT_SETENV:
		/* libwrap: name up to the first blank, value trimmed. */
		n = strcspn(v->expanded, " \t\r\n");
		p = v->expanded + n;
		p += strspn(p, " \t\r\n");
		fputs("env:      ", fp);
		fwrite(v->expanded, 1, n, fp);
		fputc('=', fp);
		n = strlen(p);
		while (n > 0 && strchr(" \t\r\n", p[n - 1]) != NULL)
			n--;
		cli_text_n(fp, p, n);
		fputc('\n', fp);
		break;
	case ACL_OPT_BANNERS:
		for (p = v->expanded; *p != '\0'; p = nl + (*nl != '\0')) {
			char line[MATCH_BANNER_MAX + 1];

			nl = p + strcspn(p, "\n");
			n = (size_t)(nl - p);
			memcpy(line, p, n);
			line[n] = '\0';
			match_line(fp, "banner: |", line);
		}
		break;
	default:
		match_line(fp, "command:", v->expanded);
		break;
	}
}

static void
match_print_text(
    const struct match_ctx *m, const struct match_result *r, FILE *fp)
{
	const struct acl_rule *rule = r->dec.rule;
	char buf[64];
	size_t i;

	fprintf(fp, "client:   address  %s\n", r->client_addr);
	if (m->client.resolved) {
		fputs("client:   hostname ", fp);
		cli_text(fp, m->client.name);
		fputc('\n', fp);
	}
	if (m->req.user != NULL) {
		fputs("client:   username ", fp);
		cli_text(fp, m->req.user);
		fputc('\n', fp);
	}
	if (m->req.client.port >= 0)
		fprintf(fp, "client:   port     %d\n", m->req.client.port);
	if (m->geo_shown) {
		/* A found country is two letters: checked when opened. */
		if (m->req.geo.country_state == ACL_GEO_FOUND)
			fprintf(
			    fp, "client:   country  %s\n", m->req.geo.country);
		else
			fprintf(fp, "client:   country  %s\n",
			    match_geo_state(m, ACL_GEO_COUNTRY, 0));
		if (m->req.geo.asn_state == ACL_GEO_FOUND)
			fprintf(fp, "client:   asn      %lu\n",
			    (unsigned long)m->req.geo.asn);
		else
			fprintf(fp, "client:   asn      %s\n",
			    match_geo_state(m, ACL_GEO_ASN, 0));
	}
	if (m->req.server.addr.family != AF_UNSPEC)
		fprintf(fp, "server:   address  %s\n", r->server_addr);
	if (m->server.resolved) {
		fputs("server:   hostname ", fp);
		cli_text(fp, m->server.name);
		fputc('\n', fp);
	}
	if (m->req.server.port >= 0)
		fprintf(fp, "server:   port     %d\n", m->req.server.port);
	fputs("server:   process  ", fp);
	cli_text(fp, m->req.daemon != NULL ? m->req.daemon : ACL_UNKNOWN);
	fputc('\n', fp);
	if (m->lookups > 0)
		fprintf(fp, "lookups:  %d DNS look-up(s) made\n", m->lookups);

	if (r->eval_failed) {
		fputs("error:    evaluation did not complete\n", fp);
	} else if (r->dec.table_error) {
		fprintf(fp, "error:    %s table unusable at ",
		    match_table_name(r->dec.table));
		cli_text(
		    fp, r->dec.error_file != NULL ? r->dec.error_file : "?");
		fprintf(fp, ":%u (libwrap stops reading the table there)\n",
		    r->dec.error_line);
	} else if (r->dec.fact_error) {
		fputs(
		    "error:    no answer for the GeoIP fact a pattern of ", fp);
		cli_text(
		    fp, r->dec.error_file != NULL ? r->dec.error_file : "?");
		fprintf(
		    fp, ":%u needs (wrapd denies there)\n", r->dec.error_line);
	}
	if (rule == NULL) {
		if (!r->dec.table_error && !r->dec.fact_error)
			fputs("matched:  no rule matched\n", fp);
	} else {
		fprintf(
		    fp, "matched:  %s table, ", match_table_name(r->dec.table));
		cli_text(fp, rule->file);
		fprintf(fp, ":%u\n", rule->line);
		match_line(fp, "rule:", rule->text);
		for (i = 0; i < r->nviews; i++) {
			const struct match_optview *v = &r->views[i];

			fprintf(fp, "option:   %s", acl_parse_opt_name(v->opt->kind));
			if (v->opt->value != NULL) {
				fputc(' ', fp);
				cli_text(fp, v->opt->value);
			}
			fputc('\n', fp);
			if (v->opt->kind == ACL_OPT_BANNERS) {
				fputs("banner:   ", fp);
				cli_text(fp, v->banner_path);
				fputs(v->banner_state < 0 ? " (no such file)\n"
				                          : "\n",
				    fp);
			}
			if (v->err != NULL)
				fprintf(fp, "error:    %s: %s\n",
				    acl_parse_opt_name(v->opt->kind), v->err);
			else if (v->expanded != NULL)
				match_print_expanded(fp, v);
			if (v->opt->kind == ACL_OPT_ACLEXEC)
				fputs("note:     aclexec not run (dry run); "
				      "assuming exit status 0\n",
				    fp);
			else if (v->opt->kind == ACL_OPT_SPAWN ||
			    v->opt->kind == ACL_OPT_TWIST)
				fputs("note:     not run (dry run)\n", fp);
		}
		if (rule->opt_error != NULL) {
			snprintf(buf, sizeof(buf), "%u", rule->opt_error_col);
			fputs("error:    option error at ", fp);
			cli_text(fp, rule->file);
			fprintf(fp, ":%u:%s: ", rule->line, buf);
			cli_text(fp, rule->opt_error);
			fputs(" (libwrap denies)\n", fp);
		}
	}
	if (r->expand_tmpl != NULL) {
		if (r->expand_out != NULL)
			match_line(fp, "expanded:", r->expand_out);
		else
			fprintf(fp, "error:    --expand: %s\n", r->expand_err);
	}
	fprintf(fp, "access: %s\n", match_verdict_word(match_final(r), 0));
}

static void
match_print_endpoint(
    FILE *fp, const char *addr, const struct match_side *s, int port)
{
	fputc('{', fp);
	cli_json_key(fp, "address");
	cli_json_str(fp, addr);
	fputc(',', fp);
	cli_json_key(fp, "name");
	cli_json_str(fp, s->resolved ? s->name : NULL);
	fputc(',', fp);
	cli_json_key(fp, "port");
	cli_json_uint(fp, port >= 0, port >= 0 ? (unsigned long)port : 0);
	fputc('}', fp);
}

/* "country", "asn", "geoip" (how each was found) and "fact_error". */
static void
match_print_json_geo(
    const struct match_ctx *m, const struct match_result *r, FILE *fp)
{
	bool found_c = m->req.geo.country_state == ACL_GEO_FOUND;
	bool found_a = m->req.geo.asn_state == ACL_GEO_FOUND;

	cli_json_key(fp, "country");
	cli_json_str(fp, found_c ? m->req.geo.country : NULL);
	fputc(',', fp);
	cli_json_key(fp, "asn");
	cli_json_uint(fp, found_a, m->req.geo.asn);
	fputc(',', fp);
	cli_json_key(fp, "geoip");
	fputc('{', fp);
	cli_json_key(fp, "country");
	cli_json_str(fp, match_geo_state(m, ACL_GEO_COUNTRY, 1));
	fputc(',', fp);
	cli_json_key(fp, "asn");
	cli_json_str(fp, match_geo_state(m, ACL_GEO_ASN, 1));
	fputs("},", fp);
	cli_json_key(fp, "fact_error");
	fputs(!r->eval_failed && r->dec.fact_error ? "true," : "false,", fp);
}

static void
match_print_json(
    const struct match_ctx *m, const struct match_result *r, FILE *fp)
{
	const struct acl_rule *rule = r->dec.rule;
	size_t i;

	fputc('{', fp);
	cli_json_key(fp, "verdict");
	cli_json_str(fp, match_verdict_word(match_final(r), 1));
	fputc(',', fp);
	cli_json_key(fp, "table");
	cli_json_str(
	    fp, r->eval_failed ? NULL : match_table_name(r->dec.table));
	fputc(',', fp);
	cli_json_key(fp, "file");
	cli_json_str(fp, rule != NULL ? rule->file : NULL);
	fputc(',', fp);
	cli_json_key(fp, "line");
	cli_json_uint(fp, rule != NULL, rule != NULL ? rule->line : 0);
	fputc(',', fp);
	cli_json_key(fp, "rule");
	cli_json_str(fp, rule != NULL ? rule->text : NULL);
	fputc(',', fp);
	cli_json_key(fp, "daemon");
	cli_json_str(fp, m->req.daemon != NULL ? m->req.daemon : ACL_UNKNOWN);
	fputc(',', fp);
	cli_json_key(fp, "client");
	match_print_endpoint(fp,
	    m->req.client.addr.family != AF_UNSPEC ? r->client_addr : NULL,
	    &m->client, m->req.client.port);
	fputc(',', fp);
	cli_json_key(fp, "name");
	cli_json_str(fp, m->client.resolved ? m->client.name : NULL);
	fputc(',', fp);
	cli_json_key(fp, "user");
	cli_json_str(fp, m->req.user);
	fputc(',', fp);
	cli_json_key(fp, "server");
	match_print_endpoint(fp,
	    m->req.server.addr.family != AF_UNSPEC ? r->server_addr : NULL,
	    &m->server, m->req.server.port);
	fputc(',', fp);
	cli_json_key(fp, "lookups");
	fprintf(fp, "%d,", m->lookups);
	cli_json_key(fp, "table_error");
	fputs(!r->eval_failed && r->dec.table_error ? "true," : "false,", fp);
	cli_json_key(fp, "error_file");
	cli_json_str(fp,
	    !r->eval_failed && (r->dec.table_error || r->dec.fact_error)
	        ? r->dec.error_file
	        : NULL);
	fputc(',', fp);
	cli_json_key(fp, "error_line");
	cli_json_uint(fp,
	    !r->eval_failed && (r->dec.table_error || r->dec.fact_error),
	    r->dec.error_line);
	fputc(',', fp);
	match_print_json_geo(m, r, fp);
	cli_json_key(fp, "option_error");
	cli_json_str(fp, rule != NULL ? rule->opt_error : NULL);
	fputc(',', fp);
	cli_json_key(fp, "option_error_col");
	cli_json_uint(fp, rule != NULL && rule->opt_error != NULL,
	    rule != NULL ? rule->opt_error_col : 0);
	fputc(',', fp);
	cli_json_key(fp, "options");
	fputc('[', fp);
	for (i = 0; i < r->nviews; i++) {
		const struct match_optview *v = &r->views[i];

		if (i > 0)
			fputc(',', fp);
		fputc('{', fp);
		cli_json_key(fp, "name");
		cli_json_str(fp, acl_parse_opt_name(v->opt->kind));
		fputc(',', fp);
		cli_json_key(fp, "value");
		cli_json_str(fp, v->opt->value);
		if (v->expanded != NULL) {
			fputc(',', fp);
			cli_json_key(fp, "expanded");
			cli_json_str(fp, v->expanded);
		}
		if (v->opt->kind == ACL_OPT_BANNERS) {
			fputc(',', fp);
			cli_json_key(fp, "file");
			cli_json_str(fp, v->banner_path);
			fputc(',', fp);
			cli_json_key(fp, "exists");
			fputs(v->banner_state > 0 ? "true" : "false", fp);
		}
		if (v->err != NULL) {
			fputc(',', fp);
			cli_json_key(fp, "error");
			cli_json_str(fp, v->err);
		}
		if (v->opt->kind == ACL_OPT_SPAWN ||
		    v->opt->kind == ACL_OPT_TWIST ||
		    v->opt->kind == ACL_OPT_ACLEXEC) {
			fputc(',', fp);
			cli_json_key(fp, "run");
			fputs("false", fp);
		}
		fputc('}', fp);
	}
	fputc(']', fp);
	if (r->expand_tmpl != NULL) {
		fputc(',', fp);
		cli_json_key(fp, "expanded");
		cli_json_str(fp, r->expand_out);
		if (r->expand_out == NULL) {
			fputc(',', fp);
			cli_json_key(fp, "expand_error");
			cli_json_str(fp, r->expand_err);
		}
	}
	fputs("}\n", fp);
}

/*
 * Open each database given; one that cannot be used is reported, and its
 * fact will have no answer (one good database is still used).
 */
static void
match_geo_open(struct match_ctx *m, const char *const paths[2])
{
	char err[512];
	int k;

	for (k = 0; k < 2; k++) {
		struct geoip_db **db = k == 0 ? &m->geo.country : &m->geo.asn;

		if (paths[k] == NULL)
			continue;
		*db =
		    geoip_db_open(paths[k], k == 0 ? GEOIP_COUNTRY : GEOIP_ASN,
		        NULL, NULL, err, sizeof err);
		if (*db == NULL)
			cli_text_diag(stderr, paths[k], 0, 0, 1, err);
	}
}

static void
match_print_diags(const struct acl_diags *d)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		cli_text_diag(stderr, d->v[i].file, d->v[i].line, d->v[i].col,
		    d->v[i].severity == ACL_SEV_ERROR, d->v[i].msg);
}

int
cmd_match(int argc, char **argv)
{
	enum {
		OPT_ALLOW = 256,
		OPT_DENY,
		OPT_NAME,
		OPT_USER,
		OPT_SERVER,
		OPT_SERVER_NAME,
		OPT_SERVER_PORT,
		OPT_CLIENT_PORT,
		OPT_EXPAND,
		OPT_JSON,
		OPT_GEOIP_COUNTRY,
		OPT_GEOIP_ASN,
		OPT_HELP,
	};
	static const struct option longopts[] = {
	    {"allow", required_argument, NULL, OPT_ALLOW},
	    {"deny", required_argument, NULL, OPT_DENY},
	    {"name", required_argument, NULL, OPT_NAME},
	    {"user", required_argument, NULL, OPT_USER},
	    {"server", required_argument, NULL, OPT_SERVER},
	    {"server-name", required_argument, NULL, OPT_SERVER_NAME},
	    {"server-port", required_argument, NULL, OPT_SERVER_PORT},
	    {"client-port", required_argument, NULL, OPT_CLIENT_PORT},
	    {"expand", required_argument, NULL, OPT_EXPAND},
	    {"json", no_argument, NULL, OPT_JSON},
	    {"geoip-country", required_argument, NULL, OPT_GEOIP_COUNTRY},
	    {"geoip-asn", required_argument, NULL, OPT_GEOIP_ASN},
	    {"help", no_argument, NULL, OPT_HELP},
	    {NULL, 0, NULL, 0},
	};
	struct acl_load_opts lo;
	struct acl_diags diags;
	struct acl_ruleset *rs;
	struct match_ctx m;
	struct match_result r;
	const char *geo_paths[2] = {NULL, NULL};
	int c, json = 0;
	size_t i;

	memset(&lo, 0, sizeof(lo));
	memset(&m, 0, sizeof(m));
	memset(&r, 0, sizeof(r));
	memset(&diags, 0, sizeof(diags));
	acl_request_init(&m.req);
	m.req.pid = (long)getpid();

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_ALLOW:
			lo.allow_path = optarg;
			break;
		case OPT_DENY:
			lo.deny_path = optarg;
			break;
		case OPT_NAME:
			m.client.name_opt = optarg;
			break;
		case OPT_USER:
			m.user_opt = optarg;
			break;
		case OPT_SERVER:
			m.server.addr_text = optarg;
			if (match_parse_addr(optarg, &m.req.server.addr) != 0) {
				fprintf(stderr,
				    "wrapd match: bad server address: %s\n",
				    optarg);
				return 2;
			}
			break;
		case OPT_SERVER_NAME:
			m.server.name_opt = optarg;
			break;
		case OPT_SERVER_PORT:
			if (match_parse_port(optarg, &m.req.server.port) != 0) {
				fprintf(stderr,
				    "wrapd match: bad server port: %s\n",
				    optarg);
				return 2;
			}
			break;
		case OPT_CLIENT_PORT:
			if (match_parse_port(optarg, &m.req.client.port) != 0) {
				fprintf(stderr,
				    "wrapd match: bad client port: %s\n",
				    optarg);
				return 2;
			}
			break;
		case OPT_EXPAND:
			r.expand_tmpl = optarg;
			break;
		case OPT_JSON:
			json = 1;
			break;
		case OPT_GEOIP_COUNTRY:
		case OPT_GEOIP_ASN:
			geo_paths[c == OPT_GEOIP_ASN] = optarg;
			m.geo_given |=
			    c == OPT_GEOIP_ASN ? ACL_GEO_ASN : ACL_GEO_COUNTRY;
			break;
		case OPT_HELP:
			match_usage(stdout);
			return 0;
		default:
			if (optopt != 0 && optopt < 256)
				fprintf(stderr, "wrapd match: bad option -%c\n",
				    optopt);
			else
				fprintf(stderr, "wrapd match: bad option %s\n",
				    argv[optind - 1]);
			match_usage(stderr);
			return 2;
		}
	}
	if (argc - optind != 2) {
		fprintf(stderr, "wrapd match: %s\n",
		    argc - optind < 2 ? "DAEMON and CLIENT_ADDR are required"
		                      : "too many arguments");
		match_usage(stderr);
		return 2;
	}
	if (match_parse_addr(argv[optind + 1], &m.req.client.addr) != 0) {
		fprintf(stderr, "wrapd match: bad client address: %s\n",
		    argv[optind + 1]);
		return 2;
	}
	acl_request_copy_string(m.daemon, sizeof(m.daemon), argv[optind]);
	m.req.daemon = m.daemon;
	m.client.addr_text = argv[optind + 1];
	/*
	 * Given facts are set up front, as tcpdmatch does; only missing ones
	 * are looked up, and only when a rule asks.
	 */
	if (m.client.name_opt != NULL)
		match_supply(&m, ACL_NEED_CLIENT_NAME);
	if (m.server.name_opt != NULL)
		match_supply(&m, ACL_NEED_SERVER_NAME);
	if (m.user_opt != NULL)
		match_supply(&m, ACL_NEED_USER);
	if (m.req.client.addr.family != AF_UNSPEC)
		acl_addr_format(
		    &m.req.client.addr, r.client_addr, sizeof(r.client_addr));
	else
		snprintf(
		    r.client_addr, sizeof(r.client_addr), "%s", ACL_UNKNOWN);
	if (m.req.server.addr.family != AF_UNSPEC)
		acl_addr_format(
		    &m.req.server.addr, r.server_addr, sizeof(r.server_addr));
	else
		snprintf(
		    r.server_addr, sizeof(r.server_addr), "%s", ACL_UNKNOWN);

	/* The rules are not also told that a database given is missing. */
	match_geo_open(&m, geo_paths);
	match_geo_lookup(&m);
	lo.geo = m.geo_given;
	rs = acl_ruleset_load(&lo, &diags);
	if (rs == NULL) {
		fprintf(stderr, "wrapd match: out of memory\n");
		acl_diags_free(&diags);
		geoip_close(&m.geo);
		return 1;
	}
	match_print_diags(&diags);
	acl_diags_free(&diags);

	r.eval_failed = match_eval(&m, rs, &r.dec) != 0;
	if (!r.eval_failed && r.dec.rule != NULL && r.dec.rule->nopts > 0) {
		r.views = calloc(r.dec.rule->nopts, sizeof(*r.views));
		if (r.views != NULL) {
			r.nviews = r.dec.rule->nopts;
			match_view_options(&m, r.dec.rule, r.views);
		}
	}
	if (r.expand_tmpl != NULL) {
		r.expand_out = malloc(MATCH_EXPAND_BUF);
		if (r.expand_out == NULL) {
			r.expand_err = "out of memory";
		} else if (match_expand(&m, r.expand_tmpl, r.expand_out,
		               MATCH_EXPAND_BUF, &r.expand_err) != 0) {
			free(r.expand_out);
			r.expand_out = NULL;
		}
	}

	if (json)
		match_print_json(&m, &r, stdout);
	else
		match_print_text(&m, &r, stdout);
	fflush(stdout);

	for (i = 0; i < r.nviews; i++)
		free(r.views[i].expanded);
	free(r.views);
	free(r.expand_out);
	acl_ruleset_unref(rs);
	geoip_close(&m.geo);
	return 0;
}
