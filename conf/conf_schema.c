/*
 * conf_schema.c - every configuration key as one row of a table, and the
 * walk that applies the table to a YAML tree.
 *
 * One row holds a key's path, type, bounds, default and target field, so
 * parsing, defaults (conf_new, conf_service_add), the "valid keys" list in
 * error messages and the man page check in tests/conf all come from the
 * same place.  A new key is a new row plus a paragraph in wrapd.yaml.5.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf_int.h"

#define TOP(f)          offsetof(struct wrapd_conf, f)
#define SVC(f)          offsetof(struct conf_service, f)
#define CONF_SCHEMA_MAX 64 /* rows; checked by the unit test */

static const char *const conf_log_formats[] = {"text", "json", NULL};
static const char *const conf_proxy_protocols[] = {"off", "v1", "v2", NULL};
static const char *const conf_protocols[] = {"tcp", "ftp", NULL};

_Static_assert(
    sizeof(enum conf_log_format) == sizeof(int), "enums are stored as int");
_Static_assert(
    sizeof(enum conf_proxy_protocol) == sizeof(int), "enums are stored as int");
_Static_assert(
    sizeof(enum conf_protocol) == sizeof(int), "enums are stored as int");

#define HOUR_MS (3600 * 1000ULL)

/* clang-format off */
const struct conf_key conf_schema[] = {
	{ .path = "rules", .type = CONF_T_MAP,
	  .help = "the rule files" },
	{ .path = "rules.allow", .type = CONF_T_PATH, .def = CONF_DEFAULT_ALLOW,
	  .offset = TOP(allow_path), .help = "a file path" },
	{ .path = "rules.deny", .type = CONF_T_PATH, .def = CONF_DEFAULT_DENY,
	  .offset = TOP(deny_path), .help = "a file path" },
	{ .path = "user", .type = CONF_T_STRING, .flags = CONF_F_NULLABLE,
	  .offset = TOP(user), .check = conf__check_user,
	  .help = "a user name" },
	{ .path = "workers", .type = CONF_T_UINT, .min = 0, .max = 256,
	  .def = "0", .offset = TOP(workers), .help = "a number" },
	{ .path = "log", .type = CONF_T_MAP, .help = "logging" },
	{ .path = "log.syslog", .type = CONF_T_FACILITY, .def = "daemon",
	  .offset = TOP(syslog_facility),
	  .help = "a syslog facility or false" },
	{ .path = "log.stderr", .type = CONF_T_BOOL, .def = "true",
	  .offset = TOP(log_stderr), .help = "true or false" },
	{ .path = "log.format", .type = CONF_T_ENUM, .def = "text",
	  .offset = TOP(log_format), .words = conf_log_formats,
	  .help = "text or json" },
	{ .path = "actions", .type = CONF_T_MAP,
	  .help = "limits on started processes" },
	{ .path = "actions.max_running", .type = CONF_T_UINT, .min = 1,
	  .max = 4096, .def = "32", .offset = TOP(actions.max_running),
	  .help = "a number" },
	{ .path = "actions.per_source", .type = CONF_T_RATE, .def = "6/min",
	  .offset = TOP(actions.per_source_count),
	  .offset2 = TOP(actions.per_source_secs), .help = "a rate" },
	{ .path = "actions.sendmail", .type = CONF_T_ABSPATH,
	  .def = "/usr/sbin/sendmail", .offset = TOP(actions.sendmail),
	  .help = "an absolute path" },
	{ .path = "services", .type = CONF_T_SERVICES,
	  .flags = CONF_F_REQUIRED, .help = "a list of services" },

	{ .path = "services[].name", .type = CONF_T_STRING,
	  .scope = CONF_SCOPE_SERVICE, .flags = CONF_F_REQUIRED,
	  .offset = SVC(name), .check = conf__check_name,
	  .help = "a service name" },
	{ .path = "services[].daemon", .type = CONF_T_STRING,
	  .scope = CONF_SCOPE_SERVICE, .offset = SVC(daemon),
	  .check = conf__check_name, .help = "a daemon name" },
	{ .path = "services[].listen", .type = CONF_T_LISTEN,
	  .scope = CONF_SCOPE_SERVICE, .flags = CONF_F_REQUIRED,
	  .max = CONF_MAX_LISTEN, .help = "a list of addresses" },
	{ .path = "services[].backend", .type = CONF_T_BACKEND,
	  .scope = CONF_SCOPE_SERVICE, .help = "ADDR:PORT or unix:PATH" },
	{ .path = "services[].exec", .type = CONF_T_ARGV,
	  .scope = CONF_SCOPE_SERVICE, .max = CONF_MAX_ARGV,
	  .help = "a list of program and arguments" },
	{ .path = "services[].proxy_protocol", .type = CONF_T_ENUM,
	  .scope = CONF_SCOPE_SERVICE, .def = "off",
	  .offset = SVC(proxy_protocol), .words = conf_proxy_protocols,
	  .help = "off, v1 or v2" },
	{ .path = "services[].timeouts", .type = CONF_T_MAP,
	  .scope = CONF_SCOPE_SERVICE, .help = "timeouts" },
	{ .path = "services[].timeouts.connect", .type = CONF_T_DURATION,
	  .scope = CONF_SCOPE_SERVICE, .min = 1, .max = HOUR_MS, .def = "5s",
	  .offset = SVC(connect_timeout_ms), .help = "a duration" },
	{ .path = "services[].timeouts.idle", .type = CONF_T_DURATION,
	  .scope = CONF_SCOPE_SERVICE, .min = 0, .max = 30 * 24 * HOUR_MS,
	  .def = "600s", .offset = SVC(idle_timeout_ms),
	  .help = "a duration" },
	{ .path = "services[].timeouts.lookup", .type = CONF_T_DURATION,
	  .scope = CONF_SCOPE_SERVICE, .min = 1, .max = HOUR_MS, .def = "5s",
	  .offset = SVC(lookup_timeout_ms), .help = "a duration" },
	{ .path = "services[].max_connections", .type = CONF_T_UINT,
	  .scope = CONF_SCOPE_SERVICE, .min = 1, .max = 1000000, .def = "512",
	  .offset = SVC(max_connections), .help = "a number" },
	{ .path = "services[].per_source", .type = CONF_T_MAP,
	  .scope = CONF_SCOPE_SERVICE, .help = "limits per client source" },
	{ .path = "services[].per_source.connections", .type = CONF_T_UINT,
	  .scope = CONF_SCOPE_SERVICE, .min = 1, .max = 1000000,
	  .offset = SVC(per_source_connections), .help = "a number" },
	{ .path = "services[].on_deny", .type = CONF_T_MAP,
	  .scope = CONF_SCOPE_SERVICE, .help = "actions on deny" },
	{ .path = "services[].on_deny.reply", .type = CONF_T_BYTES,
	  .scope = CONF_SCOPE_SERVICE, .flags = CONF_F_NULLABLE, .max = 4096,
	  .offset = SVC(on_deny.reply), .offset2 = SVC(on_deny.reply_len),
	  .help = "a string" },
	{ .path = "services[].on_deny.finger", .type = CONF_T_BOOL,
	  .scope = CONF_SCOPE_SERVICE, .def = "false",
	  .offset = SVC(on_deny.finger), .help = "true or false" },
	{ .path = "services[].on_deny.mail", .type = CONF_T_STRING,
	  .scope = CONF_SCOPE_SERVICE, .flags = CONF_F_NULLABLE,
	  .offset = SVC(on_deny.mail), .check = conf__check_mail,
	  .help = "a mail address" },

	/* Issue "Fail closed": the deny-report mail rate, and below. */
	{ .path = "actions.mail_rate", .type = CONF_T_RATE, .def = "60/hour",
	  .offset = TOP(actions.mail_rate_count),
	  .offset2 = TOP(actions.mail_rate_secs), .help = "a rate" },
	/* Issue "Fail closed": the account of a service's programs. */
	{ .path = "services[].user", .type = CONF_T_STRING,
	  .scope = CONF_SCOPE_SERVICE, .flags = CONF_F_NULLABLE,
	  .offset = SVC(user), .check = conf__check_account_user,
	  .help = "a user name" },
	{ .path = "services[].group", .type = CONF_T_STRING,
	  .scope = CONF_SCOPE_SERVICE, .flags = CONF_F_NULLABLE,
	  .offset = SVC(group), .check = conf__check_account_group,
	  .help = "a group name" },
	/* Issue "Beyond TCP Wrappers": the databases of country= and asn=. */
	{ .path = "geoip", .type = CONF_T_MAP,
	  .help = "GeoIP databases" },
	{ .path = "geoip.country", .type = CONF_T_PATH,
	  .flags = CONF_F_NULLABLE, .offset = TOP(geoip_country),
	  .help = "a file path" },
	{ .path = "geoip.asn", .type = CONF_T_PATH,
	  .flags = CONF_F_NULLABLE, .offset = TOP(geoip_asn),
	  .help = "a file path" },

	/* Issue "Beyond TCP Wrappers": rates, bans, time windows, and the
	 * control socket that lists bans and status. */
	{ .path = "control", .type = CONF_T_STRING, .flags = CONF_F_NULLABLE,
	  .def = CONF_DEFAULT_CONTROL, .offset = TOP(control),
	  .check = conf__check_control,
	  .help = "an absolute socket path or null" },
	{ .path = "services[].per_source.rate", .type = CONF_T_RATE,
	  .scope = CONF_SCOPE_SERVICE,
	  .offset = SVC(per_source_rate_count),
	  .offset2 = SVC(per_source_rate_secs), .help = "a rate" },
	{ .path = "services[].ban", .type = CONF_T_MAP,
	  .scope = CONF_SCOPE_SERVICE, .help = "bans of abusive sources" },
	{ .path = "services[].ban.after", .type = CONF_T_UINT,
	  .scope = CONF_SCOPE_SERVICE, .flags = CONF_F_REQUIRED, .min = 1,
	  .max = 1000000, .offset = SVC(ban.after), .help = "a number" },
	{ .path = "services[].ban.within", .type = CONF_T_DURATION,
	  .scope = CONF_SCOPE_SERVICE, .min = 1000, .max = 24 * HOUR_MS,
	  .def = "10m", .offset = SVC(ban.within_ms), .help = "a duration" },
	{ .path = "services[].ban.for", .type = CONF_T_DURATION,
	  .scope = CONF_SCOPE_SERVICE, .min = 1000, .max = 30 * 24 * HOUR_MS,
	  .def = "10m", .offset = SVC(ban.for_ms), .help = "a duration" },
	{ .path = "services[].ban.max_sources", .type = CONF_T_UINT,
	  .scope = CONF_SCOPE_SERVICE, .min = 16, .max = 1000000,
	  .def = "4096", .offset = SVC(ban.max_sources), .help = "a number" },
	{ .path = "services[].access_times", .type = CONF_T_TIMES,
	  .scope = CONF_SCOPE_SERVICE, .max = CONF_MAX_TIMES,
	  .help = "a list of time windows" },

	/* Issue "daemons": the real client for the daemon (conf_daemons.c). */
	{ .path = "services[].transparent", .type = CONF_T_BOOL,
	  .scope = CONF_SCOPE_SERVICE, .def = "false",
	  .offset = SVC(transparent), .help = "true or false" },
	{ .path = "services[].accept_proxy_from", .type = CONF_T_CIDRS,
	  .scope = CONF_SCOPE_SERVICE, .help = "a list of networks" },
	{ .path = "services[].protocol", .type = CONF_T_ENUM,
	  .scope = CONF_SCOPE_SERVICE, .def = "tcp", .offset = SVC(protocol),
	  .words = conf_protocols, .help = "tcp or ftp" },
	{ .path = "services[].timeouts.proxy_header", .type = CONF_T_DURATION,
	  .scope = CONF_SCOPE_SERVICE, .min = 1, .max = 60 * 1000ULL,
	  .def = "5s", .offset = SVC(proxy_header_timeout_ms),
	  .help = "a duration" },
	{ .path = "services[].timeouts.ftp_data", .type = CONF_T_DURATION,
	  .scope = CONF_SCOPE_SERVICE, .min = 1, .max = HOUR_MS, .def = "30s",
	  .offset = SVC(ftp_data_timeout_ms), .help = "a duration" },

	/* Issue 11: the Prometheus endpoint (proxy/metrics_server.c); off
	 * unless set.  conf_validate() warns when it is not loopback. */
	{ .path = "metrics", .type = CONF_T_STRING, .flags = CONF_F_NULLABLE,
	  .offset = TOP(metrics), .check = conf__check_metrics,
	  .help = "ADDR:PORT or null" },
};
/* clang-format on */
const size_t conf_schema_len = sizeof conf_schema / sizeof conf_schema[0];

