/*
 * acl.h - wrapd's rule engine: hosts.allow / hosts.deny as Debian's libwrap
 * 7.6.q reads them, parsed once into an immutable, refcounted rule set.
 *
 * The engine never touches the network and never blocks.  Facts that need
 * the network (the client's verified host name, the server's host name, the
 * ident user) are asked for lazily: acl_eval() returns ACL_NEED_* when the
 * first rule that actually needs one is reached.  The caller finds the fact
 * (asynchronously, in the proxy), stores it in the request and calls
 * acl_eval() again; evaluation is a pure function of the rule set and the
 * request, so restarting it from the top is cheap and gives the same path.
 *
 * Dependencies: libc only.  No libuv, no libyaml.
 */
#ifndef WRAPD_ACL_H
#define WRAPD_ACL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* The marker strings libwrap uses for facts that are not available. */
#define ACL_UNKNOWN  "unknown"
#define ACL_PARANOID "paranoid"

/* libwrap truncates request strings (daemon, user, names) to this. */
#define ACL_STRING_MAX 128
/* libwrap's expansion buffer (BUFSIZ); longer expansions are an error. */
#define ACL_EXPAND_MAX 8192

/* ---------------------------------------------------------------------
 * Diagnostics: every problem found while loading or checking rules.
 */
enum acl_severity {
	ACL_SEV_WARNING, /* libwrap goes on; the rule may not mean what it says */
	ACL_SEV_ERROR,   /* libwrap fails the table or the rule at this point */
};

struct acl_diag {
	char *file;
	unsigned line; /* 1-based; 0 when the problem is the file itself */
	unsigned col;  /* 1-based; 0 when it applies to the whole line */
	enum acl_severity severity;
	char *msg;
};

struct acl_diags {
	struct acl_diag *v;
	size_t n, cap;
};

void acl_diags_free(struct acl_diags *d);
/* Number of diagnostics of severity ACL_SEV_ERROR. */
size_t acl_diags_errors(const struct acl_diags *d);

/* ---------------------------------------------------------------------
 * Addresses.
 */
struct acl_addr {
	sa_family_t family; /* AF_INET, AF_INET6, or AF_UNSPEC = unknown */
	uint8_t bytes[16];  /* network order; IPv4 uses the first 4 bytes */
};

/*
 * Fill *a from a socket address.  An IPv4-mapped IPv6 address
 * (::ffff:a.b.c.d) is normalised to plain IPv4, as every libwrap pattern
 * treats it as IPv4.  Returns 0, or -1 for an unsupported family (a is then
 * AF_UNSPEC).
 */
int acl_addr_from_sockaddr(struct acl_addr *a, const struct sockaddr *sa);
/* Parse numeric text ("10.0.0.1", "::1", "::ffff:1.2.3.4"); same rules. */
int acl_addr_parse(struct acl_addr *a, const char *text);
/* Numeric text of a (the form libwrap's %a shows for a plain socket). */
void acl_addr_format(const struct acl_addr *a, char *buf, size_t bufsz);
/*
 * The socket address of a (a normalised mapped address stays IPv4), with
 * port (host order) and, for IPv6, scope id.  Returns its length, or 0
 * (ss zeroed) when a is not IPv4 or IPv6.  Every place that turns an
 * address back into a sockaddr uses this one.
 */
socklen_t acl_addr_to_sockaddr(const struct acl_addr *a, unsigned port,
    uint32_t scope, struct sockaddr_storage *ss);
/*
 * Copy sa into ss, an IPv4-mapped IPv6 address turned into plain IPv4, port
 * and scope kept (libwrap looks a mapped client up as IPv4, semantics E2):
 * the name look-ups, ident and `wrapd match` ask the same questions.
 * Returns -1, with ss zeroed, when sa is NULL or neither IPv4 nor IPv6.
 */
int acl_sockaddr_unmap(struct sockaddr_storage *ss, const struct sockaddr *sa);
/* The port of an IPv4 or IPv6 socket address (host order), or 0. */
unsigned acl_sockaddr_port(const struct sockaddr *sa);
/* Set the port of an IPv4 or IPv6 socket address; others are left alone. */
void acl_sockaddr_set_port(struct sockaddr_storage *ss, unsigned port);

/* ---------------------------------------------------------------------
 * Requests: what is known about one connection.
 */
struct acl_endpoint {
	struct acl_addr addr; /* family AF_UNSPEC: address unknown */
	int port;             /* -1 when unknown */
	/*
	 * Host name: NULL means "not looked up yet" (evaluation may return
	 * ACL_NEED_*_NAME); otherwise a verified name, or ACL_UNKNOWN (the
	 * look-up failed), or ACL_PARANOID (the forward check disagreed).
	 */
	const char *name;
};

