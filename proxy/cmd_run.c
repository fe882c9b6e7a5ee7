/*
 * cmd_run.c - `wrapd [options]`: parse the command line, build the
 * configuration (a YAML file, or quick mode from the flags alone), and run
 * the proxy (server.c).
 *
 * Most flags set a configuration key: cmd_run_flags[] names the key, and
 * conf_set() applies the flag's text through that key's row of the schema
 * (conf_schema.c), so a flag takes the file's syntax, bounds and messages.
 *
 * Exit status: 0 after a clean stop (SIGTERM/SIGINT, or the end of an
 * inetd/Accept=yes connection), 1 for configuration or startup errors
 * (each printed as file:line:col: message), 2 for usage errors, a flag's
 * value that its key refuses included.
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
#include "conf_trust.h"
#include "log.h"
#include "lookup.h"
#include "server.h"

#define CMD_RUN_DRAIN_MS 10000

/* A flag that sets a configuration key. */
struct cmd_run_flag {
	const char *name;  /* the long option */
	int letter;        /* its short form, or 0 */
	const char *key;   /* the key it sets, as conf_schema.c names it */
	const char *fixed; /* for a flag without argument: the value it sets */
	bool both;         /* also over a file (else: quick mode only) */
};

/*
 * A repeated flag: the last one wins; but a list key (--listen) gathers
 * them all.  cmd_run_flags_check() holds every row to the schema at each
 * start, so a key renamed there stops every test, not one flag.
 */
/* clang-format off */
static const struct cmd_run_flag cmd_run_flags[] = {
	{"listen",            'l', "services[].listen",               NULL,    false},
	{"backend",           'b', "services[].backend",              NULL,    false},
	{"allow",             0,   "rules.allow",                     NULL,    false},
	{"deny",              0,   "rules.deny",                      NULL,    false},
	{"connect-timeout",   0,   "services[].timeouts.connect",     NULL,    false},
	{"idle-timeout",      0,   "services[].timeouts.idle",        NULL,    false},
	{"lookup-timeout",    0,   "services[].timeouts.lookup",      NULL,    false},
	{"max-connections",   0,   "services[].max_connections",      NULL,    false},
	{"per-source",        0,   "services[].per_source.connections", NULL,  false},
	{"per-source-rate",   0,   "services[].per_source.rate",      NULL,    false},
	{"proxy-protocol",    0,   "services[].proxy_protocol",       NULL,    false},
	{"transparent",       0,   "services[].transparent",          "true",  false},
	{"accept-proxy-from", 0,   "services[].accept_proxy_from",    NULL,    false},
	{"protocol",          0,   "services[].protocol",             NULL,    false},
	{"exec-user",         0,   "services[].user",                 NULL,    false},
	{"exec-group",        0,   "services[].group",                NULL,    false},
	{"geoip-country",     0,   "geoip.country",                   NULL,    false},
	{"geoip-asn",         0,   "geoip.asn",                       NULL,    false},
	{"user",              'u', "user",                            NULL,    true},
	{"workers",           'w', "workers",                         NULL,    true},
	{"control",           0,   "control",                         NULL,    true},
	{"metrics",           0,   "metrics",                         NULL,    true},
	{"log-format",        0,   "log.format",                      NULL,    true},
	{"syslog",            0,   "log.syslog",                      NULL,    true},
	{"no-syslog",         0,   "log.syslog",                      "false", true},
	{"no-stderr",         0,   "log.stderr",                      "false", true},
};
/* clang-format on */
#define CMD_RUN_NFLAGS (sizeof cmd_run_flags / sizeof cmd_run_flags[0])

/* The options that set no key; getopt values past 255 are the table's. */
enum {
	CMD_RUN_OPT_DRAIN = 256,
	CMD_RUN_OPT_FLAG, /* + the row of cmd_run_flags[] */
};

/* One flag as given: its row and its text. */
struct cmd_run_setting {
	const struct cmd_run_flag *flag;
	const char *value;
};

