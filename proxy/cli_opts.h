/*
 * cli_opts.h - the options `wrapd check` and `wrapd match` share: where the
 * rules, the GeoIP databases and the configuration come from, and --help.
 *
 * Each command's getopt_long table starts with CLI_OPTS_SHARED and gives
 * its own options ids from CLI_OPT_OWN on; cli_opts_take() handles the
 * shared ones.  With --config, what the command line left unset comes from
 * the configuration (cli_opts_from_conf): a flag given wins.
 */
#ifndef WRAPD_CLI_OPTS_H
#define WRAPD_CLI_OPTS_H

#include <getopt.h>
#include <stdio.h>

#include "conf.h"

enum cli_opt_id {
	CLI_OPT_ALLOW = 256,
	CLI_OPT_DENY,
	CLI_OPT_GEOIP_COUNTRY,
	CLI_OPT_GEOIP_ASN,
	CLI_OPT_CONFIG,
	CLI_OPT_HELP,
	CLI_OPT_OWN, /* a command's own options start here */
};

/* The shared entries of a getopt_long table (a list, no braces). */
/* clang-format off */
#define CLI_OPTS_SHARED                                                   \
	{"allow", required_argument, NULL, CLI_OPT_ALLOW},                \
	{"deny", required_argument, NULL, CLI_OPT_DENY},                  \
	{"geoip-country", required_argument, NULL, CLI_OPT_GEOIP_COUNTRY}, \
	{"geoip-asn", required_argument, NULL, CLI_OPT_GEOIP_ASN},        \
	{"config", required_argument, NULL, CLI_OPT_CONFIG},              \
	{"help", no_argument, NULL, CLI_OPT_HELP}
/* clang-format on */

struct cli_opts {
	const char *allow_path; /* NULL: the configuration's, or libwrap's */
	const char *deny_path;
	const char *geo_paths[2]; /* country, asn; NULL: none */
	const char *config_path;  /* --config, or NULL */
};

/* Take option c (getopt_long's value) if it is a shared one: 1, else 0. */
int cli_opts_take(struct cli_opts *o, int c, const char *arg);

/*
 * The usage error for what getopt_long refused (it returned '?'), on
 * stderr, prefixed with "wrapd CMD: ".
 */
void cli_opts_bad(const char *cmd, char **argv);

/*
 * Read the configuration at path as wrapd does: refused when someone other
 * than root or the user running the command could change it (conf_trust.h),
 * then loaded and validated.  Every problem is a diagnostic on fp
 * (file:line:col: error: message); *nerrs counts them.  NULL on any.
 */
struct wrapd_conf *cli_opts_load_conf(
    const char *path, FILE *fp, size_t *nerrs);

/* Fill what the command line left unset from c (its tables, databases). */
void cli_opts_from_conf(struct cli_opts *o, const struct wrapd_conf *c);

#endif /* WRAPD_CLI_OPTS_H */