/*
 * GeoIP facts about the client, for the country= and asn= patterns
 * (wrapd-rules(5)).  The engine reads no database: the caller looks the
 * client address up in its own (wrapd: proxy/geoip.h) and stores the
 * answers here, either before evaluation whenever acl_ruleset_geo_uses()
 * says the rules have such patterns, or when acl_eval() returns
 * ACL_NEED_GEO.  Each fact has its own state, as each comes from its own
 * database.
 */
enum acl_geo_bits {
	ACL_GEO_COUNTRY = 1u << 0, /* country=XX: a country database */
	ACL_GEO_ASN = 1u << 1,     /* asn=N: an ASN database */
};

enum acl_geo_state {
	/* Not looked up: a pattern that needs it returns ACL_NEED_GEO. */
	ACL_GEO_UNASKED = 0,
	/* Looked up: the value is below. */
	ACL_GEO_FOUND,
	/*
	 * Looked up: the client is in no network of the database, or its
	 * network has no such value.  No pattern matches it.
	 */
	ACL_GEO_NONE,
	/*
	 * No answer: no database, or the look-up failed.  A rule that
	 * reaches a pattern needing it denies the request there (never a
	 * silent "no match": that would let a deny rule stop matching).
	 */
	ACL_GEO_FAILED,
};

struct acl_geo {
	enum acl_geo_state country_state;
	enum acl_geo_state asn_state;
	char country[3]; /* FOUND: ISO 3166-1 alpha-2, compared without case */
	uint32_t asn;    /* FOUND: 1..4294967295 */
};

struct acl_request {
	const char *daemon; /* NULL is treated as ACL_UNKNOWN */
	struct acl_endpoint client;
	struct acl_endpoint server;
	/* Ident user: NULL = not asked yet; ACL_UNKNOWN = failed. */
	const char *user;
	long pid;           /* for %p */
	struct acl_geo geo; /* the client's; all ACL_GEO_UNASKED at init */
};

/* Initialise with everything unknown (ports -1, names/user NULL). */
void acl_request_init(struct acl_request *r);
/*
 * Copy s into buf (bufsz > 0) as libwrap keeps a request string (daemon,
 * user, host name): a C string cut to ACL_STRING_MAX - 1 bytes (and to
 * bufsz - 1).
 */
void acl_request_copy_string(char *buf, size_t bufsz, const char *s);

/* ---------------------------------------------------------------------
 * Options of a rule (hosts_options(5)), parsed when the rules are loaded.
 */
enum acl_opt_kind {
	ACL_OPT_ALLOW,
	ACL_OPT_DENY,
	ACL_OPT_SPAWN,
	ACL_OPT_TWIST,
	ACL_OPT_ACLEXEC, /* Debian */
	ACL_OPT_RFC931,  /* value: timeout seconds, or NULL for the default */
	ACL_OPT_BANNERS,
	ACL_OPT_SETENV,
	ACL_OPT_UMASK,
	ACL_OPT_USER,
	ACL_OPT_GROUP,
	ACL_OPT_NICE,
	ACL_OPT_KEEPALIVE,
	ACL_OPT_LINGER,
	ACL_OPT_SEVERITY,
};

struct acl_option {
	enum acl_opt_kind kind;
	char *value;  /* unexpanded text as written (trimmed), or NULL */
	long num;     /* parsed number: rfc931 timeout, umask, nice, linger */
	int severity; /* for ACL_OPT_SEVERITY: LOG_* facility|level */
	unsigned line, col; /* where the option starts (as diagnostics) */
};

/* Facts that running a rule's options will need (bit set). */
enum acl_need_bits {
	ACL_NEEDS_CLIENT_NAME = 1u << 0,
	ACL_NEEDS_SERVER_NAME = 1u << 1,
	ACL_NEEDS_USER = 1u << 2,
};

/* One rule (a logical line with a colon) of a table. Read-only. */
struct acl_rule {
	const char *file;
	unsigned line;    /* first physical line of the logical line */
	const char *text; /* the logical line, without its newline */
	struct acl_option *opts;
	size_t nopts;
	/*
	 * libwrap decides option errors only when the rule matches, and then
	 * denies (semantics A6/F2).  Such a rule still matches; opt_error
	 * says why the match denies.
	 */
	const char *opt_error;
	unsigned opt_error_col;
	unsigned opt_needs; /* enum acl_need_bits for the option expansions */
};

/* ---------------------------------------------------------------------
 * Rule sets.
 */
struct acl_ruleset;

/*
 * Asked whether the file at path may be used; 0 yes, -1 no with a reason
 * (one sentence, naming what is wrong) in why.
 */