_Static_assert(sizeof conf_schema / sizeof conf_schema[0] <= CONF_SCHEMA_MAX,
    "raise CONF_SCHEMA_MAX");

const char *
conf__key_leaf(const char *path)
{
	const char *dot = strrchr(path, '.');
	return dot ? dot + 1 : path;
}

const struct conf_key *
conf__schema_find(const char *path)
{
	for (size_t i = 0; i < conf_schema_len; i++)
		if (strcmp(conf_schema[i].path, path) == 0)
			return &conf_schema[i];
	return NULL;
}

/* Does row k live directly in the mapping at prefix ("" is the top)? */
static bool
conf_schema_key_in(const struct conf_key *k, const char *prefix)
{
	const char *leaf = conf__key_leaf(k->path);
	size_t plen = leaf == k->path ? 0 : (size_t)(leaf - k->path - 1);
	return plen == strlen(prefix) && strncmp(k->path, prefix, plen) == 0;
}

/*
 * Keys and values come from the file: print them escaped and truncated so
 * an error message never carries control bytes to a terminal or syslog.
 */
static const char *
conf_schema_quote(const char *s, size_t len, char *buf, size_t size)
{
	size_t o = 0, i;
	for (i = 0; i < len && o + 8 < size; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '"' || ch == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)ch;
		} else if (ch < 0x20 || ch == 0x7f) {
			o += (size_t)snprintf(buf + o, size - o, "\\x%02x", ch);
		} else {
			buf[o++] = (char)ch;
		}
	}
	if (i < len) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}

