/*
 * conf.h - wrapd's configuration as plain data.
 *
 * conf_load_file() reads the YAML file (libyaml is seen only by conf/), checks
 * every key against the schema and every value against its type and bounds,
 * and returns a struct wrapd_conf or the list of errors, each as
 * file:line:col.  The proxy's quick mode fills the same struct from the
 * command line with conf_new() and conf_service_add().
 *
 * Dependencies: libc and libyaml, and acl/ only for its table of syslog
 * names (acl_syslog_facility).  No libuv.
 */
#ifndef WRAPD_CONF_H
#define WRAPD_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/types.h>

#define CONF_DEFAULT_PATH    "/etc/wrapd/wrapd.yaml"
#define CONF_DEFAULT_ALLOW   "/etc/hosts.allow"
#define CONF_DEFAULT_DENY    "/etc/hosts.deny"
/* The control socket of `wrapd bans` and `wrapd status` (wrapd(8)). */
#define CONF_DEFAULT_CONTROL "/run/wrapd/control.sock"

enum conf_log_format {
	CONF_LOG_TEXT,
	CONF_LOG_JSON,
};

enum conf_listen_kind {
	CONF_LISTEN_ADDR,    /* host:port, [v6]:port */
	CONF_LISTEN_SYSTEMD, /* sockets passed by socket activation */
	CONF_LISTEN_STDIN, /* inetd: fd 0, listening (wait) or connected (nowait) */
};

struct conf_listen {
	enum conf_listen_kind kind;
	char *text; /* as written, for logs and for matching a reload */
	char *host; /* CONF_LISTEN_ADDR: numeric address text, no brackets */
	uint16_t port;
	unsigned line, col; /* where it was written (0 from the command line) */
};

enum conf_backend_kind {
	CONF_BACKEND_NONE,
	CONF_BACKEND_TCP,  /* host:port */
	CONF_BACKEND_UNIX, /* unix:/path */
	CONF_BACKEND_EXEC, /* exec: [argv...] */
};

enum conf_proxy_protocol {
	CONF_PROXY_PROTOCOL_NONE,
	CONF_PROXY_PROTOCOL_V1,
	CONF_PROXY_PROTOCOL_V2,
};

/* Issue "daemons": what the service's connections speak. */
enum conf_protocol {
	CONF_PROTOCOL_TCP, /* bytes, relayed unchanged */
	CONF_PROTOCOL_FTP, /* FTP control: passive data ports through wrapd */
};

/* A network of accept_proxy_from: IPv4 or IPv6, the prefix length. */
struct conf_cidr {
	sa_family_t family; /* AF_INET or AF_INET6 (v4-mapped made IPv4) */
	uint8_t bytes[16];  /* network order, host bits zero */
	uint8_t prefix;
};

/* Built-in actions on deny (issue: actions), per service. */
struct conf_on_deny {
	char *reply; /* bytes written to the client before closing, or NULL */
	size_t reply_len; /* reply may hold any byte, "\r\n" included */
	bool finger;      /* RFC 1288 query to the client */
	char *mail;       /* recipient of a report through sendmail, or NULL */
};

/*
 * One window of access_times (conf_timewin.c), in local wall-clock time:
 * from start to end on the days of `days`; end <= start crosses midnight
 * and ends on the next day.
 */
struct conf_timewin {
	char *text;     /* as written, for logs and the dump */
	uint8_t days;   /* bit d: the window starts on weekday d (0 = Sunday,
			   as struct tm's tm_wday); all 7 when none is written */
	uint16_t start; /* minutes after midnight, 0 to 1439 */
	uint16_t end;   /* 0 to 1440 (24:00) */
};

/* ban: a source denied `after` times within within_ms is refused for for_ms. */
struct conf_ban {
	unsigned after;       /* 0: no bans (no "ban" mapping) */
	uint64_t within_ms;   /* default 10 minutes */
	uint64_t for_ms;      /* default 10 minutes */
	unsigned max_sources; /* sources the table keeps; default 4096 */
};

