/*
 * acl_int.h - private types of the rule engine, shared by the acl/ files.
 *
 * A rule set is built once and never changes afterwards: every object
 * below lives in the rule set's arena and is freed with it.
 */
#ifndef WRAPD_ACL_INT_H
#define WRAPD_ACL_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "acl.h"

/* libwrap's logical line buffer (hosts_access.c BUFLEN). */
#define ACL_LINE_BUF       2048
/* Nesting limit for /file patterns that name other /files. */
#define ACL_FILE_DEPTH_MAX 16
/* Tables and /files larger than this are refused (a runaway file). */
#define ACL_FILE_MAX       (64u * 1024 * 1024)
/* The default ident time-out and nice value of Debian's build. */
#define ACL_RFC931_TIMEOUT 10
#define ACL_NICE_DEFAULT   10

/* ---------------------------------------------------------------------
 * Arena: all of a rule set's memory, freed in one go.
 */
struct acl_arena_chunk;
struct acl_arena {
	struct acl_arena_chunk *head;
	size_t left;
	char *next;
	bool failed; /* an allocation failed: the whole load fails */
};

void *acl__alloc(struct acl_arena *a, size_t size);
void *acl__zalloc(struct acl_arena *a, size_t size);
char *acl__strndup(struct acl_arena *a, const char *s, size_t n);
char *acl__strdup(struct acl_arena *a, const char *s);
void acl__arena_free(struct acl_arena *a);

/*
 * Reading tables and /files: what acl__read_path() made of a file.  The
 * data is what libwrap's stdio would have read; anything but ACL_READ_OK
 * is something a fail-closed caller reports as an error.
 */
enum acl_read {
	ACL_READ_OK,
	ACL_READ_FAILED,    /* nothing read: *err is the open error, EFBIG
	                       (over ACL_FILE_MAX) or ENOMEM */
	ACL_READ_IRREGULAR, /* not a regular file; read as far as it goes (a
	                       directory reads as empty) */
	ACL_READ_CUT,       /* a read error (*err) ended the data early */
};

/* Read a whole file into *buf (malloc'd, may be NULL when empty). */
enum acl_read acl__read_path(
    const char *path, char **buf, size_t *len, int *err);
/* What went wrong (r != ACL_READ_OK), as "cannot open PATH: reason". */
void acl__read_problem(
    enum acl_read r, const char *path, int err, char *buf, size_t bufsz);

/* ---------------------------------------------------------------------
 * Diagnostics.
 */
