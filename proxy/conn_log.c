/*
 * conn_log.c - the last stage: the one log line of a connection, written
 * when it closes (key=value, or JSON with --log-format json).
 */
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

void
conn_log(const struct conn *c)
{
	char line[1536], client[80], rule[600];
	struct log_buf b = { line, 0, sizeof(line) };
	const char *svc = conn_svc(c)->conf->name;
	uint64_t ms = uv_now(&c->w->loop) - c->start_ms;
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
		snprintf(rule, sizeof(rule), "%s:%u", c->rule->file,
		    c->rule->line);
	else if (c->err_file != NULL)
		snprintf(rule, sizeof(rule), "%s:%u", c->err_file,
		    c->err_line);
	else
		snprintf(rule, sizeof(rule), "none");

	if (log_json()) {
		log_buf_printf(&b, "{\"conn\":%llu,\"service\":",
		    (unsigned long long)c->id);
		log_buf_json_str(&b, svc);
		log_buf_printf(&b, ",\"client\":");
		log_buf_json_str(&b, client);
		log_buf_printf(&b, ",\"name\":");
		if (c->client_name != NULL)
			log_buf_json_str(&b, c->client_name);
		else
			log_buf_printf(&b, "null");
		log_buf_printf(&b, ",\"user\":");
		if (c->user != NULL)
			log_buf_json_str(&b, c->user);
		else
			log_buf_printf(&b, "null");
		log_buf_printf(&b, ",\"verdict\":\"%s\",\"rule\":",
		    conn_log_verdict(c));
		log_buf_json_str(&b, rule);
		log_buf_printf(&b,
		    ",\"in\":%llu,\"out\":%llu,\"ms\":%llu,\"reason\":",
		    (unsigned long long)c->dir[0].bytes,
		    (unsigned long long)c->dir[1].bytes,
		    (unsigned long long)ms);
		log_buf_json_str(&b, c->reason);
		if (c->proc != NULL)
			log_buf_printf(&b, ",\"exit\":%lld",
			    (long long)c->exit_status);
		log_buf_printf(&b, "}");
	} else {
		log_buf_printf(&b, "conn=%llu service=",
		    (unsigned long long)c->id);
		log_buf_kv_str(&b, svc);
		log_buf_printf(&b, " client=%s name=", client);
		log_buf_kv_str(&b, c->client_name ? c->client_name : "-");
		log_buf_printf(&b, " user=");
		log_buf_kv_str(&b, c->user ? c->user : "-");
		log_buf_printf(&b, " verdict=%s rule=", conn_log_verdict(c));
		log_buf_kv_str(&b, rule);
		log_buf_printf(&b, " in=%llu out=%llu ms=%llu reason=",
		    (unsigned long long)c->dir[0].bytes,
		    (unsigned long long)c->dir[1].bytes,
		    (unsigned long long)ms);
		log_buf_kv_str(&b, c->reason);
		if (c->proc != NULL)
			log_buf_printf(&b, " exit=%lld",
			    (long long)c->exit_status);
	}
	log_msg(prio, "%s", line);
}
