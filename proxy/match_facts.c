/*
 * match_facts.c - what `wrapd match` knows about one request, and how it
 * finds the rest: as the proxy does, and only when a rule or an option
 * asks (host names by the same double-reverse check, GeoIP facts from the
 * same databases).  The ident user is never asked for: it is what --user
 * says, or "unknown".
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_resolve.h"
#include "match.h"

int
match_facts_parse_port(const char *s, int *port)
{
	char *end;
	long v;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < 0 || v > 65535)
		return -1;
	*port = (int)v;
	return 0;
}

int
match_facts_parse_addr(const char *s, struct acl_addr *a)
{
	if (strcmp(s, ACL_UNKNOWN) == 0) {
		memset(a, 0, sizeof(*a));
		a->family = AF_UNSPEC;
		return 0;
	}
	return acl_addr_parse(a, s);
}

/* The host name of one side: given, or looked up now (the slow path). */
static const char *
match_facts_side_name(struct match_facts *f, struct match_side *side,
    const struct acl_endpoint *ep)
{
	struct sockaddr_storage ss;

	if (side->resolved)
		return side->name;
	if (side->given != NULL) {
		acl_request_copy_string(
		    side->name, sizeof(side->name), side->given);
	} else if (acl_addr_to_sockaddr(&ep->addr, 0, 0, &ss) > 0) {
		f->lookups++;
		cli_resolve_name((const struct sockaddr *)&ss, side->name,
		    sizeof(side->name));
	} else {
		acl_request_copy_string(
		    side->name, sizeof(side->name), ACL_UNKNOWN);
	}
	side->resolved = true;
	return side->name;
}

int
match_facts_supply(struct match_facts *f, int need)
{
	switch (need) {
	case ACL_NEED_CLIENT_NAME:
		f->req.client.name =
		    match_facts_side_name(f, &f->client, &f->req.client);
		return 0;
	case ACL_NEED_SERVER_NAME:
		f->req.server.name =
		    match_facts_side_name(f, &f->server, &f->req.server);
		return 0;
	case ACL_NEED_USER:
		/* No ident from a command line: the user is what was given. */
		acl_request_copy_string(f->user, sizeof(f->user),
		    f->env->user != NULL ? f->env->user : ACL_UNKNOWN);
		f->req.user = f->user;
		return 0;
	case ACL_NEED_GEO:
		/* Asked for only without the database: no answer. */
		f->geo_shown = true;
		if (f->req.geo.country_state == ACL_GEO_UNASKED)
			f->req.geo.country_state = ACL_GEO_FAILED;
		if (f->req.geo.asn_state == ACL_GEO_UNASKED)
			f->req.geo.asn_state = ACL_GEO_FAILED;
		return 0;
	default:
		return -1;
	}
}

void
match_facts_supply_needs(struct match_facts *f, unsigned needs)
{
	if ((needs & ACL_NEEDS_CLIENT_NAME) && f->req.client.name == NULL)
		(void)match_facts_supply(f, ACL_NEED_CLIENT_NAME);
	if ((needs & ACL_NEEDS_SERVER_NAME) && f->req.server.name == NULL)
		(void)match_facts_supply(f, ACL_NEED_SERVER_NAME);
	if ((needs & ACL_NEEDS_USER) && f->req.user == NULL)
		(void)match_facts_supply(f, ACL_NEED_USER);
}

/* Look the client up in every database given, to decide and to show. */
static void
match_facts_geo_lookup(struct match_facts *f)
{
	const struct match_env *env = f->env;

	if (env->geo_given != 0)
		f->geo_shown = true;
	if (env->geo_given & ACL_GEO_COUNTRY)
		geoip_db_lookup(env->geo.country, GEOIP_COUNTRY,
		    &f->req.client.addr, &f->req.geo);
	if (env->geo_given & ACL_GEO_ASN)
		geoip_db_lookup(
		    env->geo.asn, GEOIP_ASN, &f->req.client.addr, &f->req.geo);
}

static void
match_facts_format(const struct acl_addr *a, char *buf, size_t bufsz)
{
	if (a->family != AF_UNSPEC)
		acl_addr_format(a, buf, bufsz);
	else
		snprintf(buf, bufsz, "%s", ACL_UNKNOWN);
}

void
match_facts_init(struct match_facts *f, const struct match_env *env,
    const struct acl_addr *client)
{
	memset(f, 0, sizeof(*f));
	f->env = env;
	acl_request_init(&f->req);
	f->req.pid = (long)getpid();
	acl_request_copy_string(f->daemon, sizeof(f->daemon), env->daemon);
	f->req.daemon = f->daemon;
	f->req.client.addr = *client;
	f->req.client.port = env->client_port;
	f->req.server.addr = env->server;
	f->req.server.port = env->server_port;
	f->client.given = env->client_name;
	f->server.given = env->server_name;
	match_facts_format(client, f->client_addr, sizeof(f->client_addr));
	match_facts_format(
	    &env->server, f->server_addr, sizeof(f->server_addr));
	/*
	 * Given facts are set up front, as tcpdmatch does; only missing ones
	 * are looked up, and only when a rule asks.
	 */
	if (env->client_name != NULL)
		(void)match_facts_supply(f, ACL_NEED_CLIENT_NAME);
	if (env->server_name != NULL)
		(void)match_facts_supply(f, ACL_NEED_SERVER_NAME);
	if (env->user != NULL)
		(void)match_facts_supply(f, ACL_NEED_USER);
	match_facts_geo_lookup(f);
}

int
match_facts_expand(struct match_facts *f, const char *tmpl, char *out,
    size_t outsz, const char **why)
{
	int rc, i;

	/* Each fact is asked for at most once; 4 rounds are plenty. */
	for (i = 0; i < 4; i++) {
		rc = acl_expand(tmpl, &f->req, out, outsz);
		if (rc == ACL_DONE)
			return 0;
		if (rc < 0) {
			*why = errno == E2BIG
			    ? "expansion longer than 8191 bytes (libwrap exits)"
			    : "expansion failed";
			return -1;
		}
		if (match_facts_supply(f, rc) != 0)
			break;
	}
	*why = "expansion did not converge";
	return -1;
}

const char *
match_facts_geo_state(const struct match_facts *f, unsigned fact, int json)
{
	const struct match_env *env = f->env;
	enum acl_geo_state st = fact == ACL_GEO_COUNTRY
	    ? f->req.geo.country_state
	    : f->req.geo.asn_state;
	bool have =
	    (fact == ACL_GEO_COUNTRY ? env->geo.country : env->geo.asn) != NULL;

	switch (st) {
	case ACL_GEO_FOUND:
		return "found";
	case ACL_GEO_NONE:
		return json ? "none" : "none (in no network of the database)";
	case ACL_GEO_FAILED:
		if (have)
			return json ? "failed" : "unknown (the look-up failed)";
		if (!(env->geo_given & fact))
			return json ? "no-database"
			    : fact == ACL_GEO_COUNTRY
			    ? "unknown (no database: --geoip-country)"
			    : "unknown (no database: --geoip-asn)";
		return json ? "no-database"
		            : "unknown (the database could not be used)";
	default:
		return json ? "not-looked-up" : "not looked up";
	}
}