static const char *
conf_schema_kind_name(const struct conf_node *n)
{
	if (n->kind == CONF_NODE_MAP)
		return "a mapping";
	if (n->kind == CONF_NODE_SEQ)
		return "a list";
	if (n->is_null)
		return "null";
	return "a string";
}

/* "timeouts.connect" for "services[].timeouts.connect": how users see it. */
static const char *
conf_schema_display(const char *path)
{
	return strncmp(path, "services[].", 11) == 0 ? path + 11 : path;
}

static void *
conf_schema_base(
    struct conf_ctx *cx, const struct conf_key *k, struct conf_service *svc)
{
	return k->scope == CONF_SCOPE_TOP ? (void *)cx->conf : (void *)svc;
}

#define FIELD(base, off, type) ((type *)(void *)((char *)(base) + (off)))

static void
conf_schema_set_str(void *base, size_t off, char *v)
{
	char **p = FIELD(base, off, char *);
	free(*p);
	*p = v;
}

/* A relative rule path is relative to the configuration file. */
static char *
conf_schema_resolve(struct conf_ctx *cx, const char *path)
{
	if (path[0] == '/' || cx->dir == NULL)
		return conf__strdup(path);
	return conf__asprintf(
	    "%s/%s", strcmp(cx->dir, "/") ? cx->dir : "", path);
}

