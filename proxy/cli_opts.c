/*
 * cli_opts.c - the options `wrapd check` and `wrapd match` share, and the
 * configuration they read with --config.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli_opts.h"
#include "cli_text.h"
#include "conf_trust.h"

int
cli_opts_take(struct cli_opts *o, int c, const char *arg)
{
	switch (c) {
	case CLI_OPT_ALLOW:
		o->allow_path = arg;
		return 1;
	case CLI_OPT_DENY:
		o->deny_path = arg;
		return 1;
	case CLI_OPT_GEOIP_COUNTRY:
		o->geo_paths[0] = arg;
		return 1;
	case CLI_OPT_GEOIP_ASN:
		o->geo_paths[1] = arg;
		return 1;
	case CLI_OPT_CONFIG:
		o->config_path = arg;
		return 1;
	default:
		return 0;
	}
}

void
cli_opts_bad(const char *cmd, char **argv)
{
	/* optind is past the option, or past its missing argument. */
	if (optopt != 0 && optopt < CLI_OPT_ALLOW)
		fprintf(stderr, "wrapd %s: bad option -%c\n", cmd, optopt);
	else
		fprintf(
		    stderr, "wrapd %s: bad option %s\n", cmd, argv[optind - 1]);
}

struct wrapd_conf *
cli_opts_load_conf(const char *path, FILE *fp, size_t *nerrs)
{
	struct conf_errs errs = {0};
	struct wrapd_conf *c;
	char why[1024];
	size_t i;

	*nerrs = 0;
	/* As wrapd itself: a file someone else could change is refused. */
	if (conf_trust_path(path, geteuid(), why, sizeof why) < 0) {
		cli_text_diag(fp, path, 0, 0, 1, why);
		*nerrs = 1;
		return NULL;
	}
	c = conf_load_file(path, &errs);
	for (i = 0; i < errs.n; i++)
		cli_text_diag(fp,
		    errs.v[i].file != NULL ? errs.v[i].file : path,
		    errs.v[i].line, errs.v[i].col, 1, errs.v[i].msg);
	*nerrs = errs.n;
	conf_errs_free(&errs);
	if (c == NULL && *nerrs == 0) {
		cli_text_diag(fp, path, 0, 0, 1, "cannot be loaded");
		*nerrs = 1;
	}
	return c;
}

void
cli_opts_from_conf(struct cli_opts *o, const struct wrapd_conf *c)
{
	if (o->allow_path == NULL)
		o->allow_path = c->allow_path;
	if (o->deny_path == NULL)
		o->deny_path = c->deny_path;
	if (o->geo_paths[0] == NULL)
		o->geo_paths[0] = c->geoip_country;
	if (o->geo_paths[1] == NULL)
		o->geo_paths[1] = c->geoip_asn;
}