struct cmd_run_args {
	const char *config;
	const char *daemon;
	char **exec_argv;                 /* after "--" */
	struct cmd_run_setting *settings; /* in command-line order */
	size_t nsettings;
	bool quick;          /* --listen, --backend or -- PROGRAM */
	bool bad_flag_value; /* a key refused a flag's text: exit 2 */
	uint64_t drain_ms;
	int verbose;
	uid_t owner; /* the effective user that started wrapd (conf_trust.h) */
};

/* clang-format off: the help text is laid out as it prints. */
static void
cmd_run_usage(FILE *fp)
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
	    "      --metrics ADDR:PORT          serve Prometheus metrics on "
	    "HTTP there\n"
	    "                         (numeric; loopback advised; default: "
	    "the file's\n"
	    "                         metrics, none in quick mode)\n"
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

/*
 * inetd nowait hands the connection over as fd 0, 1 and 2: whatever wrapd
 * wrote to standard error would reach the client.  Then every complaint
 * goes to syslog instead (cmd_run_private_stderr), and fd 2 to /dev/null.
 */
static bool cmd_run_stderr_is_client;
/* The first load, which only reads the log settings (cmd_run). */
static bool cmd_run_probing;

static void
cmd_run_private_stderr(void)
{
	int type = 0, fd;
	socklen_t len = sizeof(type);

	if (getsockopt(STDERR_FILENO, SOL_SOCKET, SO_TYPE, &type, &len) != 0)
		return;
	cmd_run_stderr_is_client = true;
	(void)log_setup(false, "daemon", false, LOG_INFO);
	if ((fd = open("/dev/null", O_WRONLY | O_CLOEXEC)) >= 0) {
		(void)dup2(fd, STDERR_FILENO); /* dup2 clears FD_CLOEXEC */
		close(fd);
	}
}

/* An error for the person starting wrapd: stderr, or syslog (above). */
static void LOG_ATTR(1, 2) cmd_run_complain(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (cmd_run_stderr_is_client) {
		log_vmsg(LOG_ERR, fmt, ap);
	} else {
		fprintf(stderr, "wrapd: ");
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	}
	va_end(ap);
}

static int
cmd_run_usage_error(const char *fmt, const char *arg)
{
	char msg[512];

	snprintf(msg, sizeof(msg), fmt, arg);
	cmd_run_complain("%s%s", msg,
	    cmd_run_stderr_is_client ? "" : "\nTry 'wrapd --help'.");
	return 2;
}

/* Every row names a key conf_set() knows, of the right kind. */
static int
cmd_run_flags_check(void)
{
	bool list;
	size_t i;

	for (i = 0; i < CMD_RUN_NFLAGS; i++)
		if (!conf_set_known(cmd_run_flags[i].key, &list, NULL) ||
		    (list && cmd_run_flags[i].fixed != NULL)) {
			cmd_run_complain("internal error: --%s sets %s, which "
			                 "the configuration does not have",
			    cmd_run_flags[i].name, cmd_run_flags[i].key);
			return -1;
		}
	return 0;
}

/*
 * conf_set() for one flag.  A value the key refuses is in errs; a failure
 * that leaves no message there (no memory) is said here, so that no flag
 * fails in silence.  0 or -1 (and a->bad_flag_value).
 */
static int
cmd_run_set(struct cmd_run_args *a, struct wrapd_conf *c,
    struct conf_service *s, const char *key, const char *const *values,
    size_t n, const char *origin, struct conf_errs *errs)
{
	size_t before = errs->n;

	if (conf_set(c, s, key, values, n, origin, errs) == 0)
		return 0;
	if (errs->n == before)
		cmd_run_complain("%s: %s", origin, strerror(errno));
	a->bad_flag_value = true;
	return -1;
}

/*
 * Apply the flags to c: to its service s in quick mode, or over a file's
 * configuration (s NULL) only the flags marked both.  In command-line
 * order, so that the last of a repeated flag wins; a list key gets all of
 * its flags at once.  0, or -1 with the errors in errs.
 */