typedef int acl_vet_fn(void *arg, const char *path, char *why, size_t whysz);

struct acl_load_opts {
	const char *allow_path; /* NULL: /etc/hosts.allow */
	const char *deny_path;  /* NULL: /etc/hosts.deny */
	/*
	 * Optional: asked about every file the rules come from (the tables
	 * and every /file list, before they are read) and every banners
	 * directory; a refusal is an error diagnostic where the file is
	 * named.  wrapd passes conf_trust_vet() (conf_trust.h), which refuses files
	 * that someone other than root or wrapd's owner could change.
	 */
	acl_vet_fn *vet;
	void *vet_arg;
	/*
	 * The GeoIP facts the caller can provide (enum acl_geo_bits: it has
	 * the database).  A country= or asn= pattern whose database is not
	 * among them is an error diagnostic where it is written: the rules
	 * cannot be decided as they say.
	 */
	unsigned geo;
	/*
	 * lint: also report problems libwrap ignores silently (shadowed
	 * rules, unbracketed IPv6, bad net/mask, ...) and keep scanning past
	 * the errors that end a table, as tcpdchk does.  The rule set built
	 * is the same either way.
	 */
	bool lint;
};

/*
 * Load both tables.  Always builds a rule set that decides as libwrap
 * would (an unreadable table becomes the same error result libwrap gives,
 * an unreadable /file list matches nothing); diagnostics go to *diags (may
 * be NULL).  Returns NULL only when out of memory.
 *
 * What could make the rules grant more than they say is an error
 * diagnostic even where libwrap goes on silently, so that a caller that
 * refuses rule sets with errors fails closed: a /file list that cannot be
 * read (missing, no permission, over 64 MiB, not a regular file, a read
 * error), a table that is not a regular file or cannot be read to its end,
 * and a missing table other than the defaults /etc/hosts.allow and
 * /etc/hosts.deny (a typo in a path named on purpose).  A missing default
 * table is a warning: it is libwrap's "no rules".
 */
struct acl_ruleset *acl_ruleset_load(
    const struct acl_load_opts *opts, struct acl_diags *diags);
/*
 * Same from memory (fuzzing, tests); names are used in diagnostics.  The
 * caller is taken to provide every GeoIP fact (geo = both bits).
 */
struct acl_ruleset *acl_ruleset_load_mem(const char *allow_name,
    const char *allow_text, size_t allow_len, const char *deny_name,
    const char *deny_text, size_t deny_len, bool lint, struct acl_diags *diags);

/* Reference counting is atomic: a rule set may be shared between threads. */
struct acl_ruleset *acl_ruleset_ref(struct acl_ruleset *rs);
void acl_ruleset_unref(struct acl_ruleset *rs);

/* ---------------------------------------------------------------------
 * Evaluation.
 */
enum acl_table {
	ACL_TABLE_NONE,
	ACL_TABLE_ALLOW,
	ACL_TABLE_DENY,
};

enum acl_status {
	ACL_DONE,             /* decision filled in */
	ACL_NEED_CLIENT_NAME, /* set req->client.name and call again */
	ACL_NEED_SERVER_NAME, /* set req->server.name and call again */
	ACL_NEED_USER,        /* set req->user and call again */
	ACL_NEED_GEO,         /* set every ACL_GEO_UNASKED fact of req->geo
	                          and call again */
};

enum acl_verdict {
	ACL_GRANT,
	ACL_DENY,
	ACL_TWIST, /* the rule's last option is twist: hand over to it */
};

struct acl_decision {
	/*
	 * The verdict once the rule's static options are applied: allow /
	 * deny / twist keywords, and an option error (which denies).  Options
	 * with run-time effects (aclexec's exit status) are the caller's.
	 */
	enum acl_verdict verdict;
	enum acl_table table;        /* where the deciding rule or error is */
	const struct acl_rule *rule; /* NULL: no rule matched */
	/*
	 * A table error decided: the table could not be opened, or its scan
	 * reached a broken line (too long, no final newline).  error_file and
	 * error_line say where.
	 */
	bool table_error;
	const char *error_file;
	unsigned error_line;
	/*
	 * A rule reached a GeoIP fact that has no answer (ACL_GEO_FAILED),
	 * or a country= / asn= pattern that is in error: the request is
	 * denied there (verdict ACL_DENY, rule NULL, table the rule's),
	 * whatever later rules say.  error_file and error_line name that
	 * rule.
	 */
	bool fact_error;
};

