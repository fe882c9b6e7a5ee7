/*
 * cmd_match.c - `wrapd match`: predict what the daemon does with one
 * connection, the way tcpdmatch(8) does, by running the daemon's own code
 * (match.h has the parts).
 *
 * The output format is a contract used by external tests (see wrapd(8)):
 * readable lines ending in exactly one `access: granted|denied|delegated`,
 * or with --json one JSON object on one line.  A client given as a host
 * name is decided for each of its addresses: one block per address, or
 * with --json one object {"host", "results": [one object per address]}.
 * Exit 0 whenever the prediction ran, whatever the verdict; 1 when the
 * client's host name has no address; 2 on usage errors (a configuration
 * that cannot be used, or a service it does not have, included).
 *
 * Like tcpdmatch this is a dry run: spawn, twist and aclexec commands are
 * expanded and shown, never run; aclexec is assumed to exit 0.
 *
 * With --geoip-country / --geoip-asn the client is looked up in those
 * databases up front, as the proxy does, and the answers are shown; a
 * country= or asn= pattern reached without its database has no answer,
 * and the request is denied there, as wrapd would refuse such rules.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_json.h"
#include "cli_opts.h"
#include "cli_resolve.h"
#include "cli_text.h"
#include "commands.h"
#include "match.h"

/* A host name has at most this many addresses decided (and shown). */
#define CMD_MATCH_ADDRS_MAX 32

enum cmd_match_opt {
	CMD_MATCH_NAME = CLI_OPT_OWN,
	CMD_MATCH_USER,
	CMD_MATCH_SERVER,
	CMD_MATCH_SERVER_NAME,
	CMD_MATCH_SERVER_PORT,
	CMD_MATCH_CLIENT_PORT,
	CMD_MATCH_EXPAND,
	CMD_MATCH_JSON,
	CMD_MATCH_SERVICE,
};

struct cmd_match {
	struct cli_opts o;
	struct match_env env;
	const char *service; /* --service, or NULL */
	const char *client;  /* as given */
	bool json;
	struct wrapd_conf *conf;
	struct acl_ruleset *rs;
	struct acl_addr addrs[CMD_MATCH_ADDRS_MAX];
	size_t naddrs;
	bool by_name; /* client is a host name */
};

static void
cmd_match_usage(FILE *fp)
{
	fputs("usage: wrapd match [--allow FILE] [--deny FILE] [--name NAME] "
	      "[--user USER]\n"
	      "                   [--server ADDR] [--server-name NAME] "
	      "[--server-port N]\n"
	      "                   [--client-port N] [--expand TEMPLATE] "
	      "[--json]\n"
	      "                   [--geoip-country FILE] [--geoip-asn FILE]\n"
	      "                   [--config FILE] [--]\n"
	      "                   DAEMON CLIENT\n"
	      "       wrapd match [options] [--config FILE] --service NAME "
	      "[--] CLIENT\n"
	      "CLIENT: an IPv4 or IPv6 address, `unknown', or a host name "
	      "(each of its\n"
	      "addresses is decided)\n",
	    fp);
}

/*
 * Take one of match's own options: 0, -1 when its value is not one
 * (reported), -2 when c is none of them.
 */
static int
cmd_match_own(struct cmd_match *m, int c, const char *arg)
{
	int bad = 0;

	switch (c) {
	case CMD_MATCH_NAME:
		m->env.client_name = arg;
		break;
	case CMD_MATCH_USER:
		m->env.user = arg;
		break;
	case CMD_MATCH_SERVER:
		bad = match_facts_parse_addr(arg, &m->env.server) != 0;
		break;
	case CMD_MATCH_SERVER_NAME:
		m->env.server_name = arg;
		break;
	case CMD_MATCH_SERVER_PORT:
		bad = match_facts_parse_port(arg, &m->env.server_port) != 0;
		break;
	case CMD_MATCH_CLIENT_PORT:
		bad = match_facts_parse_port(arg, &m->env.client_port) != 0;
		break;
	case CMD_MATCH_EXPAND:
		m->env.expand = arg;
		break;
	case CMD_MATCH_JSON:
		m->json = true;
		break;
	case CMD_MATCH_SERVICE:
		m->service = arg;
		break;
	default:
		return -2;
	}
	if (bad)
		fprintf(stderr, "wrapd match: bad %s: %s\n",
		    c == CMD_MATCH_SERVER            ? "server address"
		        : c == CMD_MATCH_SERVER_PORT ? "server port"
		                                     : "client port",
		    arg);
	return bad ? -1 : 0;
}