void acl__diag(struct acl_diags *d, const char *file, unsigned line,
    unsigned col, enum acl_severity sev, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
/* Ask the caller's vet about path; a refusal is an error at file:line:col. */
void acl__vet(acl_vet_fn *vet, void *arg, const char *path, struct acl_diags *d,
    const char *file, unsigned line, unsigned col);

/* ---------------------------------------------------------------------
 * String patterns (semantics D15), used for daemons, users, and the
 * address/name side of host patterns.
 */
enum acl_sp_kind {
	ACL_SP_GLOB,   /* contains '*' or '?' */
	ACL_SP_SUFFIX, /* starts with '.' */
	ACL_SP_ALL,
	ACL_SP_KNOWN,
	ACL_SP_PREFIX, /* ends with '.' */
	ACL_SP_V6,     /* [numeric IPv6] */
	ACL_SP_EXACT,
};

struct acl_strpat {
	enum acl_sp_kind kind;
	const char *text; /* the pattern as written */
	size_t len;
	uint8_t v6[16]; /* ACL_SP_V6 */
};

void acl__strpat_init(struct acl_strpat *sp, const char *text);
bool acl__strpat_match(const struct acl_strpat *sp, const char *s);
bool acl__glob_match(const char *pat, size_t plen, const char *s);

/* ---------------------------------------------------------------------
 * Host patterns (D5..D14).
 */
enum acl_hp_kind {
	ACL_HP_NEVER,    /* an invalid net/mask or similar: never matches */
	ACL_HP_NETGROUP, /* @group */
	ACL_HP_FILE,     /* /path, compiled at load */
	ACL_HP_KNOWN,
	ACL_HP_LOCAL,
	ACL_HP_NET4,    /* n.n.n.n/m.m.m.m or /len */
	ACL_HP_NET6,    /* [v6]/len */
	ACL_HP_STRING,  /* string pattern against address, maybe name */
	ACL_HP_COUNTRY, /* country=XX: the client's GeoIP country */
	ACL_HP_ASN,     /* asn=N: the client's GeoIP network owner */
	/*
	 * A country= or asn= pattern in error (a bad value, or in a daemon
	 * list): an error diagnostic at load, and a request that reaches it
	 * is denied (acl_decision.fact_error).
	 */
	ACL_HP_GEO_BAD,
};

struct acl_hostset;

struct acl_hostpat {
	enum acl_hp_kind kind;
	/*
	 * ACL_HP_STRING: also compare with the host name when the address
	 * does not match (the pattern has a character other than digits,
	 * '.', '/', semantics D10).
	 */
	bool name_too;
	const char *text;
	struct acl_strpat sp;
	uint32_t net4, mask4; /* host byte order */
	uint8_t net6[16];
	unsigned plen6;
	const char *group;
	const struct acl_hostset *set;
	char country[2]; /* ACL_HP_COUNTRY: upper case */
	uint32_t asn;    /* ACL_HP_ASN */
};

/* Which GeoIP facts hp needs (enum acl_geo_bits; /file sets included). */
unsigned acl__hostpat_geo(const struct acl_hostpat *hp);

/*
 * An item never needs a fact it does not have (no name or user look-up):
 * such "eager" items are tried before the others of the same list, which
 * changes which look-ups happen but never the verdict (lists are OR).
 */
bool acl__hostpat_eager(const struct acl_hostpat *hp);

/* ---------------------------------------------------------------------
 * Address index: (family, prefix length, masked address) -> ids.  The same
 * structure keys the GeoIP patterns, under families no address has.
 */
#define ACL_IFAM_COUNTRY 7 /* plen 16: the two upper-case letters */
#define ACL_IFAM_ASN     8 /* plen 32: the number, big-endian */

struct acl_ikey {
	uint8_t fam; /* 4, 5 or 6 (addresses), ACL_IFAM_COUNTRY, ACL_IFAM_ASN */
	uint8_t plen;
	uint8_t addr[16]; /* masked, network order */
	uint32_t id;
};

struct acl_ibucket {
	uint32_t start, count; /* range in ids[] */
	uint8_t addr[16];
	bool used;
};

struct acl_iplen {
	uint8_t fam, plen;
	uint32_t nbuckets; /* power of two */
	struct acl_ibucket *buckets;
};

struct acl_index {
	uint32_t *ids;
	size_t nids;
	struct acl_iplen *plens; /* v4 lengths first, then v6 */
	size_t nplens;
};

/* Collects keys before the index is built. */
struct acl_ikeys {
	struct acl_ikey *v;
	size_t n, cap;
};

int acl__ikeys_add(struct acl_ikeys *k, int fam, unsigned plen,
    const uint8_t *addr, uint32_t id);
/* Build idx from keys (consumed and freed); returns -1 when out of memory. */
int acl__index_build(
    struct acl_arena *a, struct acl_index *idx, struct acl_ikeys *keys);

/* A posting list: ids ascending. */
struct acl_irange {
	const uint32_t *ids;
	uint32_t n;
	uint8_t fam, plen; /* the key that matched */
};

/*
 * Up to max ranges whose key covers addr (one per prefix length present).
 * Returns the number found.
 */
size_t acl__index_lookup(const struct acl_index *idx,
    const struct acl_addr *addr, struct acl_irange *out, size_t max);
/*
 * The range of a GeoIP key (fam ACL_IFAM_COUNTRY or ACL_IFAM_ASN, the key
 * bytes as acl_ikey holds them), if present: 1 and *out, or 0.
 */
size_t acl__index_lookup_geo(const struct acl_index *idx, unsigned fam,
    const uint8_t key[4], struct acl_irange *out);

/* Whether hp contributes index keys; adds them with id if keys != NULL. */
bool acl__hostpat_keys(const struct acl_hostpat *hp, struct acl_ikeys *keys,
    uint32_t id, int *err);

/* ---------------------------------------------------------------------
 * /file host sets, compiled once at load.
 */
struct acl_hostset {
	const char *path;
	bool all_indexable; /* every word is an indexable address pattern */
	bool eager;         /* no word needs a look-up */
	unsigned geo;       /* GeoIP facts its words need (nested too) */
	unsigned ix_geo;    /* ... of those, the indexed country=/asn= words */
	struct acl_index idx; /* indexable words */
	/* The other words, eager ones first, then the rest in file order. */
	struct acl_hostpat *items;
	size_t nitems;
	/* Indexable words (kept for keys of rules and for lint). */
	struct acl_hostpat *ixitems;
	size_t nixitems;
};

/* ---------------------------------------------------------------------
 * Lists.
 */
struct acl_item {
	const char *text;
	unsigned line, col;
	/* daemon items: port >= 0 is a server port number */
	int port;
	bool has_name; /* daemon pattern, or the user of user@host */
	struct acl_strpat name;
	bool has_host;
	struct acl_hostpat host;
	bool eager;
};

/* Items between two EXCEPTs; eager items first. */
struct acl_seg {
	struct acl_item *items;
	unsigned n;
};

struct acl_list {
	struct acl_seg *segs; /* segs[0] = head, segs[1] = after 1st EXCEPT */
	unsigned nseg;
};

/* A rule, with its public part first. */
struct acl_irule {
	struct acl_rule pub;
	struct acl_list daemons;
	struct acl_list clients;
	bool has_aclexec;
	bool indexed; /* candidates only through the index */
};

struct acl_tab {
	const char *path;
	struct acl_irule *rules;
	size_t nrules;
	/* A table error after the last rule: unopenable, too long, ... */
	bool term;
	unsigned term_line;
	struct acl_index idx;
	uint32_t *always; /* ids of rules that are always candidates */
	size_t nalways;
	/*
	 * Indexed rules whose head has a country= (geo_ids[0]) or asn=
	 * (geo_ids[1]) key: candidates too while that fact has no value
	 * (unasked or failed), so that they ask for it or fail closed.
	 */
	uint32_t *geo_ids[2];
	size_t ngeo_ids[2];
};

struct acl_ruleset {
	atomic_uint refs;
	struct acl_arena arena;
	struct acl_tab tabs[2]; /* allow, deny */
	const char *nis_domain; /* NULL: any */
	unsigned geo_uses;      /* enum acl_geo_bits of every pattern loaded */
};

/* Address helpers (acl_addr.c). */
int acl__inet_aton4(const char *s, uint32_t *out);
int acl__dot_quad(const char *s, uint32_t *out);
int acl__parse_v6(const char *s, size_t n, uint8_t out[16]);
bool acl__is_canonical_quad(
    const char *s, size_t n, unsigned *parts, uint32_t *addr);

/* Evaluation of a host pattern, for acl_eval and lint. */
struct acl_evalctx;

/* Loading (acl_parse.c). */
struct acl_loader;
int acl__load_table(struct acl_ruleset *rs, struct acl_loader *ld, int t,
    const char *name, const char *text, size_t len, int open_errno);
struct acl_loader *acl__loader_new(struct acl_ruleset *rs, bool lint,
    acl_vet_fn *vet, void *vet_arg, struct acl_diags *diags);
/* The GeoIP databases the caller has (enum acl_geo_bits); default both. */
void acl__loader_geo(struct acl_loader *ld, unsigned have);
void acl__loader_free(struct acl_loader *ld);
int acl__build_index(struct acl_ruleset *rs, struct acl_tab *tab);
/* The linear reference scan (no index), for tests and the bench. */
enum acl_status acl__eval_linear(const struct acl_ruleset *rs,
    const struct acl_request *req, struct acl_decision *out);
void acl__lint_shadow(
    struct acl_ruleset *rs, struct acl_loader *ld, struct acl_tab *tab);

#endif /* WRAPD_ACL_INT_H */
