/*
 * cmd_run.c - `wrapd [options]`: parse the command line, build the
 * configuration (a YAML file, or quick mode from the flags alone), and run
 * the proxy (server.c).
 *
 * Exit status: 0 after a clean stop (SIGTERM/SIGINT, or the end of an
 * inetd/Accept=yes connection), 1 for configuration or startup errors
 * (each printed as file:line:col: message), 2 for usage errors.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "commands.h"
#include "conf.h"
#include "log.h"
#include "lookup.h"
#include "server.h"
#include "conf_trust.h"

#define RUN_DRAIN_MS 10000

struct run_args {
	const char *config;
	const char **listen;
	size_t nlisten;
	const char *backend;
	char **exec_argv; /* after "--" */
	const char *daemon;
	const char *allow, *deny;
	const char *user;
	const char *log_format;
	const char *syslog_facility;
	bool no_syslog, no_stderr;
	long workers;
	uint64_t connect_ms, idle_ms, lookup_ms;
	bool has_connect, has_idle, has_lookup;
	long max_conns;
	long per_source;
	unsigned rate_count, rate_secs; /* --per-source-rate */
	const char *control;            /* --control */
	const char *proxy_protocol;
	const char *exec_user, *exec_group;
	const char *geoip_country, *geoip_asn;
	/* Issue "daemons". */
	bool transparent;
	const char **proxy_from;
	size_t nproxy_from;
	const char *protocol;
	int verbose;
	uid_t owner; /* the effective user that started wrapd (conf_trust.h) */
};

