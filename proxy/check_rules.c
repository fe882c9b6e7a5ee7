/*
 * check_rules.c - the rule files as wrapd loads them, with lint on (acl/
 * reports what the text says), and what only the file system can tell
 * about their options: a spawn, twist or aclexec program that is not
 * there, a banners directory that is not there.  With a configuration,
 * the daemon names of the rules are compared with its services'.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "conf_trust.h"
#include "geoip.h"

/* A GeoIP database wrapd would refuse: an error about the file itself. */
static void
check_rules_geoip_report(void *arg, const char *path, const char *msg)
{
	cmd_check_diag(arg, path, 0, 0, true, "%s", msg);
}

void
check_rules_load(struct check *k)
{
	struct acl_load_opts lo;
	struct acl_diags diags;
	struct geoip geo;
	size_t i;

	memset(&lo, 0, sizeof(lo));
	memset(&diags, 0, sizeof(diags));
	lo.allow_path = k->o.allow_path;
	lo.deny_path = k->o.deny_path;
	lo.lint = true;
	lo.vet = conf_trust_vet;
	lo.vet_arg = &k->owner;
	/*
	 * As wrapd reads them.  A database refused is an error, and the
	 * patterns that need it are reported as having none.
	 */
	(void)geoip_open(&geo, k->o.geo_paths[0], k->o.geo_paths[1],
	    conf_trust_vet, &k->owner, check_rules_geoip_report, k);
	lo.geo = geoip_have(&geo);
	geoip_close(&geo);
	k->rs = acl_ruleset_load(&lo, &diags);
	for (i = 0; k->rs != NULL && i < diags.n; i++)
		cmd_check_diag(k, diags.v[i].file, diags.v[i].line,
		    diags.v[i].col, diags.v[i].severity == ACL_SEV_ERROR, "%s",
		    diags.v[i].msg);
	acl_diags_free(&diags);
}

const char *
check_rules_program(const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return errno == ENOENT || errno == ENOTDIR ? "does not exist"
		                                           : strerror(errno);
	if (!S_ISREG(st.st_mode))
		return "is not a regular file";
	if ((st.st_mode & 0111) == 0 || access(path, X_OK) != 0)
		return "is not executable";
	return NULL;
}

/*
 * The program a shell command starts, when it can be known without a
 * shell: a first word that is an absolute path with no %-expansion, quote
 * or other shell syntax in it.  Copied into buf; false otherwise.
 */
static bool
check_rules_first_word(const char *cmd, char *buf, size_t bufsz)
{
	size_t n;

	cmd += strspn(cmd, " \t");
	n = strcspn(cmd, " \t");
	if (cmd[0] != '/' || n >= bufsz ||
	    strcspn(cmd, "%'\"\\$`;|&<>(){}*?[~=") < n)
		return false;
	memcpy(buf, cmd, n);
	buf[n] = '\0';
	return true;
}

static void
check_rules_option(
    struct check *k, const struct acl_rule *r, const struct acl_option *o)
{
	char prog[4096];
	const char *why;
	struct stat st;

	switch (o->kind) {
	case ACL_OPT_SPAWN:
	case ACL_OPT_TWIST:
	case ACL_OPT_ACLEXEC:
		if (o->value == NULL ||
		    !check_rules_first_word(o->value, prog, sizeof prog) ||
		    (why = check_rules_program(prog)) == NULL)
			return;
		cmd_check_diag(k, r->file, o->line, o->col, false,
		    "%s: program \"%s\" %s: the command fails when it runs",
		    acl_parse_opt_name(o->kind), prog, why);
		return;
	case ACL_OPT_BANNERS:
		if (o->value == NULL)
			return;
		if (stat(o->value, &st) != 0)
			cmd_check_diag(k, r->file, o->line, o->col, false,
			    "banners: directory \"%s\" %s: no banner is sent",
			    o->value,
			    errno == ENOENT || errno == ENOTDIR
			        ? "does not exist"
			        : strerror(errno));
		else if (!S_ISDIR(st.st_mode))
			cmd_check_diag(k, r->file, o->line, o->col, false,
			    "banners: \"%s\" is not a directory: no banner is "
			    "sent",
			    o->value);
		return;
	default:
		return;
	}
}

void
check_rules_options(struct check *k)
{
	static const enum acl_table tables[] = {
	    ACL_TABLE_ALLOW, ACL_TABLE_DENY};
	const struct acl_rule *r;
	size_t t, i, j;

	for (t = 0; t < 2; t++)
		for (i = 0; (r = acl_ruleset_rule(k->rs, tables[t], i)) != NULL;
		     i++)
			for (j = 0; j < r->nopts; j++)
				check_rules_option(k, r, &r->opts[j]);
}

static void
check_rules_unused_daemon(void *arg, const char *file, unsigned line,
    unsigned col, const char *pattern)
{
	struct check *k = arg;

	cmd_check_diag(k, file, line, col, false,
	    "daemon pattern \"%s\" matches no service's daemon in %s (a "
	    "typo, or a rule for another program)",
	    pattern, k->o.config_path);
}

void
check_rules_daemons(struct check *k)
{
	const char **names;
	size_t i;

	if ((names = calloc(k->conf->nservices + 1, sizeof(*names))) == NULL) {
		cmd_check_diag(k, k->o.config_path, 0, 0, true,
		    "out of memory: daemon names not checked");
		return;
	}
	for (i = 0; i < k->conf->nservices; i++)
		names[i] = k->conf->services[i].daemon;
	acl_ruleset_foreach_unused_daemon(
	    k->rs, names, k->conf->nservices, check_rules_unused_daemon, k);
	free(names);
}