static int
cmd_run_apply(struct cmd_run_args *a, struct wrapd_conf *c,
    struct conf_service *s, struct conf_errs *errs)
{
	const struct cmd_run_flag *f;
	const char **values;
	char origin[64];
	size_t i, j, n;
	bool list, seen;
	int rc = 0;

	if ((values = calloc(a->nsettings + 1, sizeof *values)) == NULL) {
		cmd_run_complain("out of memory");
		return -1;
	}
	for (i = 0; i < a->nsettings; i++) {
		f = a->settings[i].flag;
		if (s == NULL && !f->both)
			continue;
		(void)conf_set_known(f->key, &list, NULL);
		for (seen = false, j = 0; list && j < i; j++)
			seen = seen || a->settings[j].flag == f;
		if (seen)
			continue; /* applied with its first one */
		n = 0;
		for (j = i; j < a->nsettings; j++)
			if (a->settings[j].flag == f && (j == i || list))
				values[n++] = a->settings[j].value;
		snprintf(origin, sizeof origin, "--%s", f->name);
		if (cmd_run_set(a, c, s, f->key, values, n, origin, errs) < 0)
			rc = -1;
	}
	free(values);
	if (s != NULL && a->exec_argv != NULL) {
		for (n = 0; a->exec_argv[n] != NULL; n++)
			;
		if (cmd_run_set(a, c, s, "services[].exec",
		        (const char *const *)a->exec_argv, n, "-- PROGRAM",
		        errs) < 0)
			rc = -1;
	}
	return rc;
}

/* Quick mode: one service from the flags alone. */
static struct wrapd_conf *
cmd_run_quick_conf(struct cmd_run_args *a, struct conf_errs *errs)
{
	struct wrapd_conf *c;
	struct conf_service *s;
	const char *name = a->daemon, *slash;

	if (name == NULL && a->exec_argv != NULL) {
		slash = strrchr(a->exec_argv[0], '/');
		name = slash != NULL ? slash + 1 : a->exec_argv[0];
	}
	if (name == NULL)
		name = "wrapd";
	if ((c = conf_new()) == NULL) {
		cmd_run_complain("out of memory");
		return NULL;
	}
	/* Many quick-mode wrapds may run at once: a socket only if asked. */
	free(c->control);
	c->control = NULL;
	if ((s = conf_service_add(c, name)) == NULL) {
		cmd_run_complain("--daemon %s: a name is 1 to 64 of "
		                 "A-Z a-z 0-9 . _ -",
		    name);
		a->bad_flag_value = true;
		conf_free(c);
		return NULL;
	}
	if (cmd_run_apply(a, c, s, errs) < 0 || conf_validate(c, errs) != 0) {
		conf_free(c);
		return NULL;
	}
	return c;
}

/*
 * An error of cmd_run_make_conf: for the person starting wrapd at startup
 * (cmd_run_complain), in the log on reload.
 */
static void LOG_ATTR(2, 3) cmd_run_conf_error(bool reload, const char *fmt, ...)
{
	char msg[1536];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (reload)
		log_errx("%s", msg);
	else
		cmd_run_complain("%s", msg);
}

/*
 * A wrapd that is not root (and drops to no user) cannot start a program
 * as another account: every connection of that service would fail.  Say
 * so now, for the service that asks.  (A drop to `user` is checked by
 * conf_validate(), which also serves `wrapd check`.)  0 or -1.
 */
static int
cmd_run_check_accounts(const struct wrapd_conf *c, bool reload)
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
		cmd_run_conf_error(reload,
		    "service %s: user %s: wrapd runs as uid %lu, not root, "
		    "and cannot start programs as another account",
		    s->name, s->user, (unsigned long)geteuid());
		return -1;
	}
	return 0;
}