/* 0 with m filled, 1 for --help, 2 for a usage error (reported). */
static int
cmd_match_args(struct cmd_match *m, int argc, char **argv)
{
	static const struct option longopts[] = {
	    CLI_OPTS_SHARED,
	    {"name", required_argument, NULL, CMD_MATCH_NAME},
	    {"user", required_argument, NULL, CMD_MATCH_USER},
	    {"server", required_argument, NULL, CMD_MATCH_SERVER},
	    {"server-name", required_argument, NULL, CMD_MATCH_SERVER_NAME},
	    {"server-port", required_argument, NULL, CMD_MATCH_SERVER_PORT},
	    {"client-port", required_argument, NULL, CMD_MATCH_CLIENT_PORT},
	    {"expand", required_argument, NULL, CMD_MATCH_EXPAND},
	    {"json", no_argument, NULL, CMD_MATCH_JSON},
	    {"service", required_argument, NULL, CMD_MATCH_SERVICE},
	    {NULL, 0, NULL, 0},
	};
	int c, want;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (cli_opts_take(&m->o, c, optarg))
			continue;
		if (c == CLI_OPT_HELP)
			return 1;
		switch (cmd_match_own(m, c, optarg)) {
		case 0:
			continue;
		case -1:
			return 2;
		default:
			cli_opts_bad("match", argv);
			cmd_match_usage(stderr);
			return 2;
		}
	}
	/* With --service the daemon name is the service's. */
	want = m->service != NULL ? 1 : 2;
	if (argc - optind != want) {
		fprintf(stderr, "wrapd match: %s\n",
		    argc - optind > want ? "too many arguments"
		        : want == 1      ? "CLIENT is required"
		                         : "DAEMON and CLIENT are required");
		cmd_match_usage(stderr);
		return 2;
	}
	m->env.daemon = want == 2 ? argv[optind] : NULL;
	m->client = argv[argc - 1];
	return 0;
}

/*
 * Could text be a host name to look up?  Letters, digits, '-' and '_' in
 * dot-separated labels of 1..63 bytes, 253 at most, the last one not all
 * digits: "10.0.0.300" is a bad address, not a name for DNS.
 */
static bool
cmd_match_is_hostname(const char *text)
{
	size_t n = strlen(text), label = 0, i;
	bool digits_only = true;

	if (n == 0 || n > 253 || text[0] == '.' || text[0] == '-')
		return false;
	for (i = 0; i < n; i++) {
		char ch = text[i];

		if (ch == '.') {
			if (label == 0 && i + 1 < n)
				return false;
			label = 0;
			if (i + 1 < n)
				digits_only = true;
			continue;
		}
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		        (ch >= '0' && ch <= '9') || ch == '-' || ch == '_'))
			return false;
		if (++label > 63)
			return false;
		if (ch < '0' || ch > '9')
			digits_only = false;
	}
	return !digits_only;
}

/* The client's addresses: the one given, or those of a host name. */
static int
cmd_match_client(struct cmd_match *m)
{
	const char *err;

	if (match_facts_parse_addr(m->client, &m->addrs[0]) == 0) {
		m->naddrs = 1;
		return 0;
	}
	if (!cmd_match_is_hostname(m->client)) {
		fprintf(
		    stderr, "wrapd match: bad client address: %s\n", m->client);
		return 2;
	}
	m->by_name = true;
	m->naddrs =
	    cli_resolve_addrs(m->client, m->addrs, CMD_MATCH_ADDRS_MAX, &err);
	if (m->naddrs == 0) {
		fprintf(stderr, "wrapd match: %s: %s\n", m->client, err);
		return 1;
	}
	return 0;
}

/* --config / --service: the tables, databases and daemon name given there. */
static int
cmd_match_conf(struct cmd_match *m)
{
	const char *path = m->o.config_path;
	size_t i, nerrs;

	if (path == NULL && m->service == NULL)
		return 0;
	if (path == NULL)
		path = CONF_DEFAULT_PATH;
	if ((m->conf = cli_opts_load_conf(path, stderr, &nerrs)) == NULL)
		return 2;
	cli_opts_from_conf(&m->o, m->conf);
	if (m->service == NULL)
		return 0;
	for (i = 0; i < m->conf->nservices; i++)
		if (strcmp(m->conf->services[i].name, m->service) == 0)
			m->env.service = &m->conf->services[i];
	if (m->env.service == NULL) {
		fprintf(stderr, "wrapd match: %s has no service \"", path);
		cli_text(stderr, m->service);
		fputs("\"\n", stderr);
		return 2;
	}
	m->env.daemon = m->env.service->daemon;
	return 0;
}