/* A string value: a scalar without NUL bytes; NULL (reported) if not. */
static const char *
conf_schema_want_string(
    struct conf_ctx *cx, const struct conf_key *k, const struct conf_node *v)
{
	if (v->kind != CONF_NODE_SCALAR || v->is_null) {
		conf__err(cx, v->line, v->col, "%s: expected %s, got %s",
		    conf_schema_display(k->path), k->help,
		    conf_schema_kind_name(v));
		return NULL;
	}
	if (memchr(v->str, '\0', v->len) != NULL) {
		conf__err(cx, v->line, v->col, "%s: contains a NUL byte",
		    conf_schema_display(k->path));
		return NULL;
	}
	if (v->len > CONF_MAX_STRING) {
		conf__err(cx, v->line, v->col, "%s: longer than %d bytes",
		    conf_schema_display(k->path), CONF_MAX_STRING);
		return NULL;
	}
	return v->str;
}

static void
conf_schema_set_bool(struct conf_ctx *cx, const struct conf_key *k,
    const struct conf_node *v, void *base)
{
	/* clang-format off */
	static const char *const yes[] = {"true", "True", "TRUE", "yes", "Yes",
		"YES", "on", "On", "ON", NULL};
	static const char *const no[] = {"false", "False", "FALSE", "no", "No",
		"NO", "off", "Off", "OFF", NULL};
	/* clang-format on */
	char q[80];
	if (v->kind == CONF_NODE_SCALAR && v->plain) {
		for (size_t i = 0; yes[i] != NULL; i++) {
			if (strcmp(v->str, yes[i]) == 0) {
				*FIELD(base, k->offset, bool) = true;
				return;
			}
			if (strcmp(v->str, no[i]) == 0) {
				*FIELD(base, k->offset, bool) = false;
				return;
			}
		}
	}
	if (v->kind == CONF_NODE_SCALAR && !v->is_null)
		conf__err(cx, v->line, v->col,
		    "%s: expected true or false, got \"%s\"%s",
		    conf_schema_display(k->path),
		    conf_schema_quote(v->str, v->len, q, sizeof q),
		    v->plain ? "" : " (quoted: a string)");
	else
		conf__err(cx, v->line, v->col,
		    "%s: expected true or false, got %s",
		    conf_schema_display(k->path), conf_schema_kind_name(v));
}