/*
 * Returns ACL_DONE with *out filled, or the ACL_NEED_* of the first fact a
 * rule reached needs; *out then holds a deny with no rule, so that a caller
 * that does not know the status fails closed.
 *
 * Start the scan at `start` (ACL_TABLE_ALLOW normally; ACL_TABLE_DENY after
 * an allow-table rule was turned into "no match" by a failing aclexec).  A
 * failing aclexec in the deny table means: grant, no further scan.
 */
enum acl_status acl_eval(const struct acl_ruleset *rs,
    const struct acl_request *req, enum acl_table start,
    struct acl_decision *out);

/* ---------------------------------------------------------------------
 * %-expansion (hosts_access(5) "% EXPANSIONS").
 */

/*
 * Expand tmpl for req into out (NUL-terminated), sanitising every expanded
 * value as libwrap does before a shell sees it.  Returns ACL_DONE, or the
 * ACL_NEED_* for a fact an expansion needs (%n %N %u may; %c, like %h,
 * shows only what is already known, as libwrap without ALWAYS_RFC931), or
 * -1 with errno E2BIG when the result would not fit ACL_EXPAND_MAX / outsz
 * (libwrap's limit: at most 8190 characters).
 */
int acl_expand(
    const char *tmpl, const struct acl_request *req, char *out, size_t outsz);

/* Which facts expanding tmpl would need (enum acl_need_bits). */
unsigned acl_expand_needs(const char *tmpl);

/*
 * A request string as a %-expansion puts it in a command: cut as the
 * request holds it (ACL_STRING_MAX - 1 bytes, and to outsz - 1), every byte
 * other than 0-9 a-z A-Z and ! @ % - _ = + : , . / replaced by '_'.  For
 * any other place that hands a network-given string (ident reply, host
 * name) to a program, such as the environment of an exec'd daemon.
 */
void acl_expand_sanitise(char *out, size_t outsz, const char *s);

/* ---------------------------------------------------------------------
 * Host name verification (the double-reverse check, semantics E2), shared
 * by the proxy's asynchronous resolver and `wrapd match`'s blocking one.
 */

/*
 * Given the client address, the name the reverse look-up gave (NULL if it
 * failed), and the forward look-up result of that name in the same family
 * (NULL if it failed), return the name to use: rev_name itself, or
 * ACL_UNKNOWN or ACL_PARANOID.  The returned pointer is rev_name or a
 * static string.
 */
struct addrinfo;
const char *acl_verify_name(const struct sockaddr *addr, const char *rev_name,
    const struct addrinfo *fwd);

/* ---------------------------------------------------------------------
 * Introspection, for `wrapd check` / `wrapd match` and the bench.
 */
size_t acl_ruleset_rule_count(const struct acl_ruleset *rs, enum acl_table t);
const struct acl_rule *acl_ruleset_rule(
    const struct acl_ruleset *rs, enum acl_table t, size_t i);
/* The table file names the set was loaded from. */
const char *acl_ruleset_path(const struct acl_ruleset *rs, enum acl_table t);

/*
 * Which GeoIP facts the rules' patterns need anywhere, /file lists
 * included (enum acl_geo_bits; 0 for a plain libwrap rule set).  A caller
 * that looks the facts up before evaluation does it only for these.
 */
unsigned acl_ruleset_geo_uses(const struct acl_ruleset *rs);

/* Keyword name of an option kind ("spawn", ...). */
const char *acl_parse_opt_name(enum acl_opt_kind k);

/*
 * syslog names (case-insensitive), the one table of them: a facility's
 * LOG_* value, or -1; libwrap: only those libwrap's severity option knows
 * (not authpriv, ftp, syslog).  A level's LOG_* value, or -1.
 */
int acl_syslog_facility(const char *name, bool libwrap);
int acl_syslog_level(const char *name);

/*
 * For `wrapd check --dns`: call cb for every host NAME pattern of the
 * rules' client lists and daemon@host parts (plain names such as
 * "mail.example.com": not .domain, not prefix., not wildcards, not
 * keywords, not addresses), with where it is written.  /file contents are
 * not included.
 */
void acl_ruleset_foreach_hostname(const struct acl_ruleset *rs,
    void (*cb)(void *arg, const char *file, unsigned line, unsigned col,
        const char *name),
    void *arg);

/*
 * For `wrapd check --config`: call cb for every daemon pattern of the
 * rules (before or after EXCEPT) that names daemons -- not ALL or KNOWN,
 * not a port number -- and matches none of the n names in daemons (the
 * configured services' daemon names), with where it is written.
 */
void acl_ruleset_foreach_unused_daemon(const struct acl_ruleset *rs,
    const char *const *daemons, size_t n,
    void (*cb)(void *arg, const char *file, unsigned line, unsigned col,
        const char *pattern),
    void *arg);

#endif /* WRAPD_ACL_H */
