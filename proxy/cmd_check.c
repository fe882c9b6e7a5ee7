/*
 * cmd_check.c - `wrapd check`: lint hosts.allow / hosts.deny, as tcpdchk(8)
 * does, or with --config a whole configuration, as `nginx -t` does; print
 * every problem on stdout as `file:line:col: severity: msg` (tcpdchk's go
 * to syslog, where they are usually lost).  check.h has the parts.
 *
 * Besides what tcpdchk finds, it reports as errors what wrapd refuses to run
 * with: a /file list that cannot be read, a missing table other than the
 * defaults, files someone other than root or the user running the check
 * could change (conf_trust.h), GeoIP databases that wrapd would refuse,
 * country= / asn= patterns whose database is not given, and a
 * configuration wrapd would not load.  Warnings are what wrapd runs with
 * but probably should not: programs and banner directories that are not
 * there, daemon names no service has, and with --connect backends that do
 * not answer.
 *
 * Exit 0 when there is no error (warnings allowed), 1 when there is at least
 * one, 2 on usage errors.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "cli_text.h"
#include "commands.h"

enum cmd_check_opt {
	CMD_CHECK_DNS = CLI_OPT_OWN,
	CMD_CHECK_CONNECT,
};

static void
cmd_check_usage(FILE *fp)
{
	fputs("usage: wrapd check [--allow FILE] [--deny FILE] [--dns]\n"
	      "                   [--geoip-country FILE] [--geoip-asn FILE]\n"
	      "       wrapd check --config FILE [--connect] [--dns] "
	      "[--allow FILE] ...\n",
	    fp);
}

void
cmd_check_diag(struct check *k, const char *file, unsigned line, unsigned col,
    bool error, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	cli_text_diag(k->out, file, line, col, error, msg);
	if (error)
		k->errors++;
	else
		k->warnings++;
}

/* 0 with k filled, 1 for --help, 2 for a usage error (reported). */
static int
cmd_check_args(struct check *k, int argc, char **argv)
{
	static const struct option longopts[] = {
	    CLI_OPTS_SHARED,
	    {"dns", no_argument, NULL, CMD_CHECK_DNS},
	    {"connect", no_argument, NULL, CMD_CHECK_CONNECT},
	    {NULL, 0, NULL, 0},
	};
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (cli_opts_take(&k->o, c, optarg))
			continue;
		if (c == CLI_OPT_HELP)
			return 1;
		if (c == CMD_CHECK_DNS) {
			k->dns = true;
		} else if (c == CMD_CHECK_CONNECT) {
			k->connect = true;
		} else {
			cli_opts_bad("check", argv);
			cmd_check_usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "wrapd check: unexpected argument: %s\n",
		    argv[optind]);
		cmd_check_usage(stderr);
		return 2;
	}
	if (k->connect && k->o.config_path == NULL) {
		fprintf(stderr,
		    "wrapd check: --connect needs --config (the "
		    "backends are in the configuration)\n");
		return 2;
	}
	return 0;
}

/* The rules, and what they name, as wrapd would load them. */
static void
cmd_check_rules(struct check *k)
{
	check_rules_load(k);
	if (k->rs == NULL) {
		fprintf(stderr, "wrapd check: out of memory\n");
		k->errors++;
		return;
	}
	check_rules_options(k);
	if (k->conf != NULL)
		check_rules_daemons(k);
	if (k->dns)
		check_dns_names(k);
}

static void
cmd_check_summary(const struct check *k)
{
	fflush(k->out);
	fputs("wrapd check: ", stderr);
	if (k->o.config_path != NULL) {
		cli_text(stderr, k->o.config_path);
		fputs(k->rs != NULL ? " (" : "", stderr);
	}
	if (k->rs != NULL) {
		cli_text(stderr, acl_ruleset_path(k->rs, ACL_TABLE_ALLOW));
		fputs(", ", stderr);
		cli_text(stderr, acl_ruleset_path(k->rs, ACL_TABLE_DENY));
		fputs(k->o.config_path != NULL ? ")" : "", stderr);
	}
	fprintf(
	    stderr, ": %zu error(s), %zu warning(s)\n", k->errors, k->warnings);
}

int
cmd_check(int argc, char **argv)
{
	struct check k;
	int rc;

	memset(&k, 0, sizeof(k));
	k.out = stdout;
	/* The files wrapd itself would refuse, run by the same user. */
	k.owner = geteuid();
	if ((rc = cmd_check_args(&k, argc, argv)) != 0) {
		if (rc == 1)
			cmd_check_usage(stdout);
		return rc == 1 ? 0 : 2;
	}
	/* A configuration wrapd would not load names no rules to check. */
	if (k.o.config_path == NULL || check_conf_load(&k, k.o.config_path)) {
		if (k.conf != NULL) {
			cli_opts_from_conf(&k.o, k.conf);
			check_conf_services(&k);
		}
		cmd_check_rules(&k);
	}
	cmd_check_summary(&k);
	if (k.rs != NULL)
		acl_ruleset_unref(k.rs);
	if (k.conf != NULL)
		conf_free(k.conf);
	return k.errors > 0 ? 1 : 0;
}