static void
conf_schema_set_scalar(struct conf_ctx *cx, const struct conf_key *k,
    const struct conf_node *v, struct conf_service *svc)
{
	void *base = conf_schema_base(cx, k, svc);
	const char *name = conf_schema_display(k->path);
	const char *s, *why;
	char q[80], lo[32], hi[32];
	uint64_t n;
	char *err = NULL;

	if (k->type == CONF_T_BOOL) {
		conf_schema_set_bool(cx, k, v, base);
		return;
	}
	if (v->kind == CONF_NODE_SCALAR && v->is_null &&
	    (k->flags & CONF_F_NULLABLE)) {
		conf_schema_set_str(base, k->offset, NULL);
		if (k->type == CONF_T_BYTES)
			*FIELD(base, k->offset2, size_t) = 0;
		return;
	}
	if (k->type == CONF_T_FACILITY && v->kind == CONF_NODE_SCALAR &&
	    (v->is_null ||
	        (v->plain &&
	            (strcmp(v->str, "false") == 0 ||
	                strcmp(v->str, "no") == 0 ||
	                strcmp(v->str, "off") == 0)))) {
		conf_schema_set_str(base, k->offset, NULL);
		return;
	}
	if (k->type == CONF_T_BYTES) {
		if (v->kind != CONF_NODE_SCALAR || v->is_null) {
			conf__err(cx, v->line, v->col,
			    "%s: expected %s, got %s", name, k->help,
			    conf_schema_kind_name(v));
			return;
		}
		if (v->len > k->max) {
			conf__err(cx, v->line, v->col,
			    "%s: longer than %llu bytes", name,
			    (unsigned long long)k->max);
			return;
		}
		conf_schema_set_str(
		    base, k->offset, conf__memdup(v->str, v->len));
		*FIELD(base, k->offset2, size_t) = v->len;
		return;
	}
	if ((s = conf_schema_want_string(cx, k, v)) == NULL)
		return;
	conf_schema_quote(v->str, v->len, q, sizeof q);

	switch (k->type) {
	case CONF_T_STRING:
		if (k->check != NULL && (why = k->check(s, v->len)) != NULL) {
			conf__err(
			    cx, v->line, v->col, "%s \"%s\": %s", name, q, why);
			return;
		}
		conf_schema_set_str(base, k->offset, conf__strdup(s));
		return;
	case CONF_T_PATH:
	case CONF_T_ABSPATH:
		if (v->len == 0) {
			conf__err(cx, v->line, v->col, "%s: empty path", name);
			return;
		}
		if (k->type == CONF_T_ABSPATH && s[0] != '/') {
			conf__err(cx, v->line, v->col,
			    "%s \"%s\": must be an absolute path", name, q);
			return;
		}
		conf_schema_set_str(
		    base, k->offset, conf_schema_resolve(cx, s));
		return;
	case CONF_T_UINT:
		if (conf__parse_uint(s, UINT64_MAX, &n) != 0 || n < k->min ||
		    n > k->max) {
			conf__err(cx, v->line, v->col,
			    "%s: expected a whole number from %llu to %llu, "
			    "got \"%s\"",
			    name, (unsigned long long)k->min,
			    (unsigned long long)k->max, q);
			return;
		}
		*FIELD(base, k->offset, unsigned) = (unsigned)n;
		return;
	case CONF_T_DURATION:
		conf__fmt_duration(k->min, lo, sizeof lo);
		conf__fmt_duration(k->max, hi, sizeof hi);
		if (conf_parse_duration(s, &n) != 0) {
			conf__err(cx, v->line, v->col,
			    "%s: bad duration \"%s\": expected a number with "
			    "an optional unit ms, s, m or h (such as 5s, "
			    "250ms, 2m, 1h; no unit means seconds)",
			    name, q);
			return;
		}
		if (n < k->min || n > k->max) {
			conf__err(cx, v->line, v->col,
			    "%s: \"%s\" is out of range (%s to %s)%s", name, q,
			    lo, hi, n == 0 ? "; 0 is not allowed here" : "");
			return;
		}
		*FIELD(base, k->offset, uint64_t) = n;
		return;
	case CONF_T_RATE: {
		unsigned cnt, secs;
		if (conf__parse_rate(s, &cnt, &secs, &err) != 0) {
			conf__err(cx, v->line, v->col, "%s: %s", name, err);
			free(err);
			return;
		}
		*FIELD(base, k->offset, unsigned) = cnt;
		*FIELD(base, k->offset2, unsigned) = secs;
		return;
	}
	case CONF_T_ENUM:
		for (int i = 0; k->words[i] != NULL; i++) {
			if (strcmp(s, k->words[i]) == 0) {
				*FIELD(base, k->offset, int) = i;
				return;
			}
		}
		conf__err(cx, v->line, v->col, "%s: expected %s, got \"%s\"",
		    name, k->help, q);
		return;
	case CONF_T_FACILITY:
		if (!conf__is_facility(s)) {
			conf__err(cx, v->line, v->col,
			    "%s: unknown syslog facility \"%s\" (expected "
			    "kern, "
			    "user, mail, daemon, auth, syslog, lpr, news, "
			    "uucp, "
			    "cron, authpriv, ftp, local0 to local7, or false)",
			    name, q);
			return;
		}
		conf_schema_set_str(base, k->offset, conf__strdup(s));
		return;
	case CONF_T_BACKEND:
		if (conf_parse_backend(s, svc, &err) != 0) {
			conf__err(cx, v->line, v->col, "%s", err);
			free(err);
		}
		return;
	default:
		abort(); /* the collection types never get here */
	}
}

