/*
 * conf_int.h - private types shared inside conf/.
 *
 * The YAML text is first turned into a small tree of conf_node (conf_yaml.c,
 * the only file that sees libyaml), then the schema table (conf_schema.c)
 * walks that tree and fills struct wrapd_conf.  Keeping libyaml behind the
 * tree means the schema walk is plain C over plain data, and the positions
 * of every key and value survive for error messages.
 */
#ifndef WRAPD_CONF_INT_H
#define WRAPD_CONF_INT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "conf.h"

/* Bounds that keep hostile or mistaken input from costing much. */
#define CONF_MAX_FILE_SIZE (1024 * 1024) /* bytes of YAML */
#define CONF_MAX_DEPTH     32            /* nesting of mappings/sequences */
#define CONF_MAX_ERRORS    50            /* then "too many errors" */
#define CONF_MAX_SERVICES  1024
#define CONF_MAX_LISTEN    64   /* per service */
#define CONF_MAX_ARGV      256  /* exec argument count */
#define CONF_MAX_STRING    4096 /* bytes in any one string */
#define CONF_MAX_NAME      64   /* service and daemon names */
#define CONF_UNIX_PATH_MAX 107  /* sizeof(sun_path) - 1 */
#define CONF_MAX_TIMES     64   /* access_times windows per service */

enum conf_node_kind {
	CONF_NODE_SCALAR,
	CONF_NODE_SEQ,
	CONF_NODE_MAP,
};

/*
 * One YAML node.  Scalars keep their exact bytes (they may hold NUL from a
 * "\0" escape) and whether they were plain, because only a plain scalar can
 * be null or a boolean.  A mapping stores keys and values alternately in
 * kids[].
 */
struct conf_node {
	enum conf_node_kind kind;
	unsigned line, col; /* 1-based, from the libyaml start mark */
	char *str;          /* scalar bytes, NUL-terminated for convenience */
	size_t len;
	bool plain;   /* plain style, no explicit tag: may be null/bool */
	bool is_null; /* plain null (~, null, empty) or tagged !!null */
	struct conf_node **kids;
	size_t nkids, cap;
};

/* Parse state shared by the YAML reader, the schema walk and validation. */
struct conf_ctx {
	const char *file; /* name used in messages */
	char *dir;        /* directory relative rule paths resolve to */
	struct conf_errs *errs;
	size_t nerr; /* errors reported through this context */
	bool full;   /* CONF_MAX_ERRORS reached: stop walking */
	struct wrapd_conf *conf;
};

