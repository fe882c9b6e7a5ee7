/*
 * conf_dump.c - the effective configuration, defaults included, as YAML.
 *
 * For "what is wrapd actually running with" (wrapd check -v) and as a test
 * oracle: dumping a loaded conf and loading the dump must give the same
 * values, so the dump is the canonical form of a configuration.  Strings
 * are always double-quoted, with every byte that YAML would not carry
 * through unchanged written as an escape.
 */
#include <stdio.h>
#include <string.h>

#include "conf_int.h"

/*
 * Decode one UTF-8 sequence as strictly as libyaml's reader does (no
 * overlong forms, no surrogates, nothing above U+10FFFF).  Returns its
 * length, or 0 if s does not start with a valid sequence.
 */
static size_t
conf_dump_utf8(const unsigned char *s, size_t len, unsigned long *cp)
{
	size_t n;
	unsigned long v, min;
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	} else if ((s[0] & 0xe0) == 0xc0) {
		n = 2, v = s[0] & 0x1fu, min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3, v = s[0] & 0x0fu, min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4, v = s[0] & 0x07u, min = 0x10000;
	} else {
		return 0;
	}
	if (n > len)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3fu);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return n;
}

/* YAML 1.1 printable characters, minus the ones that act as line breaks. */
static bool
conf_dump_yaml_plain_char(unsigned long cp)
{
	if (cp == 0x85 || cp == 0x2028 || cp == 0x2029 || cp == 0xfeff)
		return false;
	return (cp >= 0x20 && cp <= 0x7e) || (cp >= 0xa0 && cp <= 0xd7ff) ||
	    (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
}

/*
 * A double-quoted YAML string for any bytes.  Bytes that are not valid
 * UTF-8 (possible only in quick mode, for a reply given on the command
 * line) come out as \xNN, which YAML reads as the character U+00NN: the
 * one case where the round trip is not exact.
 */
static void
conf_dump_dq(FILE *fp, const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	fputc('"', fp);
	for (size_t i = 0; i < len;) {
		unsigned long cp;
		size_t n = conf_dump_utf8(s + i, len - i, &cp);
		if (n == 0) {
			fprintf(fp, "\\x%02x", s[i]);
			i++;
			continue;
		}
		if (cp == '"' || cp == '\\')
			fprintf(fp, "\\%c", (char)cp);
		else if (cp == '\0')
			fputs("\\0", fp);
		else if (cp == '\r')
			fputs("\\r", fp);
		else if (cp == '\n')
			fputs("\\n", fp);
		else if (cp == '\t')
			fputs("\\t", fp);
		else if (conf_dump_yaml_plain_char(cp))
			fwrite(s + i, 1, n, fp);
		else if (cp <= 0xff)
			fprintf(fp, "\\x%02lx", cp);
		else if (cp <= 0xffff)
			fprintf(fp, "\\u%04lx", cp);
		else
			fprintf(fp, "\\U%08lx", cp);
		i += n;
	}
	fputc('"', fp);
}

static void
conf_dump_dq_str(FILE *fp, const char *s)
{
	if (s == NULL)
		fputs("null", fp);
	else
		conf_dump_dq(fp, s, strlen(s));
}

static void conf_dump_rate(FILE *fp, unsigned count, unsigned secs);

/* per_source, ban and access_times: only what is set. */
static void
conf_dump_limits(FILE *fp, const struct conf_service *s)
{
	char a[32], b[32];

	if (s->per_source_connections > 0 || s->per_source_rate_count > 0)
		fputs("    per_source:\n", fp);
	if (s->per_source_connections > 0) /* 0: not validated yet */
		fprintf(
		    fp, "      connections: %u\n", s->per_source_connections);
	if (s->per_source_rate_count > 0) {
		fputs("      rate: ", fp);
		conf_dump_rate(
		    fp, s->per_source_rate_count, s->per_source_rate_secs);
	}
	if (s->ban.after > 0) {
		conf__fmt_duration(s->ban.within_ms, a, sizeof a);
		conf__fmt_duration(s->ban.for_ms, b, sizeof b);
		fprintf(fp,
		    "    ban: { after: %u, within: %s, for: %s, "
		    "max_sources: %u }\n",
		    s->ban.after, a, b, s->ban.max_sources);
	}
	if (s->naccess_times > 0) {
		fputs("    access_times: [", fp);
		for (size_t i = 0; i < s->naccess_times; i++) {
			if (i > 0)
				fputs(", ", fp);
			conf_dump_dq_str(fp, s->access_times[i].text);
		}
		fputs("]\n", fp);
	}
}

static void
conf_dump_service(FILE *fp, const struct conf_service *s)
{
	static const char *const pp[] = {"off", "v1", "v2"};
	char a[32], b[32], c[32], d[32], e[32];

	fputs("  - name: ", fp);
	conf_dump_dq_str(fp, s->name);
	fputs("\n    daemon: ", fp);
	conf_dump_dq_str(fp, s->daemon);
	fputs("\n    listen: [", fp);
	for (size_t i = 0; i < s->nlisten; i++) {
		if (i > 0)
			fputs(", ", fp);
		conf_dump_dq_str(fp, s->listen[i].text);
	}
	fputs("]\n", fp);
	if (s->exec_argv != NULL) {
		fputs("    exec: [", fp);
		for (size_t i = 0; s->exec_argv[i] != NULL; i++) {
			if (i > 0)
				fputs(", ", fp);
			conf_dump_dq_str(fp, s->exec_argv[i]);
		}
		fputs("]\n", fp);
	}
	if (s->backend != NULL) {
		fputs("    backend: ", fp);
		conf_dump_dq_str(fp, s->backend);
		fputc('\n', fp);
	}
	unsigned p = (unsigned)s->proxy_protocol;
	fprintf(fp, "    proxy_protocol: %s\n", p < 3 ? pp[p] : "off");
	conf__fmt_duration(s->connect_timeout_ms, a, sizeof a);
	conf__fmt_duration(s->idle_timeout_ms, b, sizeof b);
	conf__fmt_duration(s->lookup_timeout_ms, c, sizeof c);
	conf__fmt_duration(s->proxy_header_timeout_ms, d, sizeof d);
	conf__fmt_duration(s->ftp_data_timeout_ms, e, sizeof e);
	fprintf(fp,
	    "    timeouts: { connect: %s, idle: %s, lookup: %s, "
	    "proxy_header: %s, ftp_data: %s }\n",
	    a, b, c, d, e);
	fprintf(fp, "    max_connections: %u\n", s->max_connections);
	conf_dump_limits(fp, s);
	fputs("    on_deny:\n      reply: ", fp);
	if (s->on_deny.reply == NULL)
		fputs("null", fp);
	else
		conf_dump_dq(fp, s->on_deny.reply, s->on_deny.reply_len);
	fprintf(fp, "\n      finger: %s\n      mail: ",
	    s->on_deny.finger ? "true" : "false");
	conf_dump_dq_str(fp, s->on_deny.mail);
	fputs("\n    user: ", fp);
	conf_dump_dq_str(fp, s->user);
	fputs("\n    group: ", fp);
	conf_dump_dq_str(fp, s->group);
	fputc('\n', fp);
	conf__dump_daemons(fp, s);
}

/* A rate as the file writes it, "6/min", and the end of its line. */
static void
conf_dump_rate(FILE *fp, unsigned count, unsigned secs)
{
	if (secs == 1 || secs == 60 || secs == 3600)
		fprintf(fp, "%u/%s\n", count,
		    secs == 1        ? "sec"
		        : secs == 60 ? "min"
		                     : "hour");
	else
		fprintf(fp, "%u/%us\n", count, secs);
}

int
conf_dump(const struct wrapd_conf *c, FILE *fp)
{
	if (c->path != NULL) {
		/* The path goes in a comment: keep it on one line. */
		fputs("# ", fp);
		for (const char *p = c->path; *p != '\0'; p++)
			fputc(*p == '\n' || *p == '\r' ? '?' : *p, fp);
		fputc('\n', fp);
	}
	fputs("rules:\n  allow: ", fp);
	conf_dump_dq_str(fp, c->allow_path);
	fputs("\n  deny: ", fp);
	conf_dump_dq_str(fp, c->deny_path);
	fputs("\nuser: ", fp);
	conf_dump_dq_str(fp, c->user);
	fprintf(fp, "\nworkers: %u\n", c->workers);
	fputs("control: ", fp);
	conf_dump_dq_str(fp, c->control);
	fputc('\n', fp);
	fputs("metrics: ", fp);
	conf_dump_dq_str(fp, c->metrics);
	fputc('\n', fp);
	fputs("log:\n  syslog: ", fp);
	if (c->syslog_facility == NULL)
		fputs("false", fp);
	else
		conf_dump_dq_str(fp, c->syslog_facility);
	fprintf(fp, "\n  stderr: %s\n  format: %s\n",
	    c->log_stderr ? "true" : "false",
	    c->log_format == CONF_LOG_JSON ? "json" : "text");
	fprintf(fp, "actions:\n  max_running: %u\n  per_source: ",
	    c->actions.max_running);
	conf_dump_rate(
	    fp, c->actions.per_source_count, c->actions.per_source_secs);
	fputs("  mail_rate: ", fp);
	conf_dump_rate(
	    fp, c->actions.mail_rate_count, c->actions.mail_rate_secs);
	fputs("  sendmail: ", fp);
	conf_dump_dq_str(fp, c->actions.sendmail);
	fputs("\ngeoip:\n  country: ", fp);
	conf_dump_dq_str(fp, c->geoip_country);
	fputs("\n  asn: ", fp);
	conf_dump_dq_str(fp, c->geoip_asn);
	fputs("\nservices:\n", fp);
	for (size_t i = 0; i < c->nservices; i++)
		conf_dump_service(fp, &c->services[i]);
	return ferror(fp) ? -1 : 0;
}