static void
conf_schema_set_listen(struct conf_ctx *cx, const struct conf_key *k,
    const struct conf_node *v, struct conf_service *svc)
{
	if (v->kind != CONF_NODE_SEQ) {
		conf__err(cx, v->line, v->col,
		    "listen: expected a list such as [\"0.0.0.0:21\", "
		    "\"[::]:21\"], got %s",
		    conf_schema_kind_name(v));
		return;
	}
	if (v->nkids == 0) {
		conf__err(cx, v->line, v->col, "listen: the list is empty");
		return;
	}
	if (v->nkids > k->max) {
		conf__err(cx, v->line, v->col,
		    "listen: more than %llu addresses",
		    (unsigned long long)k->max);
		return;
	}
	for (size_t i = 0; i < v->nkids && !cx->full; i++) {
		const struct conf_node *it = v->kids[i];
		char *err = NULL;
		if (conf_schema_want_string(cx, k, it) == NULL)
			continue;
		if (conf_service_add_listen(svc, it->str, &err) != 0) {
			conf__err(cx, it->line, it->col, "%s", err);
			free(err);
			continue;
		}
		svc->listen[svc->nlisten - 1].line = it->line;
		svc->listen[svc->nlisten - 1].col = it->col;
	}
}

static void
conf_schema_set_argv(struct conf_ctx *cx, const struct conf_key *k,
    const struct conf_node *v, struct conf_service *svc)
{
	if (v->kind != CONF_NODE_SEQ) {
		conf__err(cx, v->line, v->col,
		    "exec: expected a list such as [\"/usr/sbin/in.fingerd\", "
		    "\"-w\"], got %s",
		    conf_schema_kind_name(v));
		return;
	}
	if (v->nkids == 0) {
		conf__err(cx, v->line, v->col,
		    "exec: the list is empty; it needs at least the program");
		return;
	}
	if (v->nkids > k->max) {
		conf__err(cx, v->line, v->col, "exec: more than %llu arguments",
		    (unsigned long long)k->max);
		return;
	}
	char **argv = calloc(v->nkids + 1, sizeof *argv);
	if (argv == NULL)
		abort();
	bool ok = true;
	for (size_t i = 0; i < v->nkids; i++) {
		const struct conf_node *it = v->kids[i];
		if (conf_schema_want_string(cx, k, it) == NULL) {
			ok = false;
			continue;
		}
		if (i == 0 && it->str[0] != '/') {
			char q[80];
			conf__err(cx, it->line, it->col,
			    "exec: the program \"%s\" must be an absolute path",
			    conf_schema_quote(it->str, it->len, q, sizeof q));
			ok = false;
			continue;
		}
		argv[i] = it->str;
	}
	if (ok && conf_service_set_exec(svc, argv, NULL) != 0)
		abort(); /* checked above */
	free(argv);
}

static void conf_schema_walk_map(struct conf_ctx *cx, const char *prefix,
    const struct conf_node *map, struct conf_service *svc,
    const struct conf_node **found);

static void
conf_schema_walk_service(struct conf_ctx *cx, const struct conf_node *item)
{
	const struct conf_node *found[CONF_SCHEMA_MAX] = {0};
	size_t ib = 0, ie = 0;

	if (item->kind != CONF_NODE_MAP) {
		conf__err(cx, item->line, item->col,
		    "services: expected a mapping for each service, got %s",
		    conf_schema_kind_name(item));
		return;
	}
	struct conf_service *svc = conf__service_new(cx->conf);
	svc->line = item->line;
	svc->col = item->col;
	conf_schema_walk_map(cx, "services[]", item, svc, found);
	for (size_t i = 0; i < conf_schema_len; i++) {
		if (strcmp(conf_schema[i].path, "services[].backend") == 0)
			ib = i;
		if (strcmp(conf_schema[i].path, "services[].exec") == 0)
			ie = i;
	}
	if (found[ib] != NULL && found[ie] != NULL) {
		const struct conf_node *later =
		    found[ib]->line > found[ie]->line ||
		        (found[ib]->line == found[ie]->line &&
		            found[ib]->col > found[ie]->col)
		    ? found[ib]
		    : found[ie];
		conf__err(cx, later->line, later->col,
		    "a service has either \"backend\" or \"exec\", not both");
	} else if (found[ib] == NULL && found[ie] == NULL) {
		conf__err(cx, item->line, item->col,
		    "missing \"backend\" or \"exec\": a service needs one");
	}
	if (svc->daemon == NULL && svc->name != NULL)
		svc->daemon = conf__strdup(svc->name);
}