/* clang-format off: the help text is laid out as it prints. */
static void
run_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: wrapd [--config FILE] [options]\n"
	    "       wrapd --listen ADDR:PORT|systemd|stdin [--listen ...]\n"
	    "             (--backend ADDR:PORT|unix:PATH | -- PROGRAM "
	    "[ARGS...])\n"
	    "             [--daemon NAME] [--allow FILE] [--deny FILE] "
	    "[options]\n"
	    "       wrapd check ...    lint hosts.allow/hosts.deny (see wrapd "
	    "check --help)\n"
	    "       wrapd match ...    predict a decision (see wrapd match "
	    "--help)\n"
	    "       wrapd audit ...    exposed sockets, proposed services "
	    "(wrapd audit --help)\n"
	    "       wrapd import ...   wrapd.yaml from inetd/xinetd (wrapd "
	    "import --help)\n"
	    "       wrapd bans ...     list the running wrapd's bans (see "
	    "wrapd bans --help)\n"
	    "       wrapd status ...   the running wrapd's services and "
	    "connections\n"
	    "\n"
	    "Runs in the foreground, deciding every connection with "
	    "hosts.allow and\n"
	    "hosts.deny (libwrap semantics) and handing the granted ones to "
	    "the\n"
	    "backend: a TCP or UNIX socket, or a program run per connection "
	    "with the\n"
	    "socket as its stdin/stdout/stderr (inetd nowait).\n"
	    "\n"
	    "Configuration file mode:\n"
	    "  -c, --config FILE      YAML configuration "
	    "(default " CONF_DEFAULT_PATH ")\n"
	    "\n"
	    "Quick mode (no file; one service):\n"
	    "  -l, --listen SPEC      ADDR:PORT, [V6ADDR]:PORT ([::]:PORT is "
	    "dual-stack),\n"
	    "                         systemd (LISTEN_FDS) or stdin (inetd); "
	    "repeatable\n"
	    "  -b, --backend SPEC     ADDR:PORT or unix:PATH (unix:@NAME: "
	    "abstract)\n"
	    "  -- PROGRAM ARGS...     instead of --backend: run PROGRAM "
	    "(absolute path)\n"
	    "                         per connection\n"
	    "  -d, --daemon NAME      daemon name the rules match (default: "
	    "the program's\n"
	    "                         base name with --, else \"wrapd\")\n"
	    "      --allow FILE       allow table (default " CONF_DEFAULT_ALLOW
	    ")\n"
	    "      --deny FILE        deny table (default " CONF_DEFAULT_DENY
	    ")\n"
	    "      --connect-timeout DURATION   backend connect (default 5s)\n"
	    "      --idle-timeout DURATION      no bytes either way (default "
	    "600s; 0 = none)\n"
	    "      --lookup-timeout DURATION    DNS + ident, per connection "
	    "(default 5s)\n"
	    "      --max-connections N          per service (default 512)\n"
	    "      --per-source N                connections at once from one "
	    "IPv4\n"
	    "                         address or IPv6 /64 (default: "
	    "max-connections / 8)\n"
	    "      --per-source-rate RATE       new connections from one "
	    "source, such\n"
	    "                         as 6/min or 10/sec (default: no "
	    "limit)\n"
	    "      --proxy-protocol v1|v2       send a PROXY protocol header "
	    "to the\n"
	    "                         backend (the real client address)\n"
	    "      --transparent      connect to the backend from the "
	    "client's own\n"
	    "                         address (IP_TRANSPARENT; see wrapd(8))\n"
	    "      --accept-proxy-from CIDR     read a PROXY header from "
	    "these peers\n"
	    "                         (load balancers; repeat it); refuse "
	    "any other peer\n"
	    "      --protocol tcp|ftp           ftp: passive data ports "
	    "through wrapd\n"
	    "      --exec-user USER   run PROGRAM, and the rules' spawn, "
	    "twist and\n"
	    "                         aclexec commands, as USER (inetd's "
	    "user field)\n"
	    "      --exec-group GROUP ... with GROUP (default: USER's "
	    "primary group)\n"
	    "      --geoip-country FILE  MaxMind DB for country= patterns\n"
	    "      --geoip-asn FILE      MaxMind DB for asn= patterns\n"
	    "\n"
	    "Both modes:\n"
	    "  -u, --user USER        drop privileges to USER after binding\n"
	    "  -w, --workers N        event loops (default: conf, 0 = one per "
	    "CPU)\n"
	    "      --control PATH     the control socket of wrapd bans and "
	    "wrapd status\n"
	    "                         (default: the file's control, none in "
	    "quick mode)\n"
	    "      --drain-timeout DURATION     on SIGTERM, wait this long "
	    "for\n"
	    "                         connections to finish (default 10s)\n"
	    "      --log-format text|json       per-connection log lines\n"
	    "      --syslog FACILITY  log to syslog with FACILITY (default "
	    "daemon)\n"
	    "      --no-syslog        do not log to syslog\n"
	    "      --no-stderr        do not log to standard error\n"
	    "  -v, --verbose          debug logging\n"
	    "  -h, --help             this text\n"
	    "  -V, --version          print the version\n"
	    "\n"
	    "DURATION: a number with an optional unit: ms, s (default), m, h.\n"
	    "Signals: SIGHUP reloads the configuration and rules (the old ones "
	    "stay\n"
	    "if the new ones have errors); SIGTERM/SIGINT drain and exit 0;\n"
	    "SIGUSR1 logs the status.\n");
}
/* clang-format on */

