/*
 * check.h - the parts of `wrapd check` (cmd_check.c):
 *
 *   check_rules.c  the rule files as wrapd loads them (lint on), and what
 *                  their options name on disk: programs, banner directories;
 *                  with a configuration, daemon names no service has
 *   check_dns.c    --dns: the host names of the rules, looked up
 *   check_conf.c   --config: the configuration, its services' programs,
 *                  and with --connect their backends
 *
 * Every problem is one line on k->out, `file:line:col: severity: message`,
 * counted in k->errors or k->warnings.
 */
#ifndef WRAPD_CHECK_H
#define WRAPD_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "acl.h"
#include "cli_opts.h"
#include "conf.h"

struct check {
	FILE *out;
	struct cli_opts o;
	bool dns;     /* --dns */
	bool connect; /* --connect */
	uid_t owner;  /* whose files may be trusted: the user running it */
	struct wrapd_conf *conf; /* --config, once loaded */
	struct acl_ruleset *rs;
	size_t errors, warnings;
};

/* One diagnostic, counted. */
void cmd_check_diag(struct check *k, const char *file, unsigned line,
    unsigned col, bool error, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* Load the GeoIP databases and the rules into k->rs (NULL: no memory). */
void check_rules_load(struct check *k);
/* The programs and banner directories the rules' options name. */
void check_rules_options(struct check *k);
/* With a configuration: daemon patterns that no service's daemon matches. */
void check_rules_daemons(struct check *k);
/*
 * Can path be run?  NULL, or why not ("does not exist", "is not
 * executable", ...).
 */
const char *check_rules_program(const char *path);

/* --dns. */
void check_dns_names(struct check *k);

/* Load path into k->conf; false when it cannot be used (reported). */
bool check_conf_load(struct check *k, const char *path);
/* The services: their programs, and with --connect their backends. */
void check_conf_services(struct check *k);

#endif /* WRAPD_CHECK_H */