static void
conf_schema_walk_services(struct conf_ctx *cx, const struct conf_node *v)
{
	if (v->kind != CONF_NODE_SEQ) {
		conf__err(cx, v->line, v->col,
		    "services: expected a list of services, got %s",
		    conf_schema_kind_name(v));
		return;
	}
	if (v->nkids == 0) {
		conf__err(cx, v->line, v->col,
		    "services: the list is empty; define at least one service");
		return;
	}
	if (v->nkids > CONF_MAX_SERVICES) {
		conf__err(cx, v->line, v->col, "services: more than %d",
		    CONF_MAX_SERVICES);
		return;
	}
	for (size_t i = 0; i < v->nkids && !cx->full; i++)
		conf_schema_walk_service(cx, v->kids[i]);
}

static void
conf_schema_valid_keys(const char *prefix, char *buf, size_t size)
{
	size_t o = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < conf_schema_len && o < size; i++) {
		if (!conf_schema_key_in(&conf_schema[i], prefix))
			continue;
		int n = snprintf(buf + o, size - o, "%s%s", o ? ", " : "",
		    conf__key_leaf(conf_schema[i].path));
		if (n < 0)
			break;
		o += (size_t)n;
	}
}

/* Edit distance, for keys of at most 32 bytes (longer: no suggestion). */
static size_t
conf_schema_distance(const char *a, size_t al, const char *b, size_t bl)
{
	size_t row[33];
	if (al > 32 || bl > 32)
		return SIZE_MAX;
	for (size_t j = 0; j <= bl; j++)
		row[j] = j;
	for (size_t i = 1; i <= al; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= bl; j++) {
			size_t up = row[j];
			size_t best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[bl];
}

/*
 * For an unknown key, a likely meaning: a key of the same mapping one or
 * two typos away ("denny"), or the same name at another level ("idle" in a
 * service means "timeouts.idle").
 */
static const char *
conf_schema_suggest(const char *prefix, const struct conf_node *key)
{
	const char *best = NULL;
	size_t bestd = key->len >= 4 ? 2 : 1;
	for (size_t r = 0; r < conf_schema_len; r++) {
		const char *leaf = conf__key_leaf(conf_schema[r].path);
		if (!conf_schema_key_in(&conf_schema[r], prefix))
			continue;
		size_t d = conf_schema_distance(
		    key->str, key->len, leaf, strlen(leaf));
		if (d <= bestd) {
			bestd = d;
			best = leaf;
		}
	}
	if (best != NULL)
		return best;
	for (size_t r = 0; r < conf_schema_len; r++) {
		const char *leaf = conf__key_leaf(conf_schema[r].path);
		if (strlen(leaf) == key->len &&
		    memcmp(leaf, key->str, key->len) == 0)
			return conf_schema_display(conf_schema[r].path);
	}
	return NULL;
}

void
conf__schema_apply(struct conf_ctx *cx, const struct conf_key *k,
    const struct conf_node *v, struct conf_service *svc)
{
	switch (k->type) {
	case CONF_T_MAP:
		if (v->kind == CONF_NODE_SCALAR && v->is_null)
			return; /* "log:" alone: every default */
		if (v->kind != CONF_NODE_MAP) {
			conf__err(cx, v->line, v->col,
			    "%s: expected a mapping, got %s",
			    conf_schema_display(k->path),
			    conf_schema_kind_name(v));
			return;
		}
		conf_schema_walk_map(cx, k->path, v, svc, NULL);
		return;
	case CONF_T_SERVICES:
		conf_schema_walk_services(cx, v);
		return;
	case CONF_T_LISTEN:
		conf_schema_set_listen(cx, k, v, svc);
		return;
	case CONF_T_ARGV:
		conf_schema_set_argv(cx, k, v, svc);
		return;
	case CONF_T_TIMES:
		conf__set_times(cx, k, v, svc);
		return;
	case CONF_T_CIDRS:
		conf__set_cidrs(cx, k, v, svc);
		return;
	default:
		conf_schema_set_scalar(cx, k, v, svc);
		return;
	}
}

/*
 * Walk one mapping.  found[] (indexed like conf_schema) records the key
 * node of each known key, which finds duplicates in O(1) and lets the
 * caller check keys that depend on each other.
 */
static void
conf_schema_walk_map(struct conf_ctx *cx, const char *prefix,
    const struct conf_node *map, struct conf_service *svc,
    const struct conf_node **found)
{
	const struct conf_node *local[CONF_SCHEMA_MAX] = {0};
	char q[80], valid[512];
	const char *where = prefix[0] == '\0'   ? "at the top level"
	    : strcmp(prefix, "services[]") == 0 ? "in a service"
	                                        : conf_schema_display(prefix);
	bool in = prefix[0] != '\0' && strcmp(prefix, "services[]") != 0;

	if (found == NULL)
		found = local;
	for (size_t i = 0; i + 1 < map->nkids && !cx->full; i += 2) {
		const struct conf_node *key = map->kids[i];
		const struct conf_node *val = map->kids[i + 1];
		if (key->kind != CONF_NODE_SCALAR || key->is_null) {
			conf__err(cx, key->line, key->col,
			    "expected a key name, got %s",
			    conf_schema_kind_name(key));
			continue;
		}
		size_t row = conf_schema_len;
		for (size_t r = 0; r < conf_schema_len; r++) {
			const char *leaf = conf__key_leaf(conf_schema[r].path);
			if (conf_schema_key_in(&conf_schema[r], prefix) &&
			    strlen(leaf) == key->len &&
			    memcmp(leaf, key->str, key->len) == 0) {
				row = r;
				break;
			}
		}
		conf_schema_quote(key->str, key->len, q, sizeof q);
		if (row == conf_schema_len) {
			conf_schema_valid_keys(prefix, valid, sizeof valid);
			const char *hint = conf_schema_suggest(prefix, key);
			conf__err(cx, key->line, key->col,
			    "unknown key \"%s\" %s%s%s%s%s (valid keys: %s)", q,
			    in ? "in " : "", where,
			    hint ? "; did you mean \"" : "", hint ? hint : "",
			    hint ? "\"?" : "", valid);
			continue;
		}
		if (found[row] != NULL) {
			conf__err(cx, key->line, key->col,
			    "duplicate key \"%s\" (first at line %u, column "
			    "%u)",
			    q, found[row]->line, found[row]->col);
			continue;
		}
		found[row] = key;
		conf__schema_apply(cx, &conf_schema[row], val, svc);
	}
	for (size_t r = 0; r < conf_schema_len && !cx->full; r++) {
		const struct conf_key *k = &conf_schema[r];
		if ((k->flags & CONF_F_REQUIRED) && found[r] == NULL &&
		    conf_schema_key_in(k, prefix))
			conf__err(cx, map->line, map->col,
			    "missing required key \"%s\" %s%s",
			    conf__key_leaf(k->path), in ? "in " : "", where);
	}
}

void
conf__schema_walk(struct conf_ctx *cx, const struct conf_node *root)
{
	static const struct conf_node empty = {
	    .kind = CONF_NODE_MAP, .line = 1, .col = 1};
	if (root == NULL || (root->kind == CONF_NODE_SCALAR && root->is_null))
		root = &empty;
	if (root->kind != CONF_NODE_MAP) {
		conf__err(cx, root->line, root->col,
		    "expected a mapping of keys (such as \"services:\") at "
		    "the top level, got %s",
		    conf_schema_kind_name(root));
		return;
	}
	conf_schema_walk_map(cx, "", root, NULL, NULL);
}

int
conf__schema_defaults(enum conf_scope scope, void *base)
{
	struct conf_errs errs = {0};
	struct conf_ctx cx = {.file = "<defaults>", .errs = &errs};
	if (scope == CONF_SCOPE_TOP)
		cx.conf = base;
	for (size_t i = 0; i < conf_schema_len; i++) {
		const struct conf_key *k = &conf_schema[i];
		if (k->scope != scope || k->def == NULL)
			continue;
		struct conf_node v = {.kind = CONF_NODE_SCALAR,
		    .line = 0,
		    .col = 0,
		    .str = (char *)(uintptr_t)k->def,
		    .len = strlen(k->def),
		    .plain = true};
		conf_schema_set_scalar(
		    &cx, k, &v, scope == CONF_SCOPE_SERVICE ? base : NULL);
	}
	int rc = errs.n == 0 ? 0 : -1;
	conf_errs_free(&errs);
	return rc;
}
