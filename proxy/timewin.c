/*
 * timewin.c - is a service open at this time (access_times)?
 *
 * Minutes of the local wall clock, compared with each window: a window
 * with start < end is open from start to end on its days; one with
 * end <= start crosses midnight: open from start on its days, and before
 * end on the day after each of them ("Sat 22:00-02:00" is open early on
 * Sunday, not early on Saturday).
 */
#include <stdatomic.h>

#include "timewin.h"

static _Atomic(timewin_clock_fn *) timewin_clock;

void
timewin_set_clock(timewin_clock_fn *fn)
{
	atomic_store(&timewin_clock, fn);
}

bool
timewin_open(const struct conf_timewin *v, size_t n, const struct tm *tm)
{
	unsigned now, today, yesterday;
	size_t i;

	if (n == 0)
		return true;
	now = (unsigned)tm->tm_hour * 60 + (unsigned)tm->tm_min;
	today = 1u << tm->tm_wday;
	yesterday = 1u << ((tm->tm_wday + 6) % 7);
	for (i = 0; i < n; i++) {
		const struct conf_timewin *w = &v[i];

		if (w->start < w->end) {
			if ((w->days & today) && now >= w->start &&
			    now < w->end)
				return true;
			continue;
		}
		if ((w->days & today) && now >= w->start)
			return true;
		if ((w->days & yesterday) && now < w->end)
			return true;
	}
	return false;
}

bool
timewin_open_now(const struct conf_service *cs)
{
	timewin_clock_fn *clock = atomic_load(&timewin_clock);
	struct tm tm;
	time_t t;

	if (cs->naccess_times == 0)
		return true;
	t = clock != NULL ? clock() : time(NULL);
	if (t == (time_t)-1 || localtime_r(&t, &tm) == NULL || tm.tm_wday < 0 ||
	    tm.tm_wday > 6 || tm.tm_hour < 0 || tm.tm_hour > 23 ||
	    tm.tm_min < 0 || tm.tm_min > 59)
		return false;
	return timewin_open(cs->access_times, cs->naccess_times, &tm);
}
