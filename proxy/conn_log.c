/*
 * conn_log.c - the last stage: the one log line of a connection, written
 * when it closes (key=value, or JSON with --log-format json).
 */
#include <stdbool.h>
#include <stdio.h>

#include "conn.h"
#include "log.h"
#include "snapshot.h"
#include "worker.h"

void
conn_log_addr(const struct conn_addr *ca, char *buf, size_t sz)
{
	char a[64];

	if (ca->a.family == AF_UNSPEC) {
		snprintf(buf, sz, "-");
		return;
	}
	acl_addr_format(&ca->a, a, sizeof(a));
	snprintf(buf, sz, ca->a.family == AF_INET6 ? "[%s]:%u" : "%s:%u", a,
	    (unsigned)ca->port);
}

static const char *
conn_log_verdict(const struct conn *c)
{
	if (!c->decided)
		return "-";
	switch (c->verdict) {
	case ACL_GRANT:
		return "grant";
	case ACL_TWIST:
		return "twist";
	default:
		return "deny";
	}
}

/* One field of the line, in either form: ` key=value` or `"key":value`. */
struct conn_log_out {
	struct log_buf b;
	bool json;
};

static void
conn_log_key(struct conn_log_out *o, const char *key)
{
	if (o->json)
		log_buf_printf(
		    &o->b, "%s\"%s\":", o->b.len > 0 ? "," : "", key);
	else
		log_buf_printf(&o->b, "%s%s=", o->b.len > 0 ? " " : "", key);
}

/* A string; NULL is null in JSON, "-" in text. */
static void
conn_log_str(struct conn_log_out *o, const char *key, const char *v)
{
	conn_log_key(o, key);
	if (o->json && v == NULL)
		log_buf_printf(&o->b, "null");
	else if (o->json)
		log_buf_json_str(&o->b, v);
	else
		log_buf_kv_str(&o->b, v != NULL ? v : "-");
}

static void
conn_log_num(struct conn_log_out *o, const char *key, long long v)
{
	conn_log_key(o, key);
	log_buf_printf(&o->b, "%lld", v);
}

void
conn_log(const struct conn *c)
{
	char line[1536], client[80], rule[600];
	struct conn_log_out o = {{line, 0, sizeof(line)}, log_json()};
	int prio = LOG_INFO;

	line[0] = '\0';
	if (c->decided && c->verdict != ACL_GRANT)
		prio = LOG_WARNING;
	if (c->has_severity) /* the rule's severity option */
		prio = c->severity;
	if (!log_enabled(prio))
		return;
	conn_log_addr(&c->client, client, sizeof(client));
	if (c->rule != NULL)
		snprintf(
		    rule, sizeof(rule), "%s:%u", c->rule->file, c->rule->line);
	else if (c->err_file != NULL)
		snprintf(rule, sizeof(rule), "%s:%u", c->err_file, c->err_line);
	else
		snprintf(rule, sizeof(rule), "none");

	conn_log_num(&o, "conn", (long long)c->id);
	conn_log_str(&o, "service", conn_svc(c)->conf->name);
	conn_log_str(&o, "client", client);
	conn_log_str(&o, "name", c->client_name);
	conn_log_str(&o, "user", c->user);
	conn_log_str(&o, "verdict", conn_log_verdict(c));
	conn_log_str(&o, "rule", rule);
	conn_log_num(&o, "in", (long long)c->dir[0].bytes);
	conn_log_num(&o, "out", (long long)c->dir[1].bytes);
	conn_log_num(&o, "ms", (long long)(uv_now(&c->w->loop) - c->start_ms));
	conn_log_str(&o, "reason", c->reason);
	if (c->proc != NULL)
		conn_log_num(&o, "exit", (long long)c->exit_status);
	if (o.json)
		log_json_record(prio, line);
	else
		log_msg(prio, "%s", line);
}