/*
 * The configuration file names the rules and can run programs: take it
 * only from root or the owner (conf_trust.h), at startup and on every
 * reload.  The flags marked both then override it, and are validated with
 * it (a --user that does not exist).
 */
static struct wrapd_conf *
cmd_run_load_config(struct cmd_run_args *a, bool reload, struct conf_errs *errs)
{
	char why[1024];
	struct wrapd_conf *c;

	if (conf_trust_path(a->config, a->owner, why, sizeof why) < 0) {
		cmd_run_conf_error(reload, "%s: %s", a->config, why);
		return NULL;
	}
	c = conf_load_file(a->config, errs);
	if (c != NULL &&
	    (cmd_run_apply(a, c, NULL, errs) < 0 ||
	        conf_validate(c, errs) != 0)) {
		conf_free(c);
		return NULL;
	}
	return c;
}

/*
 * Print the errors of a load: to the person starting wrapd, the flags'
 * as "wrapd: --flag: ..."; to the log on reload (or for inetd).
 */
static void
cmd_run_print_errors(const struct conf_errs *errs, bool reload)
{
	char msg[CONF_ERR_TEXT_MAX];
	size_t i;

	for (i = 0; i < errs->n; i++) {
		conf_err_format(&errs->v[i], "", msg, sizeof msg);
		if (reload || cmd_run_stderr_is_client)
			log_errx("%s", msg);
		else if (errs->v[i].line == 0) /* a flag's: "wrapd: --x: " */
			cmd_run_complain("%s", msg);
		else
			fprintf(stderr, "%s\n", msg);
	}
}

/* A warning of conf_validate(), at file:line:col when it has a place. */
static void
cmd_run_warn(const struct conf_err *w)
{
	char msg[CONF_ERR_TEXT_MAX];

	if (w->file == NULL && w->line == 0) {
		log_warnx("%s", w->msg); /* the command line's */
		return;
	}
	conf_err_format(w, "warning: ", msg, sizeof msg);
	log_warnx("%s", msg);
}

/* server_conf_fn: build the conf at startup and on every reload. */
static struct wrapd_conf *
cmd_run_make_conf(void *arg, bool reload)
{
	struct cmd_run_args *a = arg;
	struct conf_errs errs = {0};
	struct wrapd_conf *c;
	size_t i;

	if (a->config != NULL)
		c = cmd_run_load_config(a, reload, &errs);
	else
		c = cmd_run_quick_conf(a, &errs);
	if (c == NULL)
		cmd_run_print_errors(&errs, reload);
	conf_errs_free(&errs);
	/* Legal but dangerous (conf_validate): said at start and reload
	 * (not for the probe that sets the log up: it would say it twice). */
	for (i = 0; !cmd_run_probing && c != NULL && c->warnings != NULL &&
	     i < c->warnings->n;
	     i++)
		cmd_run_warn(&c->warnings->v[i]);
	if (c != NULL && cmd_run_check_accounts(c, reload) < 0) {
		conf_free(c);
		c = NULL;
	}
	return c;
}

/*
 * getopt_long's table: the options below, then one per cmd_run_flags[]
 * row (the value CMD_RUN_OPT_FLAG + row).
 */
static const struct option cmd_run_own_options[] = {
    {"config", required_argument, NULL, 'c'},
    {"daemon", required_argument, NULL, 'd'},
    {"drain-timeout", required_argument, NULL, CMD_RUN_OPT_DRAIN},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
};
#define CMD_RUN_NOWN (sizeof cmd_run_own_options / sizeof *cmd_run_own_options)

