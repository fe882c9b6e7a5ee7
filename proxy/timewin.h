/*
 * timewin.h - access_times: a service takes connections only in its
 * windows of local wall-clock time (conf_timewin.c parses them).
 *
 * The clock is the process's: time(2), turned into local time by
 * localtime_r(3) with the process's time zone (TZ, else /etc/localtime;
 * wrapd reads it again on reload).  The decision looks only at the wall
 * clock of the moment: the day of the week, the hour and the minute.  So
 * on the day summer time starts, a window of wall-clock times that do not
 * exist (02:00-03:00 in most of Europe) does not open at all, and when it
 * ends, a window of times that happen twice is open both times.
 *
 * Tests replace the clock with timewin_set_clock().  libc only.
 */
#ifndef WRAPD_TIMEWIN_H
#define WRAPD_TIMEWIN_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "conf.h"

/* Is one of the n windows open at the local time *tm?  n 0: always. */
bool timewin_open(const struct conf_timewin *v, size_t n, const struct tm *tm);
/*
 * Is the service open now?  A clock or time zone that cannot be read
 * closes it (fail closed).
 */
bool timewin_open_now(const struct conf_service *cs);

/* The clock timewin_open_now() reads; NULL: time(2) again. */
typedef time_t timewin_clock_fn(void);
void timewin_set_clock(timewin_clock_fn *fn);

#endif /* WRAPD_TIMEWIN_H */
