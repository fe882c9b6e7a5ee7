/*
 * import.h - the services `wrapd import` reads from inetd.conf or
 * xinetd's files, and how they are written: a wrapd.yaml, hosts.allow and
 * hosts.deny lines, and notes (file:line: what was not mapped or skipped).
 *
 * The readers (import_inetd.c, import_xinetd.c) fill a set of services;
 * everything in it came from a file, so it is checked here before it is
 * written: names as wrapd.yaml accepts them, values as printable text.
 *
 * Dependencies: libc only.
 */
#ifndef WRAPD_IMPORT_H
#define WRAPD_IMPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define IMPORT_SVC_MAX_LISTEN 8
#define IMPORT_SVC_MAX_ARGV   64
#define IMPORT_SVC_MAX_TIMES  64 /* access_times windows (wrapd.yaml's bound) */
#define IMPORT_SVC_MAX        1000 /* services in one import */

struct import_svc {
	char *name;   /* unique in the set */
	char *daemon; /* the name hosts.allow matches */
	char *listen[IMPORT_SVC_MAX_LISTEN];
	size_t nlisten;
	char *argv[IMPORT_SVC_MAX_ARGV + 1]; /* exec, NULL-terminated */
	size_t argc;
	char *backend; /* redirect: "ADDR:PORT" instead of exec */
	char *user, *group;
	unsigned max_connections; /* 0: wrapd's default */
	unsigned per_source;      /* 0: wrapd's default */
	/* access_times windows in wrapd.yaml's syntax ("08:00-17:31") */
	char *access_times[IMPORT_SVC_MAX_TIMES];
	size_t ntimes;
	/* Client lists for the rules, in hosts_access(5) syntax, or NULL. */
	char *allow; /* only_from ("" when only_from is empty: nobody) */
	char *deny;  /* no_access */
	char *file;  /* where it was written, for the YAML comment */
	unsigned line;
};

struct import_set {
	struct import_svc *v;
	size_t n, cap;
	size_t notes;   /* how many notes were printed */
	bool failed;    /* an input could not be read */
	FILE *notes_fp; /* where notes go (stderr) */
};

/* "file:line: note: ..." on the notes stream (file and text escaped). */
void import_note(struct import_set *set, const char *file, unsigned line,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * Is s usable as text in the output: printable ASCII (no control bytes,
 * no bytes above 0x7e), at most 1024 bytes?  The readers skip, with a
 * note, a service whose values are not.
 */
bool import_text_ok(const char *s);
/* [A-Za-z0-9._-]{1,64}: a wrapd service or daemon name. */
bool import_name_ok(const char *s);
/* A user or group name as wrapd.yaml takes it (or a number). */
bool import_account_ok(const char *s);

/* A new service of the set named like name (made unique); NULL: no room. */
struct import_svc *import_add(
    struct import_set *set, const char *name, const char *file, unsigned line);
/* Forget the last service added (it turned out to be unusable). */
void import_drop_last(struct import_set *set);
/* An existing service to which a line with the same name, program and
 * user adds a listen address (inetd's tcp and tcp6 lines), or NULL. */
struct import_svc *import_twin(
    struct import_set *set, const struct import_svc *s);
void import_set_free(struct import_set *set);

/* strdup that exits on no memory (a command-line tool). */
char *import_strdup(const char *s);

/* "0.0.0.0:79", "[::]:79", "[2001:db8::1]:79" from a numeric host (NULL
 * or "*": the wildcard of family 4 or 6) and port; NULL if host is not a
 * numeric address. */
char *import_listen_text(const char *host, int family, unsigned port);
/* The TCP port of a service name (/etc/services) or number; 0 if none. */
unsigned import_tcp_port(const char *service);

/* Write the wrapd.yaml (rules: allow/deny when given). 0 or -1. */
int import_write_yaml(FILE *fp, const struct import_set *set,
    const char *source, const char *allow_path, const char *deny_path);
/* Write the hosts.allow (allow true) or hosts.deny lines; how many. */
size_t import_write_rules(FILE *fp, const struct import_set *set, bool allow);

#endif /* WRAPD_IMPORT_H */
