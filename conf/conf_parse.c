/*
 * conf_parse.c - the syntax of single values: numbers, durations, rates,
 * names, listen addresses and backends.  Shared by the YAML file and the
 * command line (quick mode), so both accept exactly the same forms.
 *
 * Addresses are numeric only.  Resolving a name at startup would make the
 * listening set depend on DNS at boot time and silently change on reload.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "conf_int.h"

/* Decimal digits only: YAML's 0x, 0o, signs and "_" are not numbers here. */
int
conf__parse_uint(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	if (s == NULL || *s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		unsigned d = (unsigned)(*s - '0');
		if (v > (max - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/* Durations never need more than 2^40 ms (about 34 years). */
#define CONF_DURATION_MAX ((uint64_t)1 << 40)

int
conf_parse_duration(const char *s, uint64_t *ms)
{
	const char *p = s;
	uint64_t v = 0, mult;
	if (s == NULL || *p < '0' || *p > '9')
		return -1;
	while (*p >= '0' && *p <= '9') {
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > CONF_DURATION_MAX)
			return -1;
		p++;
	}
	if (*p == '\0' || strcmp(p, "s") == 0)
		mult = 1000;
	else if (strcmp(p, "ms") == 0)
		mult = 1;
	else if (strcmp(p, "m") == 0)
		mult = 60 * 1000;
	else if (strcmp(p, "h") == 0)
		mult = 3600 * 1000;
	else
		return -1;
	if (v > CONF_DURATION_MAX / mult)
		return -1;
	*ms = v * mult;
	return 0;
}

void
conf__fmt_duration(uint64_t ms, char *buf, size_t len)
{
	unsigned long long v = (unsigned long long)ms;
	if (ms == 0)
		snprintf(buf, len, "0s");
	else if (ms % 3600000 == 0)
		snprintf(buf, len, "%lluh", v / 3600000);
	else if (ms % 60000 == 0)
		snprintf(buf, len, "%llum", v / 60000);
	else if (ms % 1000 == 0)
		snprintf(buf, len, "%llus", v / 1000);
	else
		snprintf(buf, len, "%llums", v);
}

#define CONF_RATE_MAX_COUNT 1000000
#define CONF_RATE_MAX_SECS  86400

/* "6/min", "6/sec", "100/hour", or "6/30s": a count per period. */
int
conf__parse_rate(const char *s, unsigned *count, unsigned *secs, char **err)
{
	/* clang-format off */
	static const struct {
		const char *word;
		unsigned secs;
	} units[] = {
		{"s", 1}, {"sec", 1}, {"second", 1},
		{"m", 60}, {"min", 60}, {"minute", 60},
		{"h", 3600}, {"hour", 3600},
	};
	/* clang-format on */
	const char *slash = strchr(s, '/');
	uint64_t n, ms;
	char num[32];

	*err = NULL;
	if (slash == NULL || (size_t)(slash - s) >= sizeof num) {
		*err =
		    conf__asprintf("bad rate \"%s\": expected COUNT/PERIOD "
		                   "such as 6/min, 10/sec, 100/hour or 6/30s",
		        s);
		return -1;
	}
	memcpy(num, s, (size_t)(slash - s));
	num[slash - s] = '\0';
	if (conf__parse_uint(num, UINT64_MAX, &n) != 0 || n < 1 ||
	    n > CONF_RATE_MAX_COUNT) {
		*err = conf__asprintf("bad rate \"%s\": the count must be a "
		                      "number from 1 to %d",
		    s, CONF_RATE_MAX_COUNT);
		return -1;
	}
	const char *per = slash + 1;
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		if (strcmp(per, units[i].word) == 0) {
			*count = (unsigned)n;
			*secs = units[i].secs;
			return 0;
		}
	}
	if (conf_parse_duration(per, &ms) != 0 || ms % 1000 != 0 || ms < 1000 ||
	    ms > (uint64_t)CONF_RATE_MAX_SECS * 1000) {
		*err = conf__asprintf(
		    "bad rate \"%s\": the period must be sec, "
		    "min, hour or a whole number of seconds from 1s to 24h "
		    "(such as 30s or 10m)",
		    s);
		return -1;
	}
	*count = (unsigned)n;
	*secs = (unsigned)(ms / 1000);
	return 0;
}

int
conf_parse_rate(const char *s, unsigned *count, unsigned *secs, char **err)
{
	return conf__parse_rate(s, count, secs, err);
}

static bool
conf_parse_name_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';
}

/*
 * Service and daemon names appear in hosts.allow daemon lists and in logs:
 * no blanks, commas, colons or '@', which all mean something there.
 */
const char *
conf__check_name(const char *s, size_t len)
{
	if (len == 0 || len > CONF_MAX_NAME)
		return "must be 1 to 64 characters";
	for (size_t i = 0; i < len; i++)
		if (!conf_parse_name_char(s[i]))
			return "may contain only letters, digits, '.', '_' and "
			       "'-'";
	return NULL;
}

/*
 * The control socket: an absolute path that fits a sockaddr_un, without
 * control characters (it is logged and shown by `wrapd bans`).
 */
const char *
conf__check_control(const char *s, size_t len)
{
	if (len == 0 || s[0] != '/')
		return "must be an absolute path";
	if (len > CONF_UNIX_PATH_MAX)
		return "must be at most 107 bytes (a UNIX socket path)";
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return "must not contain control characters";
	return NULL;
}

/*
 * The metrics endpoint: "ADDR:PORT" or "[V6ADDR]:PORT", numeric, as a
 * listen address is written (conf__parse_hostport), but never "systemd"
 * or "stdin": wrapd binds it itself.
 */
const char *
conf__check_metrics(const char *s, size_t len)
{
	unsigned char addr[16];
	char *host = NULL, *err = NULL;
	uint16_t port;
	bool v6;

	if (len > 64 ||
	    conf__parse_hostport(s, &host, &port, addr, &v6, &err) != 0) {
		free(err);
		return "expected ADDR:PORT with a numeric address, such as "
		       "127.0.0.1:9414 or [::1]:9414";
	}
	free(host);
	return NULL;
}

/* A user name as useradd(8) accepts it, or a numeric uid. */
const char *
conf__check_user(const char *s, size_t len)
{
	if (len == 0 || len > 32)
		return "must be 1 to 32 characters";
	if (s[0] == '-')
		return "must not start with '-'";
	for (size_t i = 0; i < len; i++)
		if (!conf_parse_name_char(s[i]) &&
		    !(s[i] == '$' && i == len - 1))
			return "may contain only letters, digits, '.', '_', "
			       "'-' (and a final '$')";
	return NULL;
}

/*
 * The recipient is passed to sendmail(8) as an argument: refuse anything
 * that could read as an option or smuggle a second address or a header.
 */
const char *
conf__check_mail(const char *s, size_t len)
{
	if (len == 0 || len > 254)
		return "must be 1 to 254 characters";
	if (s[0] == '-')
		return "must not start with '-'";
	for (size_t i = 0; i < len; i++)
		if (!conf_parse_name_char(s[i]) && s[i] != '+' && s[i] != '@')
			return "may contain only letters, digits and . _ - + @";
	return NULL;
}

bool
conf__is_facility(const char *s)
{
	return acl_syslog_facility(s, false) >= 0;
}

static bool
conf_parse_looks_like_name(const char *s)
{
	for (; *s != '\0'; s++)
		if (isalpha((unsigned char)*s))
			return true;
	return false;
}

int
conf__parse_hostport(const char *text, char **host, uint16_t *port,
    unsigned char addr[16], bool *v6, char **err)
{
	char hbuf[INET6_ADDRSTRLEN + 64];
	const char *hs, *he, *ps;
	uint64_t pv;
	struct in_addr a4;
	struct in6_addr a6;

	*err = NULL;
	if (text[0] == '[') {
		const char *close = strchr(text, ']');
		if (close == NULL) {
			*err =
			    conf__strdup("missing ']' after the IPv6 address");
			return -1;
		}
		if (close[1] != ':') {
			*err = conf__strdup("expected \":PORT\" after ']'");
			return -1;
		}
		hs = text + 1;
		he = close;
		ps = close + 2;
		*v6 = true;
	} else {
		const char *colon = strrchr(text, ':');
		if (colon == NULL) {
			if (conf__parse_uint(text, 65535, &pv) == 0)
				*err = conf__asprintf(
				    "missing address: write "
				    "\"0.0.0.0:%s\" or \"[::]:%s\"",
				    text, text);
			else
				*err = conf__strdup("missing \":PORT\"");
			return -1;
		}
		if (strchr(text, ':') != colon) {
			size_t hl = (size_t)(colon - text);
			if (hl < sizeof hbuf) {
				memcpy(hbuf, text, hl);
				hbuf[hl] = '\0';
			} else {
				hbuf[0] = '\0';
			}
			/*
			 * "::1:21" is itself a valid IPv6 address, but the
			 * likelier intent is [::1]:21, so try that hint first.
			 */
			if (hbuf[0] != '\0' &&
			    inet_pton(AF_INET6, hbuf, &a6) == 1)
				*err = conf__asprintf(
				    "IPv6 addresses must be "
				    "written in brackets: \"[%s]:%s\"",
				    hbuf, colon + 1);
			else if (inet_pton(AF_INET6, text, &a6) == 1)
				*err = conf__asprintf(
				    "missing port; IPv6 "
				    "addresses must be written in brackets, as "
				    "in \"[%s]:PORT\"",
				    text);
			else
				*err = conf__strdup("IPv6 addresses must be "
				                    "written in brackets, as "
				                    "in \"[::1]:PORT\"");
			return -1;
		}
		hs = text;
		he = colon;
		ps = colon + 1;
		*v6 = false;
	}
	size_t hl = (size_t)(he - hs);
	if (hl == 0) {
		*err = conf__asprintf(
		    "missing address before the port; use "
		    "0.0.0.0 for all IPv4 addresses or [::] for all IPv6 "
		    "addresses");
		return -1;
	}
	if (hl >= sizeof hbuf) {
		*err = conf__strdup("address too long");
		return -1;
	}
	memcpy(hbuf, hs, hl);
	hbuf[hl] = '\0';
	if (*v6) {
		if (strchr(hbuf, '%') != NULL) {
			*err = conf__strdup("IPv6 zone indexes (%) are not "
			                    "supported");
			return -1;
		}
		if (inet_pton(AF_INET6, hbuf, &a6) != 1) {
			*err = conf__asprintf("\"%s\" is not a numeric IPv6 "
			                      "address",
			    hbuf);
			return -1;
		}
		memcpy(addr, &a6, 16);
	} else {
		if (inet_pton(AF_INET, hbuf, &a4) != 1) {
			if (conf_parse_looks_like_name(hbuf))
				*err = conf__asprintf(
				    "\"%s\" is not a numeric "
				    "address; host names are not allowed, "
				    "write the IP address",
				    hbuf);
			else
				*err = conf__asprintf("\"%s\" is not a valid "
				                      "IPv4 address",
				    hbuf);
			return -1;
		}
		memset(addr, 0, 10);
		addr[10] = addr[11] = 0xff;
		memcpy(addr + 12, &a4, 4);
	}
	if (conf__parse_uint(ps, 65535, &pv) != 0 || pv == 0) {
		*err = conf__asprintf("bad port \"%s\": expected a number from "
		                      "1 to 65535",
		    ps);
		return -1;
	}
	char canon[INET6_ADDRSTRLEN];
	if (*v6)
		inet_ntop(AF_INET6, &a6, canon, sizeof canon);
	else
		inet_ntop(AF_INET, &a4, canon, sizeof canon);
	*host = conf__strdup(canon);
	*port = (uint16_t)pv;
	return 0;
}

int
conf_parse_listen(const char *text, struct conf_listen *l, char **err)
{
	char *msg = NULL;
	unsigned char addr[16];
	bool v6;

	memset(l, 0, sizeof *l);
	if (err != NULL)
		*err = NULL;
	if (text == NULL || text[0] == '\0') {
		msg = conf__strdup("empty listen address");
	} else if (strlen(text) > 256) {
		msg = conf__strdup("listen address too long");
	} else if (strcmp(text, "systemd") == 0) {
		l->kind = CONF_LISTEN_SYSTEMD;
		l->text = conf__strdup(text);
		return 0;
	} else if (strcmp(text, "stdin") == 0) {
		l->kind = CONF_LISTEN_STDIN;
		l->text = conf__strdup(text);
		return 0;
	} else if (conf__parse_hostport(
	               text, &l->host, &l->port, addr, &v6, &msg) == 0) {
		l->kind = CONF_LISTEN_ADDR;
		l->text = conf__strdup(text);
		return 0;
	}
	if (err != NULL)
		*err =
		    conf__asprintf("listen \"%s\": %s", text ? text : "", msg);
	free(msg);
	return -1;
}

int
conf_parse_backend(const char *text, struct conf_service *s, char **err)
{
	char *msg = NULL, *host = NULL;
	uint16_t port = 0;
	unsigned char addr[16];
	bool v6;
	enum conf_backend_kind kind = CONF_BACKEND_TCP;
	static const unsigned char unspec[16];
	static const unsigned char unspec4[16] = {[10] = 0xff, [11] = 0xff};

	if (err != NULL)
		*err = NULL;
	if (text == NULL || text[0] == '\0') {
		msg = conf__strdup("empty backend");
	} else if (strlen(text) > CONF_MAX_STRING) {
		msg = conf__strdup("backend too long");
	} else if (strncmp(text, "unix:", 5) == 0) {
		const char *path = text + 5;
		kind = CONF_BACKEND_UNIX;
		if (path[0] != '/')
			msg = conf__strdup(
			    "the UNIX socket path must be "
			    "absolute, as in \"unix:/run/foo.sock\"");
		else if (strlen(path) > CONF_UNIX_PATH_MAX)
			msg = conf__asprintf("the UNIX socket path is longer "
			                     "than %d bytes",
			    CONF_UNIX_PATH_MAX);
		else
			host = conf__strdup(path);
	} else if (conf__parse_hostport(text, &host, &port, addr, &v6, &msg) ==
	    0) {
		if (memcmp(addr, unspec, 16) == 0 ||
		    memcmp(addr, unspec4, 16) == 0) {
			msg = conf__strdup("cannot connect to the unspecified "
			                   "address; use 127.0.0.1 or [::1]");
			free(host);
			host = NULL;
		}
	}
	if (msg != NULL) {
		if (err != NULL)
			*err = conf__asprintf(
			    "backend \"%s\": %s", text ? text : "", msg);
		free(msg);
		return -1;
	}
	free(s->backend);
	free(s->backend_host);
	s->backend = conf__strdup(text);
	s->backend_host = host;
	s->backend_port = port;
	s->backend_kind = kind;
	return 0;
}