static void
cmd_run_options(struct option *o, char *letters, size_t size)
{
	size_t i, n = 0;

	memcpy(o, cmd_run_own_options, sizeof cmd_run_own_options);
	for (i = 0; i < CMD_RUN_NFLAGS; i++)
		o[CMD_RUN_NOWN + i] = (struct option){cmd_run_flags[i].name,
		    cmd_run_flags[i].fixed ? no_argument : required_argument,
		    NULL, CMD_RUN_OPT_FLAG + (int)i};
	o[CMD_RUN_NOWN + CMD_RUN_NFLAGS] = (struct option){NULL, 0, NULL, 0};
	/* "+": stop at the first non-option, as "--" does. */
	n = (size_t)snprintf(letters, size, "+c:d:vhV");
	for (i = 0; i < CMD_RUN_NFLAGS && n + 3 < size; i++)
		if (cmd_run_flags[i].letter != 0) {
			letters[n++] = (char)cmd_run_flags[i].letter;
			if (cmd_run_flags[i].fixed == NULL)
				letters[n++] = ':';
		}
	letters[n] = '\0';
}

/* The row of a short option, or NULL. */
static const struct cmd_run_flag *
cmd_run_flag_of(int ch)
{
	size_t i;

	if (ch >= CMD_RUN_OPT_FLAG &&
	    ch < CMD_RUN_OPT_FLAG + (int)CMD_RUN_NFLAGS)
		return &cmd_run_flags[ch - CMD_RUN_OPT_FLAG];
	for (i = 0; i < CMD_RUN_NFLAGS; i++)
		if (ch != 0 && cmd_run_flags[i].letter == ch)
			return &cmd_run_flags[i];
	return NULL;
}

/* Split off "-- PROGRAM ARGS...": what follows is the program to run. */
static int
cmd_run_split_program(int *argc, char **argv, struct cmd_run_args *a)
{
	int i;

	for (i = 1; i < *argc; i++)
		if (strcmp(argv[i], "--") == 0) {
			a->exec_argv = argv + i + 1;
			argv[i] = NULL;
			*argc = i;
			if (a->exec_argv[0] == NULL)
				return cmd_run_usage_error(
				    "%s", "-- needs a program");
			break;
		}
	return 0;
}

/*
 * Parse the command line into a.  0 to go on; else the exit status
 * (2 for a usage error, 0 after --help and --version).
 */
static int
cmd_run_parse(int argc, char **argv, struct cmd_run_args *a)
{
	struct option o[CMD_RUN_NOWN + CMD_RUN_NFLAGS + 1];
	const struct cmd_run_flag *f;
	char letters[64];
	int ch, rc;

	if ((rc = cmd_run_split_program(&argc, argv, a)) != 0)
		return rc;
	if ((a->settings = calloc((size_t)argc + 1, sizeof *a->settings)) ==
	    NULL)
		return cmd_run_usage_error("%s", "out of memory");
	cmd_run_options(o, letters, sizeof letters);
	optind = 1;
	while ((ch = getopt_long(argc, argv, letters, o, NULL)) != -1) {
		if ((f = cmd_run_flag_of(ch)) != NULL) {
			a->settings[a->nsettings++] = (struct cmd_run_setting){
			    f, f->fixed != NULL ? f->fixed : optarg};
			continue;
		}
		switch (ch) {
		case 'c':
			a->config = optarg;
			break;
		case 'd':
			a->daemon = optarg;
			break;
		case CMD_RUN_OPT_DRAIN:
			/* The same syntax as the file's durations. */
			if (conf_parse_duration(optarg, &a->drain_ms) < 0)
				return cmd_run_usage_error(
				    "--drain-timeout %s: "
				    "not a duration (e.g. "
				    "5s, 250ms)",
				    optarg);
			break;
		case 'v':
			a->verbose++;
			break;
		case 'h':
			cmd_run_usage(stdout);
			return -1;
		case 'V':
			printf("wrapd %s\n", WRAPD_VERSION);
			return -1;
		default:
			return cmd_run_usage_error("%s", "bad option");
		}
	}
	if (optind < argc)
		return cmd_run_usage_error(
		    "unexpected argument: %s", argv[optind]);
	return 0;
}