static int
run_number(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *s == '\0' || *end != '\0' || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

enum {
	OPT_ALLOW = 256,
	OPT_DENY,
	OPT_LOG_FORMAT,
	OPT_SYSLOG,
	OPT_NO_SYSLOG,
	OPT_NO_STDERR,
	OPT_DRAIN,
	OPT_CONNECT,
	OPT_IDLE,
	OPT_LOOKUP,
	OPT_MAXCONN,
	OPT_PER_SOURCE,
	OPT_PER_SOURCE_RATE,
	OPT_CONTROL,
	OPT_PROXY_PROTOCOL,
	OPT_EXEC_USER,
	OPT_EXEC_GROUP,
	OPT_GEOIP_COUNTRY,
	OPT_GEOIP_ASN,
	OPT_TRANSPARENT,
	OPT_PROXY_FROM,
	OPT_PROTOCOL,
};

static const struct option run_longopts[] = {
    {"config", required_argument, NULL, 'c'},
    {"listen", required_argument, NULL, 'l'},
    {"backend", required_argument, NULL, 'b'},
    {"daemon", required_argument, NULL, 'd'},
    {"allow", required_argument, NULL, OPT_ALLOW},
    {"deny", required_argument, NULL, OPT_DENY},
    {"user", required_argument, NULL, 'u'},
    {"workers", required_argument, NULL, 'w'},
    {"log-format", required_argument, NULL, OPT_LOG_FORMAT},
    {"syslog", required_argument, NULL, OPT_SYSLOG},
    {"no-syslog", no_argument, NULL, OPT_NO_SYSLOG},
    {"no-stderr", no_argument, NULL, OPT_NO_STDERR},
    {"drain-timeout", required_argument, NULL, OPT_DRAIN},
    {"connect-timeout", required_argument, NULL, OPT_CONNECT},
    {"idle-timeout", required_argument, NULL, OPT_IDLE},
    {"lookup-timeout", required_argument, NULL, OPT_LOOKUP},
    {"max-connections", required_argument, NULL, OPT_MAXCONN},
    {"per-source", required_argument, NULL, OPT_PER_SOURCE},
    {"per-source-rate", required_argument, NULL, OPT_PER_SOURCE_RATE},
    {"control", required_argument, NULL, OPT_CONTROL},
    {"proxy-protocol", required_argument, NULL, OPT_PROXY_PROTOCOL},
    {"exec-user", required_argument, NULL, OPT_EXEC_USER},
    {"exec-group", required_argument, NULL, OPT_EXEC_GROUP},
    {"geoip-country", required_argument, NULL, OPT_GEOIP_COUNTRY},
    {"geoip-asn", required_argument, NULL, OPT_GEOIP_ASN},
    {"transparent", no_argument, NULL, OPT_TRANSPARENT},
    {"accept-proxy-from", required_argument, NULL, OPT_PROXY_FROM},
    {"protocol", required_argument, NULL, OPT_PROTOCOL},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

/*
 * inetd nowait hands the connection over as fd 0, 1 and 2: whatever wrapd
 * wrote to standard error would reach the client.  Then every complaint
 * goes to syslog instead (run_private_stderr), and fd 2 to /dev/null.
 */
static bool run_stderr_is_client;
/* The first load, which only reads the log settings (cmd_run). */
static bool run_probing;

static void
run_private_stderr(void)
{
	int type = 0, fd;
	socklen_t len = sizeof(type);

	if (getsockopt(STDERR_FILENO, SOL_SOCKET, SO_TYPE, &type, &len) != 0)
		return;
	run_stderr_is_client = true;
	(void)log_setup(false, "daemon", false, LOG_INFO);
	if ((fd = open("/dev/null", O_WRONLY | O_CLOEXEC)) >= 0) {
		(void)dup2(fd, STDERR_FILENO); /* dup2 clears FD_CLOEXEC */
		close(fd);
	}
}

/* An error for the person starting wrapd: stderr, or syslog (above). */
static void LOG_ATTR(1, 2)
run_complain(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (run_stderr_is_client) {
		log_vmsg(LOG_ERR, fmt, ap);
	} else {
		fprintf(stderr, "wrapd: ");
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	}
	va_end(ap);
}

static int
run_usage_error(const char *fmt, const char *arg)
{
	char msg[512];

	snprintf(msg, sizeof(msg), fmt, arg);
	run_complain("%s%s", msg,
	    run_stderr_is_client ? "" : "\nTry 'wrapd --help'.");
	return 2;
}

/*
 * Replace *dst with a copy of src.  A failed copy must be an error, not a
 * NULL that silently means "default" (no --user: no privilege drop).
 */
static int
run_set_str(char **dst, const char *src)
{
	char *p = strdup(src);

	if (p == NULL)
		return -1;
	free(*dst);
	*dst = p;
	return 0;
}

/* Flags that apply in both modes override the file / the defaults. */
static int
run_apply_common(const struct run_args *a, struct wrapd_conf *c)
{
	if (a->user != NULL && run_set_str(&c->user, a->user) < 0)
		return -1;
	if (a->syslog_facility != NULL &&
	    run_set_str(&c->syslog_facility, a->syslog_facility) < 0)
		return -1;
	if (a->no_syslog) {
		free(c->syslog_facility);
		c->syslog_facility = NULL;
	}
	if (a->no_stderr)
		c->log_stderr = false;
	if (a->log_format != NULL)
		c->log_format = strcmp(a->log_format, "json") == 0
		    ? CONF_LOG_JSON
		    : CONF_LOG_TEXT;
	if (a->workers >= 0)
		c->workers = (unsigned)a->workers;
	if (a->control != NULL && run_set_str(&c->control, a->control) < 0)
		return -1;
	return 0;
}

static struct wrapd_conf *
run_quick_conf(const struct run_args *a, struct conf_errs *errs)
{
	struct wrapd_conf *c;
	struct conf_service *s;
	const char *name = a->daemon, *slash;
	char *err = NULL;
	size_t i;

	if (name == NULL && a->exec_argv != NULL) {
		slash = strrchr(a->exec_argv[0], '/');
		name = slash != NULL ? slash + 1 : a->exec_argv[0];
	}
	if (name == NULL)
		name = "wrapd";
	if ((c = conf_new()) == NULL)
		goto oom;
	/* Many quick-mode wrapds may run at once: a socket only if asked. */
	free(c->control);
	c->control = NULL;
	if ((a->allow != NULL && run_set_str(&c->allow_path, a->allow) < 0) ||
	    (a->deny != NULL && run_set_str(&c->deny_path, a->deny) < 0) ||
	    (a->geoip_country != NULL &&
	        run_set_str(&c->geoip_country, a->geoip_country) < 0) ||
	    (a->geoip_asn != NULL &&
	        run_set_str(&c->geoip_asn, a->geoip_asn) < 0))
		goto oom_free;
	if ((s = conf_service_add(c, name)) == NULL) {
		run_complain("--daemon %s: a name is 1 to 64 of "
		             "A-Z a-z 0-9 . _ -",
		    name);
		conf_free(c);
		return NULL;
	}
	for (i = 0; i < a->nlisten; i++)
		if (conf_service_add_listen(s, a->listen[i], &err) < 0)
			goto bad;
	if (a->backend != NULL && conf_parse_backend(a->backend, s, &err) < 0)
		goto bad;
	if (a->exec_argv != NULL &&
	    conf_service_set_exec(s, a->exec_argv, &err) < 0)
		goto bad;
	if (a->has_connect)
		s->connect_timeout_ms = a->connect_ms;
	if (a->has_idle)
		s->idle_timeout_ms = a->idle_ms;
	if (a->has_lookup)
		s->lookup_timeout_ms = a->lookup_ms;
	if (a->max_conns > 0)
		s->max_connections = (unsigned)a->max_conns;
	if (a->per_source > 0)
		s->per_source_connections = (unsigned)a->per_source;
	s->per_source_rate_count = a->rate_count;
	s->per_source_rate_secs = a->rate_secs;
	if (a->proxy_protocol != NULL)
		s->proxy_protocol = strcmp(a->proxy_protocol, "v1") == 0
		    ? CONF_PROXY_PROTOCOL_V1
		    : CONF_PROXY_PROTOCOL_V2;
	s->transparent = a->transparent;
	if (a->protocol != NULL && strcmp(a->protocol, "ftp") == 0)
		s->protocol = CONF_PROTOCOL_FTP;
	for (i = 0; i < a->nproxy_from; i++)
		if (conf_daemons_add_proxy_from(s, a->proxy_from[i], &err) < 0)
			goto bad;
	/* Checked and resolved to ids by conf_validate(), like the file's. */
	if ((a->exec_user != NULL && run_set_str(&s->user, a->exec_user) < 0) ||
	    (a->exec_group != NULL &&
	        run_set_str(&s->group, a->exec_group) < 0))
		goto oom_free;
	if (run_apply_common(a, c) < 0)
		goto oom_free;
	if (conf_validate(c, errs) != 0) {
		conf_free(c);
		return NULL;
	}
	return c;
bad:
	run_complain("%s", err != NULL ? err : "bad argument");
	free(err);
	conf_free(c);
	return NULL;
oom_free:
	conf_free(c);
oom:
	run_complain("out of memory");
	return NULL;
}

/*
 * An error of run_make_conf: for the person starting wrapd at startup
 * (run_complain), in the log on reload.
 */
static void LOG_ATTR(2, 3)
run_conf_error(bool reload, const char *fmt, ...)
{
	char msg[1536];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (reload)
		log_errx("%s", msg);
	else
		run_complain("%s", msg);
}

/*
 * A wrapd that is not root (and drops to no user) cannot start a program
 * as another account: every connection of that service would fail.  Say
 * so now, for the service that asks.  (A drop to `user` is checked by
 * conf_validate(), which also serves `wrapd check`.)  0 or -1.
 */
static int
run_check_accounts(const struct wrapd_conf *c, bool reload)
{
	const struct conf_service *s;
	size_t i;

	if (geteuid() == 0 || c->user != NULL)
		return 0;
	for (i = 0; i < c->nservices; i++) {
		s = &c->services[i];
		if ((!s->has_uid || s->uid == geteuid()) &&
		    (!s->has_gid || s->gid == getegid()))
			continue;
		run_conf_error(reload,
		    "service %s: user %s: wrapd runs as uid %lu, not root, "
		    "and cannot start programs as another account",
		    s->name, s->user, (unsigned long)geteuid());
		return -1;
	}
	return 0;
}

/*
 * The configuration file names the rules and can run programs: take it
 * only from root or the owner (conf_trust.h), at startup and on every reload.
 */
static struct wrapd_conf *
run_load_config(const struct run_args *a, bool reload, struct conf_errs *errs)
{
	char why[1024];
	struct wrapd_conf *c;

	if (conf_trust_path(a->config, a->owner, why, sizeof why) < 0) {
		run_conf_error(reload, "%s: %s", a->config, why);
		return NULL;
	}
	c = conf_load_file(a->config, errs);
	if (c != NULL && run_apply_common(a, c) < 0) {
		conf_free(c);
		run_conf_error(reload, "out of memory");
		return NULL;
	}
	return c;
}

/* server_conf_fn: build the conf at startup and on every reload. */
static struct wrapd_conf *
run_make_conf(void *arg, bool reload)
{
	const struct run_args *a = arg;
	struct conf_errs errs = {0};
	struct wrapd_conf *c;
	size_t i;

	if (a->config != NULL)
		c = run_load_config(a, reload, &errs);
	else
		c = run_quick_conf(a, &errs);
	if (c == NULL) {
		if (!reload && !run_stderr_is_client)
			conf_errs_print(&errs, stderr);
		else
			for (i = 0; i < errs.n; i++)
				log_errx("%s:%u:%u: %s",
				    errs.v[i].file ? errs.v[i].file : "wrapd",
				    errs.v[i].line, errs.v[i].col,
				    errs.v[i].msg);
	}
	conf_errs_free(&errs);
	/* Legal but dangerous (conf_validate): said at start and reload
	 * (not for the probe that sets the log up: it would say it twice). */
	for (i = 0; !run_probing && c != NULL && c->warnings != NULL &&
	     i < c->warnings->n; i++)
		log_warnx("%s:%u:%u: warning: %s",
		    c->warnings->v[i].file ? c->warnings->v[i].file : "wrapd",
		    c->warnings->v[i].line, c->warnings->v[i].col,
		    c->warnings->v[i].msg);
	if (c != NULL && run_check_accounts(c, reload) < 0) {
		conf_free(c);
		c = NULL;
	}
	return c;
}

int
cmd_run(int argc, char **argv)
{
	struct run_args a;
	struct server_opts o;
	struct wrapd_conf *probe;
	uint64_t drain_ms = RUN_DRAIN_MS;
	int ch, rc, i, dashdash = -1;
	bool to_stderr, quick;

	run_private_stderr();
	memset(&a, 0, sizeof(a));
	a.workers = -1;
	a.owner = geteuid();
	/* "--" ends wrapd's options; what follows is the program to run. */
	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0) {
			dashdash = i;
			break;
		}
	if (dashdash > 0) {
		a.exec_argv = argv + dashdash + 1;
		argv[dashdash] = NULL;
		argc = dashdash;
		if (a.exec_argv[0] == NULL)
			return run_usage_error("%s", "-- needs a program");
	}
	if ((a.proxy_from = calloc((size_t)argc + 1, sizeof(char *))) ==
	    NULL)
		return run_usage_error("%s", "out of memory");
	if ((a.listen = calloc((size_t)argc + 1, sizeof(char *))) == NULL)
		return 1;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "+c:l:b:d:u:w:vhV", run_longopts,
	            NULL)) != -1) {
		switch (ch) {
		case 'c':
			a.config = optarg;
			break;
		case 'l':
			a.listen[a.nlisten++] = optarg;
			break;
		case 'b':
			a.backend = optarg;
			break;
		case 'd':
			a.daemon = optarg;
			break;
		case OPT_ALLOW:
			a.allow = optarg;
			break;
		case OPT_DENY:
			a.deny = optarg;
			break;
		case 'u':
			a.user = optarg;
			break;
		case 'w':
			if (run_number(optarg, 0, 256, &a.workers) < 0) {
				rc = run_usage_error("--workers %s: not a "
				                     "number 0..256",
				    optarg);
				goto out;
			}
			break;
		case OPT_LOG_FORMAT:
			if (strcmp(optarg, "text") != 0 &&
			    strcmp(optarg, "json") != 0) {
				rc = run_usage_error("--log-format %s: text "
				                     "or json",
				    optarg);
				goto out;
			}
			a.log_format = optarg;
			break;
		case OPT_SYSLOG:
			if (log_facility_parse(optarg) < 0) {
				rc = run_usage_error("--syslog %s: not a "
				                     "syslog facility",
				    optarg);
				goto out;
			}
			a.syslog_facility = optarg;
			break;
		case OPT_NO_SYSLOG:
			a.no_syslog = true;
			break;
		case OPT_NO_STDERR:
			a.no_stderr = true;
			break;
		case OPT_DRAIN:
		case OPT_CONNECT:
		case OPT_IDLE:
		case OPT_LOOKUP: {
			uint64_t ms;

			/* The same syntax as the file's durations. */
			if (conf_parse_duration(optarg, &ms) < 0) {
				rc = run_usage_error("%s: not a duration "
				                     "(e.g. 5s, 250ms)",
				    optarg);
				goto out;
			}
			if (ch == OPT_DRAIN)
				drain_ms = ms;
			else if (ch == OPT_CONNECT)
				a.connect_ms = ms, a.has_connect = true;
			else if (ch == OPT_IDLE)
				a.idle_ms = ms, a.has_idle = true;
			else
				a.lookup_ms = ms, a.has_lookup = true;
			break;
		}
		case OPT_MAXCONN:
			if (run_number(optarg, 1, 1000000, &a.max_conns) < 0) {
				rc = run_usage_error("--max-connections %s: "
				                     "not a number 1..1000000",
				    optarg);
				goto out;
			}
			break;
		case OPT_PER_SOURCE:
			if (run_number(optarg, 1, 1000000, &a.per_source) < 0) {
				rc = run_usage_error("--per-source %s: not a "
				                     "number 1..1000000",
				    optarg);
				goto out;
			}
			break;
		case OPT_PER_SOURCE_RATE: {
			char *err = NULL;

			/* The same syntax as the file's rates. */
			if (conf_parse_rate(optarg, &a.rate_count, &a.rate_secs,
			        &err) < 0) {
				rc = run_usage_error("--per-source-rate: %s",
				    err != NULL ? err : optarg);
				free(err);
				goto out;
			}
			break;
		}
		case OPT_CONTROL:
			a.control = optarg;
			break;
		case OPT_EXEC_USER:
			a.exec_user = optarg;
			break;
		case OPT_EXEC_GROUP:
			a.exec_group = optarg;
			break;
		case OPT_GEOIP_COUNTRY:
			a.geoip_country = optarg;
			break;
		case OPT_GEOIP_ASN:
			a.geoip_asn = optarg;
			break;
		case OPT_TRANSPARENT:
			a.transparent = true;
			break;
		case OPT_PROXY_FROM:
			a.proxy_from[a.nproxy_from++] = optarg;
			break;
		case OPT_PROTOCOL:
			if (strcmp(optarg, "tcp") != 0 &&
			    strcmp(optarg, "ftp") != 0) {
				rc = run_usage_error("--protocol %s: tcp or "
				                     "ftp",
				    optarg);
				goto out;
			}
			a.protocol = optarg;
			break;
		case OPT_PROXY_PROTOCOL:
			if (strcmp(optarg, "v1") != 0 &&
			    strcmp(optarg, "v2") != 0) {
				rc = run_usage_error("--proxy-protocol %s: v1 "
				                     "or v2",
				    optarg);
				goto out;
			}
			a.proxy_protocol = optarg;
			break;
		case 'v':
			a.verbose++;
			break;
		case 'h':
			run_usage(stdout);
			rc = 0;
			goto out;
		case 'V':
			printf("wrapd %s\n", WRAPD_VERSION);
			rc = 0;
			goto out;
		default:
			rc = run_usage_error("%s", "bad option");
			goto out;
		}
	}
	if (optind < argc) {
		rc = run_usage_error("unexpected argument: %s", argv[optind]);
		goto out;
	}
	quick = a.nlisten > 0 || a.backend != NULL || a.exec_argv != NULL;
	if (quick && a.config != NULL) {
		rc = run_usage_error("%s",
		    "--config and --listen/--backend/-- "
		    "do not mix");
		goto out;
	}
	if (!quick &&
	    (a.daemon || a.allow || a.deny || a.has_connect || a.has_idle ||
	        a.has_lookup || a.max_conns || a.per_source ||
	        a.rate_count || a.proxy_protocol || a.exec_user ||
	        a.exec_group || a.transparent || a.nproxy_from ||
	        a.protocol)) {
		rc = run_usage_error("%s",
		    "--daemon, --allow, --deny, --per-source, "
		    "--per-source-rate, --exec-user, --exec-group, "
		    "--transparent, --accept-proxy-from, --protocol and the "
		    "timeouts need quick mode (--listen; in a file: the "
		    "services[] keys)");
		goto out;
	}
	if (!quick && (a.geoip_country || a.geoip_asn)) {
		rc = run_usage_error("%s",
		    "--geoip-country and --geoip-asn need quick mode "
		    "(--listen; in a file: geoip.country and geoip.asn)");
		goto out;
	}
	if (quick && a.nlisten == 0) {
		rc = run_usage_error("%s", "quick mode needs --listen");
		goto out;
	}
	if (quick && (a.backend != NULL) == (a.exec_argv != NULL)) {
		rc = run_usage_error("%s",
		    "quick mode needs exactly one of "
		    "--backend or -- PROGRAM");
		goto out;
	}
	if (!quick && a.config == NULL)
		a.config = CONF_DEFAULT_PATH;

	/* DNS look-ups run on the threadpool: size it before first use. */
	(void)lookup_name_init_threadpool(0);

	/*
	 * Logging needs the conf (facility, format) and the conf parser
	 * reports to stderr, so: build once to configure the log, then let
	 * the server build its own copy (the same function reloads use).
	 */
	run_probing = true;
	probe = run_make_conf(&a, false);
	run_probing = false;
	if (probe == NULL) {
		rc = 1;
		goto out;
	}
	to_stderr = probe->log_stderr && !run_stderr_is_client;
	if (log_setup(to_stderr, probe->syslog_facility,
	        probe->log_format == CONF_LOG_JSON,
	        a.verbose ? LOG_DEBUG : LOG_INFO) < 0) {
		run_complain("unknown syslog facility %s",
		    probe->syslog_facility);
		conf_free(probe);
		rc = 1;
		goto out;
	}
	conf_free(probe);

	memset(&o, 0, sizeof(o));
	o.config_path = a.config;
	o.make_conf = run_make_conf;
	o.make_arg = &a;
	o.workers_override = 0;
	o.drain_ms = drain_ms;
	o.verbose = a.verbose > 0;
	o.owner = a.owner;
	rc = server_run(&o);
out:
	free(a.listen);
	free(a.proxy_from);
	return rc;
}