struct conf_service {
	char *name;
	char *daemon; /* name daemon lists match; default: name */
	struct conf_listen *listen;
	size_t nlisten;
	enum conf_backend_kind backend_kind;
	char *backend; /* "127.0.0.1:2121", "unix:/run/x.sock" as written */
	char *backend_host; /* TCP: numeric host; UNIX: path */
	uint16_t backend_port;
	char **exec_argv; /* CONF_BACKEND_EXEC: NULL-terminated */
	size_t exec_argc;
	enum conf_proxy_protocol proxy_protocol;
	/* Timeouts in milliseconds. */
	uint64_t connect_timeout_ms; /* default 5000 */
	uint64_t idle_timeout_ms;    /* default 600000 */
	uint64_t lookup_timeout_ms;  /* default 5000 */
	unsigned max_connections;    /* default 512 */
	/* per_source.connections: at most this many at once from one IPv4
	 * address or IPv6 /64; default max_connections / 8 (at least 1). */
	unsigned per_source_connections;
	/* per_source.rate: new connections per source, count per secs ("6/min":
	 * 6 and 60); 0: no rate. */
	unsigned per_source_rate_count;
	unsigned per_source_rate_secs;
	struct conf_ban ban;
	struct conf_timewin *access_times; /* NULL: open at any time */
	size_t naccess_times;
	struct conf_on_deny on_deny;
	/*
	 * The account of the exec'd program and of the rules' shell commands
	 * (inetd's user field): names as written (NULL: wrapd's own), and
	 * the ids conf_validate() resolved when the conf was loaded.
	 */
	char *user, *group;
	bool has_uid, has_gid;
	uid_t uid;
	gid_t gid;
	/*
	 * Issue "daemons": the real client for the daemon.  transparent:
	 * connect to the backend from the client's own address
	 * (IP_TRANSPARENT).  accept_proxy_from: the only peers the service
	 * takes, each of which must start with a PROXY header naming the
	 * client (read within proxy_header_timeout_ms).  protocol ftp: the
	 * control connection is read by line and passive replies rewritten
	 * (data ports wait ftp_data_timeout_ms for the client).
	 */
	bool transparent;
	struct conf_cidr *proxy_from;
	size_t nproxy_from;
	uint64_t proxy_header_timeout_ms; /* default 5000 */
	enum conf_protocol protocol;
	uint64_t ftp_data_timeout_ms; /* default 30000 */
	unsigned line, col;           /* where the service starts */
};

struct conf_actions {
	unsigned max_running;      /* default 32 */
	unsigned per_source_count; /* "6/min": 6 */
	unsigned per_source_secs;  /* "6/min": 60 */
	unsigned mail_rate_count;  /* on_deny mails, process-wide: 60/hour */
	unsigned mail_rate_secs;
	char *sendmail; /* default "/usr/sbin/sendmail" */
};

struct wrapd_conf {
	char *path; /* the file it came from, or NULL (quick mode) */
	char *allow_path;
	char *deny_path;
	char *user;    /* drop to this user after binding; NULL: stay */
	char *control; /* the control socket's path; NULL: none */
	/* metrics: "ADDR:PORT" (numeric) of the Prometheus endpoint, as
	 * written; NULL: none (the default). */
	char *metrics;
	/* log */
	char *syslog_facility; /* "daemon" by default; NULL: no syslog */
	bool log_stderr;
	enum conf_log_format log_format;
	struct conf_actions actions;
	/*
	 * geoip: the MaxMind DB files the rules' country= and asn= patterns
	 * are decided with (proxy/geoip.h); NULL: none.
	 */
	char *geoip_country;
	char *geoip_asn;
	unsigned workers; /* event loops; 0 = one per CPU */
	struct conf_service *services;
	size_t nservices;
	/*
	 * What conf_validate() found legal but dangerous (a mail server
	 * that sees every client as loopback): the caller prints or logs
	 * them, at start, on reload and in `wrapd check`.
	 */
	struct conf_errs *warnings;
};

struct conf_err {
	char *file;
	unsigned line, col; /* 1-based; 0 when unknown */
	char *msg;
};

struct conf_errs {
	struct conf_err *v;
	size_t n, cap;
};

void conf_errs_free(struct conf_errs *e);
/* Print each error as "file:line:col: message" (fewer fields when 0). */
void conf_errs_print(const struct conf_errs *e, FILE *fp);
/*
 * One error as conf_errs_print() writes it, without the newline, with kind
 * ("", "warning: ") before the message; snprintf's return (a longer text
 * is cut to size).  conf/ quotes values cut short, so CONF_ERR_TEXT_MAX
 * is room enough.
 */
#define CONF_ERR_TEXT_MAX 2048
int conf_err_format(
    const struct conf_err *e, const char *kind, char *buf, size_t size);