/* Quick mode or a file, and the flags that belong to it.  0 or 2. */
static int
cmd_run_check_mode(struct cmd_run_args *a)
{
	const struct cmd_run_flag *f;
	bool has_listen = false, has_backend = false, service;
	char msg[256];
	size_t i;

	for (i = 0; i < a->nsettings; i++) {
		f = a->settings[i].flag;
		has_listen =
		    has_listen || strcmp(f->key, "services[].listen") == 0;
		has_backend =
		    has_backend || strcmp(f->key, "services[].backend") == 0;
	}
	a->quick = has_listen || has_backend || a->exec_argv != NULL;
	if (a->quick && a->config != NULL)
		return cmd_run_usage_error(
		    "%s", "--config and --listen/--backend/-- do not mix");
	for (i = 0; !a->quick && i < a->nsettings; i++) {
		f = a->settings[i].flag;
		if (f->both)
			continue;
		(void)conf_set_known(f->key, NULL, &service);
		snprintf(msg, sizeof msg,
		    "--%s needs quick mode (--listen); in a configuration "
		    "file, set %s%s",
		    f->name, service ? "the service's " : "",
		    service ? f->key + strlen("services[].") : f->key);
		return cmd_run_usage_error("%s", msg);
	}
	if (!a->quick && a->daemon != NULL)
		return cmd_run_usage_error("%s",
		    "--daemon needs quick mode (--listen); in a configuration "
		    "file, set the service's daemon");
	if (a->quick && !has_listen)
		return cmd_run_usage_error("%s", "quick mode needs --listen");
	if (a->quick && has_backend == (a->exec_argv != NULL))
		return cmd_run_usage_error("%s",
		    "quick mode needs exactly one of --backend or -- PROGRAM");
	if (!a->quick && a->config == NULL)
		a->config = CONF_DEFAULT_PATH;
	return 0;
}

/*
 * Build the configuration once to set the log up (its facility and
 * format), then let the server build its own with the same function that
 * reloads use.  0, or the exit status.
 */
static int
cmd_run_setup_log(struct cmd_run_args *a)
{
	struct wrapd_conf *probe;
	bool to_stderr;

	cmd_run_probing = true;
	probe = cmd_run_make_conf(a, false);
	cmd_run_probing = false;
	if (probe == NULL) {
		if (!a->bad_flag_value)
			return 1;
		if (!cmd_run_stderr_is_client)
			fprintf(stderr, "Try 'wrapd --help'.\n");
		return 2;
	}
	to_stderr = probe->log_stderr && !cmd_run_stderr_is_client;
	if (log_setup(to_stderr, probe->syslog_facility,
	        probe->log_format == CONF_LOG_JSON,
	        a->verbose ? LOG_DEBUG : LOG_INFO) < 0) {
		cmd_run_complain(
		    "unknown syslog facility %s", probe->syslog_facility);
		conf_free(probe);
		return 1;
	}
	conf_free(probe);
	return 0;
}

int
cmd_run(int argc, char **argv)
{
	struct cmd_run_args a;
	struct server_opts o;
	int rc;

	cmd_run_private_stderr();
	memset(&a, 0, sizeof(a));
	a.drain_ms = CMD_RUN_DRAIN_MS;
	a.owner = geteuid();
	if (cmd_run_flags_check() < 0) {
		rc = 1;
		goto out;
	}
	if ((rc = cmd_run_parse(argc, argv, &a)) != 0) {
		rc = rc < 0 ? 0 : rc; /* --help, --version */
		goto out;
	}
	if ((rc = cmd_run_check_mode(&a)) != 0)
		goto out;
	/* DNS look-ups run on the threadpool: size it before first use. */
	(void)lookup_name_init_threadpool(0);
	if ((rc = cmd_run_setup_log(&a)) != 0)
		goto out;

	memset(&o, 0, sizeof(o));
	o.config_path = a.config;
	o.make_conf = cmd_run_make_conf;
	o.make_arg = &a;
	o.workers_override = 0;
	o.drain_ms = a.drain_ms;
	o.verbose = a.verbose > 0;
	o.owner = a.owner;
	rc = server_run(&o);
out:
	free(a.settings);
	return rc;
}
