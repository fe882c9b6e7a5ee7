/*
 * match.h - the parts of `wrapd match` (cmd_match.c):
 *
 *   match_facts.c    what is known about one request, and finding the rest
 *                    the way the proxy does (names, user, GeoIP)
 *   match_predict.c  the decision and the rule's plan: the daemon's own
 *                    code (acl_eval, action_plan_build), then its verdict,
 *                    log reason and priority
 *   match_text.c     the readable printer
 *   match_json.c     the --json printer
 *
 * One struct match_env holds what the command line (or the configuration)
 * gave, the same for every address; each address of the client gets its
 * own struct match_facts and struct match_prediction.
 */
#ifndef WRAPD_MATCH_H
#define WRAPD_MATCH_H

#include <stdbool.h>
#include <stdio.h>

#include "acl.h"
#include "action_plan.h"
#include "conf.h"
#include "geoip.h"

/* What was given, for every address of the client. */
struct match_env {
	const struct acl_ruleset *rs;
	const char *daemon;
	const char *client_name; /* --name, or NULL */
	const char *server_name; /* --server-name, or NULL */
	const char *user;        /* --user, or NULL */
	struct acl_addr server;  /* --server; AF_UNSPEC when not given */
	int server_port;         /* -1 when not given */
	int client_port;
	const char *expand; /* --expand template, or NULL */
	struct geoip geo;   /* the databases that could be opened */
	unsigned geo_given; /* enum acl_geo_bits given */
	const struct conf_service *service; /* --service, or NULL */
};

/* One side (client, server) of the request: its name, once known. */
struct match_side {
	const char *given;         /* --name / --server-name, or NULL */
	char name[ACL_STRING_MAX]; /* the name in use, once known */
	bool resolved;
};

/* What is known about one request; req points into this struct. */
struct match_facts {
	const struct match_env *env;
	struct acl_request req;
	struct match_side client, server;
	char daemon[ACL_STRING_MAX];
	char user[ACL_STRING_MAX];
	bool geo_shown; /* a database was given, or the rules asked */
	int lookups;    /* DNS look-ups made */
	char client_addr[64], server_addr[64]; /* numeric, or "unknown" */
};

/* Address text: numeric IPv4/IPv6 (::ffff:a.b.c.d too) or `unknown`. */
int match_facts_parse_addr(const char *s, struct acl_addr *a);
/* A port number 0..65535, digits only.  0, or -1. */
int match_facts_parse_port(const char *s, int *port);
/*
 * Facts for a request from client: what was given set up front, as
 * tcpdmatch does, and the client looked up in the GeoIP databases.
 */
void match_facts_init(struct match_facts *f, const struct match_env *env,
    const struct acl_addr *client);
/* Answer one acl_status ACL_NEED_* question.  -1 for any other value. */
int match_facts_supply(struct match_facts *f, int need);
/* Find the facts of enum acl_need_bits needs (the options' facts). */
void match_facts_supply_needs(struct match_facts *f, unsigned needs);
/*
 * Expand tmpl (--expand), answering the engine's questions.  0, or -1 with
 * *why set.
 */
int match_facts_expand(struct match_facts *f, const char *tmpl, char *out,
    size_t outsz, const char **why);
/* A GeoIP fact for people, or as a JSON word (json != 0). */
const char *match_facts_geo_state(
    const struct match_facts *f, unsigned fact, int json);

/* What the daemon would do with the request. */
struct match_prediction {
	struct acl_decision dec;
	bool closed;              /* outside the service's access_times */
	bool eval_failed;         /* the evaluation did not complete */
	struct action_plan plan;  /* the rule's options (empty without) */
	bool *banner_exists;      /* per plan step: a SEND's file exists */
	enum acl_verdict verdict; /* the connection line's verdict */
	const char *reason;       /* its reason= (NULL: a grant) */
	int prio;                 /* its syslog priority */
	/* Every byte the client gets from wrapd: banners, on_deny reply. */
	char *sent;
	size_t sent_len;
	bool reply;     /* sent ends with the service's on_deny reply */
	char *expanded; /* --expand, or NULL */
	const char *expand_error; /* why not */
};

/*
 * Decide f's request with env's rules and plan the rule's options, as the
 * daemon does for a connection with these facts (aclexec exiting 0).
 * 0, or -1 when out of memory (p then predicts a deny).
 */
int match_predict(struct match_facts *f, struct match_prediction *p);
void match_predict_free(struct match_prediction *p);
/* Does the daemon reach option o of the rule (no earlier one failed)? */
bool match_predict_reached(
    const struct match_prediction *p, const struct acl_option *o);
/* A SETENV step's NAME=VALUE in the plan's env; NULL when it failed. */
const char *match_predict_env(const struct action_plan *plan, size_t step);
/* "grant", "deny", "twist" (json) or "granted", "denied", "delegated". */
const char *match_predict_word(enum acl_verdict v, int json);
/* "allow", "deny" or NULL. */
const char *match_predict_table(enum acl_table t);
/* The printers: one request, or one block of a host name's addresses. */
void match_text_print(
    FILE *fp, const struct match_facts *f, const struct match_prediction *p);
void match_json_print(
    FILE *fp, const struct match_facts *f, const struct match_prediction *p);

#endif /* WRAPD_MATCH_H */