/* A conf with every default set and no services. */
struct wrapd_conf *conf_new(void);
/* Parse a file / a buffer.  NULL on any error (all of them in *errs). */
struct wrapd_conf *conf_load_file(const char *path, struct conf_errs *errs);
struct wrapd_conf *conf_load_mem(
    const char *name, const char *text, size_t len, struct conf_errs *errs);
void conf_free(struct wrapd_conf *c);

/*
 * Quick mode: append a service with defaults; the caller fills it in.
 * The pointer is valid until the next conf_service_add() (the array grows).
 * Everything a caller stores in the conf must come from malloc: conf_free()
 * frees it.  NULL if the name is not [A-Za-z0-9._-]{1,64}.
 */
struct conf_service *conf_service_add(struct wrapd_conf *c, const char *name);
/*
 * Parse "ADDR:PORT" / "[v6]:PORT" / "systemd" / "stdin" into *l (which owns
 * malloc'd text and host afterwards).  0 on success; -1 and a malloc'd
 * message in *err (if err is not NULL) on error, *l then holds nothing.
 */
int conf_parse_listen(const char *text, struct conf_listen *l, char **err);
/* Parse "ADDR:PORT" / "unix:PATH" into the service's backend fields. */
int conf_parse_backend(const char *text, struct conf_service *s, char **err);
/*
 * A duration as the file writes it ("250ms", "5", "5s", "2m", "1h"; at
 * most 2^40 ms) in milliseconds: 0, or -1 if it is not one.
 */
int conf_parse_duration(const char *s, uint64_t *ms);
/*
 * A rate as the file writes it ("6/min", "10/sec", "6/30s"): count per
 * secs.  0, or -1 and a malloc'd message in *err.
 */
int conf_parse_rate(const char *s, unsigned *count, unsigned *secs, char **err);
/*
 * Parse one access_times window, "[DAYS ]HH:MM-HH:MM" (conf_timewin.c), into
 * *w (w->text is not set).  0, or -1 and a malloc'd message in *err.
 */
int conf_timewin_parse(const char *text, struct conf_timewin *w, char **err);
/* conf_parse_listen() and append to s->listen.  0 or -1 with *err. */
int conf_service_add_listen(
    struct conf_service *s, const char *text, char **err);
/* Copy a NULL-terminated argv into s as its exec backend.  0 or -1, *err. */
int conf_service_set_exec(
    struct conf_service *s, char *const argv[], char **err);
/*
 * Parse "ADDR/LEN" or "ADDR" (a host) into *n: 0, or -1 and a malloc'd
 * message in *err (if err is not NULL).
 */
int conf_daemons_cidr_parse(const char *text, struct conf_cidr *n, char **err);
/* Append a network to s->proxy_from (quick mode).  0 or -1 with *err. */
int conf_daemons_add_proxy_from(
    struct conf_service *s, const char *text, char **err);
/* Is the address (family, 4 or 16 bytes) inside one of the n networks? */
bool conf_daemons_cidr_contains(
    const struct conf_cidr *v, size_t n, int family, const uint8_t *bytes);
/*
 * Is path ("services[].timeouts.idle") a key that conf_set() can set?  Then
 * also whether it takes a list and whether it belongs to a service.
 */
bool conf_set_known(const char *path, bool *is_list, bool *per_service);
/*
 * Set the key at path from text, as if a file had said it: the same
 * syntax, bounds, checks and messages (quick mode's flags).  A list key
 * (listen, exec, accept_proxy_from) takes its whole list in values; any
 * other key exactly one value.  s is the service of a "services[]." key.
 * Errors go to errs with origin (the flag) as their file and no position.
 * 0; or -1 with the errors in errs, or with errno EINVAL for a path that
 * is not a key or values that do not fit it (a caller's mistake).
 */
int conf_set(struct wrapd_conf *c, struct conf_service *s, const char *path,
    const char *const *values, size_t nvalues, const char *origin,
    struct conf_errs *errs);
/* Cross-field checks shared by the file and quick mode. */
int conf_validate(struct wrapd_conf *c, struct conf_errs *errs);
/*
 * Write the effective configuration, every default filled in, as YAML
 * that conf_load_mem() reads back to the same values (for "wrapd check -v").
 * 0, or -1 if writing failed.
 */
int conf_dump(const struct wrapd_conf *c, FILE *fp);

#endif /* WRAPD_CONF_H */
