/*
 * log.h - wrapd's log: one line per event, to stderr and/or syslog.
 *
 * Every line is written with a single write(2) (stderr) or syslog(3) call,
 * so lines from different worker threads never interleave.  Priorities are
 * syslog's LOG_* levels; lines below the configured level are dropped.
 */
#ifndef WRAPD_LOG_H
#define WRAPD_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <syslog.h>

#define LOG_ATTR(f, a) __attribute__((__format__(printf, f, a)))

/*
 * Configure the sinks.  facility: a syslog facility name ("daemon",
 * "local0", ...) or NULL for no syslog.  json: every stderr line is a JSON
 * object (log_json_record), and the connection line is JSON on syslog too.
 * Returns -1 for an unknown facility name.
 */
int log_setup(bool to_stderr, const char *facility, bool json, int level);
/* Facility name -> LOG_* value, or -1. */
int log_facility_parse(const char *name);
bool log_json(void);
/* Is a message of priority prio logged at all? */
bool log_enabled(int prio);

/*
 * The word a JSON line's "level" gives prio ("warning", "info", ...; the
 * levels above error are all "crit"); `wrapd match` predicts with it.
 */
const char *log_prio_name(int prio);
/* wrapd's pid, cached. */
long log_pid(void);
void log_msg(int prio, const char *fmt, ...) LOG_ATTR(2, 3);
void log_vmsg(int prio, const char *fmt, va_list ap) LOG_ATTR(2, 0);
/* log_warn appends ": strerror(errno)"; log_warnx does not. */
void log_warn(const char *fmt, ...) LOG_ATTR(1, 2);
void log_warnx(const char *fmt, ...) LOG_ATTR(1, 2);
void log_info(const char *fmt, ...) LOG_ATTR(1, 2);
void log_debug(const char *fmt, ...) LOG_ATTR(1, 2);
/* log_errx: LOG_ERR without errno; for startup and reload errors. */
void log_errx(const char *fmt, ...) LOG_ATTR(1, 2);
/*
 * With log.format json, every line on stderr is one JSON object:
 * {"ts":"...Z","level":"info","pid":N,"msg":"..."} for a message, and for a
 * record (the connection line) ts, level and pid followed by its members,
 * given here as JSON text without the braces ("\"conn\":1,...").  Syslog
 * gets {members}.
 */
void log_json_record(int prio, const char *members);

/*
 * Helpers for building one log line in a caller's buffer.  They never
 * overflow: on truncation the line simply ends early.
 */
struct log_buf {
	char *p;
	size_t len, cap;
};
void log_buf_printf(struct log_buf *b, const char *fmt, ...) LOG_ATTR(2, 3);
/*
 * Append s for a key=value line: as is when it is made of safe printable
 * characters, otherwise quoted with \" \\ and \xNN escapes, so a hostile
 * ident reply or host name cannot forge fields or lines.
 */
void log_buf_kv_str(struct log_buf *b, const char *s);
/* Append s as a JSON string literal (json.h: the one escaper). */
void log_buf_json_str(struct log_buf *b, const char *s);

#endif /* WRAPD_LOG_H */