/* conf.c: error collection. */
void conf__err(struct conf_ctx *cx, unsigned line, unsigned col,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void conf__errv(struct conf_errs *errs, const char *file, unsigned line,
    unsigned col, const char *fmt, va_list ap)
    __attribute__((format(printf, 5, 0)));
char *conf__strdup(const char *s);
char *conf__memdup(const char *s, size_t len);
char *conf__asprintf(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
struct conf_service *conf__service_new(struct wrapd_conf *c);

/* conf_yaml.c: text to tree.  NULL on a syntax error (reported). */
struct conf_node *conf__yaml_load(
    struct conf_ctx *cx, const char *text, size_t len);
void conf__node_free(struct conf_node *n);

/* conf_schema.c */
enum conf_type {
	CONF_T_MAP,      /* nested mapping of further keys */
	CONF_T_SERVICES, /* sequence of service mappings */
	CONF_T_STRING,   /* text without NUL; optional character check */
	CONF_T_PATH,     /* file path; relative resolves to the file's dir */
	CONF_T_ABSPATH,  /* absolute file path */
	CONF_T_BYTES,    /* any bytes, NUL included; length in offset2 */
	CONF_T_BOOL,
	CONF_T_UINT,     /* unsigned, min..max */
	CONF_T_DURATION, /* "5s", "250ms": uint64_t ms, min..max */
	CONF_T_RATE,     /* "6/min": count at offset, seconds at offset2 */
	CONF_T_ENUM,     /* one of words[], stored as int */
	CONF_T_FACILITY, /* syslog facility name, or false/null = none */
	CONF_T_LISTEN,   /* sequence of listen strings */
	CONF_T_BACKEND,  /* "ADDR:PORT" or "unix:/path" */
	CONF_T_ARGV,     /* non-empty sequence of strings */
	CONF_T_TIMES,    /* sequence of access_times windows (conf_timewin.c) */
	CONF_T_CIDRS,    /* non-empty sequence of networks (conf_daemons.c) */
};

enum conf_scope {
	CONF_SCOPE_TOP,     /* fields of struct wrapd_conf */
	CONF_SCOPE_SERVICE, /* fields of struct conf_service */
};

#define CONF_F_REQUIRED 0x1 /* must be present in its mapping */
#define CONF_F_NULLABLE 0x2 /* null is allowed and means "none" */

/* Returns NULL if the text is acceptable, else a static message. */
typedef const char *conf_check_fn(const char *s, size_t len);

struct conf_key {
	const char *path; /* "services[].timeouts.connect" */
	enum conf_type type;
	enum conf_scope scope;
	unsigned flags;    /* CONF_F_* */
	uint64_t min, max; /* UINT, DURATION (ms), RATE count, BYTES length */
	const char *def;   /* default as YAML text (NULL: none, or computed) */
	size_t offset;     /* target field in the scope's struct */
	size_t offset2;    /* second target (BYTES length, RATE seconds) */
	const char *const *words; /* ENUM: names, index = stored value */
	conf_check_fn *check;     /* STRING: extra validation */
	const char *help;         /* one line, for messages */
};

extern const struct conf_key conf_schema[];
extern const size_t conf_schema_len;

/* Apply every default of a scope to base (a wrapd_conf or conf_service). */
int conf__schema_defaults(enum conf_scope scope, void *base);
/* Walk the root node into cx->conf.  Errors go to cx. */
void conf__schema_walk(struct conf_ctx *cx, const struct conf_node *root);
/* The row of a path such as "services[].timeouts.idle", or NULL. */
const struct conf_key *conf__schema_find(const char *path);
/*
 * Apply one value (a scalar, or a list for the list types) to the key of
 * row k, as the file's walk does: svc is the service of a service key.
 */
void conf__schema_apply(struct conf_ctx *cx, const struct conf_key *k,
    const struct conf_node *v, struct conf_service *svc);
/* The leaf name of a path, "connect" for "services[].timeouts.connect". */
const char *conf__key_leaf(const char *path);

/* conf_parse.c: scalar syntax, shared by the file and quick mode. */
int conf__parse_uint(const char *s, uint64_t max, uint64_t *out);
int conf__parse_rate(
    const char *s, unsigned *count, unsigned *secs, char **err);
void conf__fmt_duration(uint64_t ms, char *buf, size_t len);
const char *conf__check_name(const char *s, size_t len);
const char *conf__check_mail(const char *s, size_t len);
const char *conf__check_user(const char *s, size_t len);
bool conf__is_facility(const char *s);
const char *conf__check_control(const char *s, size_t len);
const char *conf__check_metrics(const char *s, size_t len);

/* conf_timewin.c: services[].access_times, a list of windows. */
void conf__set_times(struct conf_ctx *cx, const struct conf_key *k,
    const struct conf_node *v, struct conf_service *svc);
void conf__times_free(struct conf_service *s);

/*
 * conf_account.c: services[].user and services[].group.  The checks are
 * conf__check_user's syntax plus "the account exists" (looked up now);
 * conf__resolve_accounts() fills each service's ids (or reports), and
 * refuses a service account that a wrapd dropping to `user` cannot use.
 * conf__lookup_user: 0, or an errno (ENOENT: no such user).
 */
const char *conf__check_account_user(const char *s, size_t len);
const char *conf__check_account_group(const char *s, size_t len);
int conf__lookup_user(const char *name, uid_t *uid, gid_t *gid);
void conf__resolve_accounts(struct conf_ctx *cx, struct wrapd_conf *c);
/* Parse a numeric address; fills 16 bytes (v4 mapped) for comparisons. */
int conf__parse_hostport(const char *text, char **host, uint16_t *port,
    unsigned char addr[16], bool *v6, char **err);

/* conf_daemons.c: the keys of issue "daemons". */
void conf__set_cidrs(struct conf_ctx *cx, const struct conf_key *k,
    const struct conf_node *v, struct conf_service *svc);
void conf__check_daemons(struct conf_ctx *cx, const struct conf_service *s);
void conf__dump_daemons(FILE *fp, const struct conf_service *s);
/* A warning (conf->warnings): the configuration loads all the same. */
void conf__warn(struct conf_ctx *cx, unsigned line, unsigned col,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif /* WRAPD_CONF_INT_H */
