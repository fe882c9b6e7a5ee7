/*
 * log.c - stderr and syslog sinks.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "acl.h"
#include "json.h"
#include "log.h"

static struct {
	bool to_stderr;
	bool to_syslog;
	bool json;
	int level;
} log_cfg = {true, false, false, LOG_INFO};

int
log_facility_parse(const char *name)
{
	return acl_syslog_facility(name, false);
}

int
log_setup(bool to_stderr, const char *facility, bool json, int level)
{
	int fac = -1;

	if (facility != NULL && (fac = log_facility_parse(facility)) < 0)
		return -1;
	if (log_cfg.to_syslog)
		closelog();
	log_cfg.to_stderr = to_stderr;
	log_cfg.to_syslog = facility != NULL;
	log_cfg.json = json;
	log_cfg.level = level;
	if (log_cfg.to_syslog)
		openlog("wrapd", LOG_PID | LOG_NDELAY, fac);
	return 0;
}

bool
log_json(void)
{
	return log_cfg.json;
}

bool
log_enabled(int prio)
{
	return (prio & LOG_PRIMASK) <= log_cfg.level;
}

const char *
log_prio_name(int prio)
{
	switch (prio & LOG_PRIMASK) {
	case LOG_EMERG:
	case LOG_ALERT:
	case LOG_CRIT:
		return "crit";
	case LOG_ERR:
		return "error";
	case LOG_WARNING:
		return "warning";
	case LOG_NOTICE:
		return "notice";
	case LOG_INFO:
		return "info";
	default:
		return "debug";
	}
}

/*
 * getpid() is a system call, and both the log line and %p want it for every
 * connection.  A forked child that logs before exec shows the parent's pid.
 */
long
log_pid(void)
{
	static _Atomic long pid;
	long p = atomic_load_explicit(&pid, memory_order_relaxed);

	if (p == 0) {
		p = (long)getpid();
		atomic_store_explicit(&pid, p, memory_order_relaxed);
	}
	return p;
}

/* One write per line: threads must not interleave partial lines. */
static void
log_write_line(struct log_buf *b)
{
	if (b->len + 1 >= b->cap)
		b->len = b->cap - 2;
	b->p[b->len++] = '\n';
	while (write(STDERR_FILENO, b->p, b->len) < 0 && errno == EINTR)
		;
}

/* The head of a JSON record: {"ts":"...","level":"...","pid":N, */
static void
log_json_head(struct log_buf *b, int prio)
{
	struct timespec ts;
	struct tm tm;
	char when[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	log_buf_printf(b, "{\"ts\":\"%s.%03ldZ\",\"level\":\"%s\",\"pid\":%ld,",
	    when, ts.tv_nsec / 1000000, log_prio_name(prio), log_pid());
}

void
log_vmsg(int prio, const char *fmt, va_list ap)
{
	char line[2048], text[1800];
	struct log_buf b = {line, 0, sizeof(line)};
	va_list ap2;

	if (!log_enabled(prio))
		return;
	if (log_cfg.to_syslog) {
		va_copy(ap2, ap);
		vsyslog(prio, fmt, ap2);
		va_end(ap2);
	}
	if (!log_cfg.to_stderr)
		return;
	line[0] = '\0';
	if (log_cfg.json) {
		/* Every line a JSON object, so jq reads the whole stream. */
		vsnprintf(text, sizeof(text), fmt, ap);
		log_json_head(&b, prio);
		log_buf_printf(&b, "\"msg\":");
		log_buf_json_str(&b, text);
		log_buf_printf(&b, "}");
	} else {
		log_buf_printf(
		    &b, "wrapd[%ld]: %s: ", log_pid(), log_prio_name(prio));
		if (b.len + 1 < b.cap) {
			int n = vsnprintf(b.p + b.len, b.cap - b.len, fmt, ap);

			if (n > 0)
				b.len += (size_t)n < b.cap - b.len
				    ? (size_t)n
				    : b.cap - b.len - 1;
		}
	}
	log_write_line(&b);
}

void
log_json_record(int prio, const char *members)
{
	char line[2048];
	struct log_buf b = {line, 0, sizeof(line)};

	if (!log_enabled(prio))
		return;
	if (log_cfg.to_syslog)
		syslog(prio, "{%s}", members);
	if (!log_cfg.to_stderr)
		return;
	line[0] = '\0';
	log_json_head(&b, prio);
	log_buf_printf(&b, "%s}", members);
	log_write_line(&b);
}

void
log_msg(int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(prio, fmt, ap);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	char buf[1024];
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_msg(LOG_WARNING, "%s: %s", buf, strerror(saved));
	errno = saved;
}

#define LOG_SIMPLE(name, prio)                                                 \
	void name(const char *fmt, ...)                                        \
	{                                                                      \
		va_list ap;                                                    \
		va_start(ap, fmt);                                             \
		log_vmsg(prio, fmt, ap);                                       \
		va_end(ap);                                                    \
	}

LOG_SIMPLE(log_warnx, LOG_WARNING)
LOG_SIMPLE(log_info, LOG_INFO)
LOG_SIMPLE(log_debug, LOG_DEBUG)
LOG_SIMPLE(log_errx, LOG_ERR)

void
log_buf_printf(struct log_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->len + 1 >= b->cap)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	b->len += (size_t)n;
	if (b->len >= b->cap)
		b->len = b->cap - 1;
}

static void
log_buf_putc(struct log_buf *b, char c)
{
	if (b->len + 1 < b->cap) {
		b->p[b->len++] = c;
		b->p[b->len] = '\0';
	}
}

/*
 * s in double quotes, with \" and \\, and every control or non-ASCII byte
 * as \xNN: a key=value line stays one line of ASCII.
 */
static void
log_buf_quoted(struct log_buf *b, const char *s)
{
	const unsigned char *u;

	log_buf_putc(b, '"');
	for (u = (const unsigned char *)s; *u != '\0'; u++) {
		if (*u == '"' || *u == '\\') {
			log_buf_putc(b, '\\');
			log_buf_putc(b, (char)*u);
		} else if (*u < ' ' || *u >= 0x7f) {
			log_buf_printf(b, "\\x%02x", *u);
		} else
			log_buf_putc(b, (char)*u);
	}
	log_buf_putc(b, '"');
}

void
log_buf_kv_str(struct log_buf *b, const char *s)
{
	const unsigned char *u;
	bool plain = *s != '\0';

	for (u = (const unsigned char *)s; plain && *u != '\0'; u++)
		if (*u <= ' ' || *u >= 0x7f || *u == '"' || *u == '\\' ||
		    *u == '=')
			plain = false;
	if (plain)
		log_buf_printf(b, "%s", s);
	else
		log_buf_quoted(b, s);
}

static void
log_buf_put(void *arg, const char *p, size_t n)
{
	struct log_buf *b = arg;

	if (b->len + n >= b->cap)
		return; /* the line ends early; never half an escape */
	memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void
log_buf_json_str(struct log_buf *b, const char *s)
{
	json_string(s, log_buf_put, b);
}