/*
 * Open each database given; one that cannot be used is reported, and its
 * fact will have no answer (one good database is still used).
 */
static void
cmd_match_geo_open(struct cmd_match *m)
{
	char err[512];
	int k;

	for (k = 0; k < 2; k++) {
		struct geoip_db **db =
		    k == 0 ? &m->env.geo.country : &m->env.geo.asn;

		if (m->o.geo_paths[k] == NULL)
			continue;
		m->env.geo_given |= k == 0 ? ACL_GEO_COUNTRY : ACL_GEO_ASN;
		*db = geoip_db_open(m->o.geo_paths[k],
		    k == 0 ? GEOIP_COUNTRY : GEOIP_ASN, NULL, NULL, err,
		    sizeof err);
		if (*db == NULL)
			cli_text_diag(stderr, m->o.geo_paths[k], 0, 0, 1, err);
	}
}

static struct acl_ruleset *
cmd_match_rules(const struct cmd_match *m)
{
	struct acl_load_opts lo;
	struct acl_diags diags;
	struct acl_ruleset *rs;
	size_t i;

	memset(&lo, 0, sizeof(lo));
	memset(&diags, 0, sizeof(diags));
	lo.allow_path = m->o.allow_path;
	lo.deny_path = m->o.deny_path;
	/* The rules are not also told that a database given is missing. */
	lo.geo = m->env.geo_given;
	rs = acl_ruleset_load(&lo, &diags);
	for (i = 0; i < diags.n; i++)
		cli_text_diag(stderr, diags.v[i].file, diags.v[i].line,
		    diags.v[i].col, diags.v[i].severity == ACL_SEV_ERROR,
		    diags.v[i].msg);
	acl_diags_free(&diags);
	return rs;
}

/* Decide and print for each address; 0, or 1 when out of memory. */
static int
cmd_match_run(struct cmd_match *m)
{
	struct match_facts f;
	struct match_prediction p;
	size_t i;
	int rc = 0;

	if (m->by_name && m->json) {
		fputc('{', stdout);
		cli_json_key(stdout, "host");
		cli_json_str(stdout, m->client);
		fputs(",\"results\":[", stdout);
	}
	for (i = 0; i < m->naddrs; i++) {
		match_facts_init(&f, &m->env, &m->addrs[i]);
		if (match_predict(&f, &p) != 0)
			rc = 1;
		if (m->json) {
			fputs(i > 0 ? "," : "", stdout);
			match_json_print(stdout, &f, &p);
		} else {
			if (i > 0)
				fputc('\n', stdout);
			if (m->by_name) {
				fputs("client:   host     ", stdout);
				cli_text(stdout, m->client);
				printf(" (address %zu of %zu)\n", i + 1,
				    m->naddrs);
			}
			match_text_print(stdout, &f, &p);
		}
		match_predict_free(&p);
	}
	if (m->json)
		fputs(m->by_name ? "]}\n" : "\n", stdout);
	return rc;
}

int
cmd_match(int argc, char **argv)
{
	struct cmd_match m;
	int rc;

	memset(&m, 0, sizeof(m));
	m.env.server.family = AF_UNSPEC;
	m.env.server_port = m.env.client_port = -1;
	if ((rc = cmd_match_args(&m, argc, argv)) == 1) {
		cmd_match_usage(stdout);
		return 0;
	}
	if (rc == 0)
		rc = cmd_match_conf(&m);
	if (rc == 0)
		rc = cmd_match_client(&m);
	if (rc == 0) {
		cmd_match_geo_open(&m);
		if ((m.rs = cmd_match_rules(&m)) == NULL) {
			fprintf(stderr, "wrapd match: out of memory\n");
			rc = 1;
		}
	}
	if (rc == 0) {
		m.env.rs = m.rs;
		rc = cmd_match_run(&m);
		fflush(stdout);
	}
	if (m.rs != NULL)
		acl_ruleset_unref(m.rs);
	geoip_close(&m.env.geo);
	if (m.conf != NULL)
		conf_free(m.conf);
	return rc;
}
