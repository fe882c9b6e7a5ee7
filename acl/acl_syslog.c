/*
 * acl_syslog.c - syslog facility and level names: the one table wrapd has.
 *
 * libwrap's severity option knows the facilities of its own table (not
 * authpriv, ftp or syslog); wrapd.yaml's log.syslog knows every facility
 * syslog(3) has.  One table, marked per row, serves both.
 */
#include <stdbool.h>
#include <strings.h>
#include <syslog.h>

#include "acl.h"

struct acl_syslog_name {
	const char *name;
	int value;
	bool libwrap; /* in libwrap's severity table */
};

static const struct acl_syslog_name acl_facilities[] = {
    {"kern", LOG_KERN, true},
    {"user", LOG_USER, true},
    {"mail", LOG_MAIL, true},
    {"daemon", LOG_DAEMON, true},
    {"auth", LOG_AUTH, true},
    {"syslog", LOG_SYSLOG, false},
    {"lpr", LOG_LPR, true},
    {"news", LOG_NEWS, true},
    {"uucp", LOG_UUCP, true},
    {"cron", LOG_CRON, true},
    {"authpriv", LOG_AUTHPRIV, false},
    {"ftp", LOG_FTP, false},
    {"local0", LOG_LOCAL0, true},
    {"local1", LOG_LOCAL1, true},
    {"local2", LOG_LOCAL2, true},
    {"local3", LOG_LOCAL3, true},
    {"local4", LOG_LOCAL4, true},
    {"local5", LOG_LOCAL5, true},
    {"local6", LOG_LOCAL6, true},
    {"local7", LOG_LOCAL7, true},
};

static const struct acl_syslog_name acl_levels[] = {
    {"emerg", LOG_EMERG, true},
    {"alert", LOG_ALERT, true},
    {"crit", LOG_CRIT, true},
    {"err", LOG_ERR, true},
    {"warning", LOG_WARNING, true},
    {"notice", LOG_NOTICE, true},
    {"info", LOG_INFO, true},
    {"debug", LOG_DEBUG, true},
};

static int
acl_syslog_find(
    const struct acl_syslog_name *t, size_t n, const char *name, bool libwrap)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((!libwrap || t[i].libwrap) &&
		    strcasecmp(t[i].name, name) == 0)
			return t[i].value;
	return -1;
}

int
acl_syslog_facility(const char *name, bool libwrap)
{
	return acl_syslog_find(acl_facilities,
	    sizeof(acl_facilities) / sizeof(acl_facilities[0]), name, libwrap);
}

int
acl_syslog_level(const char *name)
{
	return acl_syslog_find(
	    acl_levels, sizeof(acl_levels) / sizeof(acl_levels[0]), name, true);
}
