/*
 * diff.h - the differential test: wrapd's rule engine against the real
 * libwrap (Debian 7.6.q) on the same rule files and the same request.
 *
 * A case is two tables (plus optional pattern files), one request with every
 * network fact given up front (so neither side ever does DNS or ident), and
 * optional %-expansion templates.  libwrap decides it with hosts_access() in
 * a forked child in dry-run mode; wrapd with acl_eval().  Verdicts, the
 * matched file:line and expansions must agree.
 */
#ifndef WRAPD_DIFF_H
#define WRAPD_DIFF_H

#include <stddef.h>

#define DIFF_MAX_FILES   8
#define DIFF_MAX_EXPANDS 8
#define DIFF_MAX_SETUP   8

struct diff_buf {
	char *p;
	size_t len, cap;
};

struct diff_file {
	char *name; /* relative to the case directory */
	struct diff_buf text;
};

struct diff_case {
	char *title;
	char *where; /* "cases/x.case:12" or "seed 1 case 42" */
	int have_allow, have_deny;
	struct diff_buf allow, deny;
	char *allow_path, *deny_path; /* overrides (after ${DIR}) or NULL */
	struct diff_file files[DIFF_MAX_FILES];
	size_t nfiles;
	char *setup[DIFF_MAX_SETUP]; /* "mkdir x", "symlink a b" */
	size_t nsetup;
	/* The request; NULL = not given. */
	char *daemon, *client, *name, *user;
	char *server, *server_name;
	int server_port, client_port; /* -1 = not given */
	char *expand[DIFF_MAX_EXPANDS];
	size_t nexpand;
	char *expect;   /* "grant" | "deny" | "twist" or NULL */
	int needs_root; /* skipped unless euid 0 (libwrap's dry run setuid) */
};

enum diff_verdict {
	DIFF_GRANT,
	DIFF_DENY,
	DIFF_TWIST,
	DIFF_FAILED, /* the side could not decide (harness problem) */
};

struct diff_outcome {
	enum diff_verdict verdict;
	/* Matched rule: file and LAST physical line (libwrap's count). */
	char file[512];
	int line;                         /* 0 = no rule matched */
	char *expanded[DIFF_MAX_EXPANDS]; /* NULL: expansion failed */
	char log[2048]; /* libwrap's warnings, for the reproduction */
};

/* diff_buf.c */
void diff_buf_add(struct diff_buf *b, const void *p, size_t n);
void diff_buf_addc(struct diff_buf *b, char c);
void diff_buf_adds(struct diff_buf *b, const char *s);
void diff_buf_free(struct diff_buf *b);
char *diff_strdup(const char *s);
/* Replace every ${DIR} by dir; returns a new string. */
char *diff_subst(const char *s, size_t len, const char *dir, size_t *outlen);
void diff_case_free(struct diff_case *c);

/* diff_parse.c: read every case of a file; returns count or -1. */
int diff_parse_file(const char *path, struct diff_case **out, size_t *n);

/* diff_run.c: materialise, run both sides, compare, print. */
struct diff_stats {
	size_t cases, mismatches, bad_expect, failures;
	size_t known;   /* differences documented as deliberate (see README) */
	size_t skipped; /* needs-root cases when not root */
	size_t by_verdict[4]; /* libwrap's verdicts, to see the mix */
	size_t matched;       /* cases where libwrap matched a rule */
	int verbose;
};
/* Returns 0 when both sides agree (and match expect), 1 otherwise. */
int diff_run_case(const struct diff_case *c, const char *tmpdir,
    struct diff_stats *st, int report);

/* diff_oracle.c: libwrap's side (forks). */
int diff_oracle(const struct diff_case *c, const char *dir,
    const char *allow_path, const char *deny_path, struct diff_outcome *o,
    long *child_pid);
/* Stop the helper process (at exit). */
void diff_oracle_stop(void);
/* diff_wrapd.c: wrapd's side. */
int diff_wrapd(const struct diff_case *c, const char *dir,
    const char *allow_path, const char *deny_path, long pid,
    struct diff_outcome *o);

/* diff_gen.c: the seeded random case generator. */
void diff_gen_case(
    unsigned long long seed, unsigned long idx, struct diff_case *c);

#endif /* WRAPD_DIFF_H */
