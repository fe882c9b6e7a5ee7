/*
 * test_timewin.c - access_times against the clock (proxy/timewin.c), with
 * the clock replaced (timewin_set_clock) and the time zone set: windows
 * within a day and across midnight, days, a clock that jumps across a
 * window's end and back, and both clock changes of summer time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "timewin.h"

static time_t fake_now;

static time_t
fake_clock(void)
{
	return fake_now;
}

/* A service with these windows (parsed as the file's are). */
static struct conf_service *
service(const char *const *texts, size_t n)
{
	struct conf_service *s = calloc(1, sizeof(*s));
	size_t i;

	assert_non_null(s);
	s->access_times = calloc(n, sizeof(*s->access_times));
	assert_non_null(s->access_times);
	for (i = 0; i < n; i++) {
		char *err = NULL;

		if (conf_timewin_parse(texts[i], &s->access_times[i], &err) < 0)
			fail_msg("%s: %s", texts[i], err);
	}
	s->naccess_times = n;
	return s;
}

static void
service_free(struct conf_service *s)
{
	free(s->access_times);
	free(s);
}

static void
set_tz(const char *tz)
{
	setenv("TZ", tz, 1);
	tzset();
}

/* Seconds since the epoch of a UTC date (timegm, with TZ set to UTC). */
static time_t
utc(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	return timegm(&tm);
}

static bool
open_at(const struct conf_service *s, time_t t)
{
	fake_now = t;
	return timewin_open_now(s);
}

static void
test_day_window(void **state)
{
	static const char *const w[] = {"08:00-18:00"};
	struct conf_service *s = service(w, 1);

	(void)state;
	set_tz("UTC");
	timewin_set_clock(fake_clock);
	assert_false(open_at(s, utc(2024, 5, 6, 7, 59, 59)));
	assert_true(open_at(s, utc(2024, 5, 6, 8, 0, 0)));
	assert_true(open_at(s, utc(2024, 5, 6, 17, 59, 59)));
	assert_false(open_at(s, utc(2024, 5, 6, 18, 0, 0)));
	service_free(s);
}

/* "Sat 22:00-02:00": Saturday night into Sunday, and nothing else. */
static void
test_crossing_midnight(void **state)
{
	static const char *const w[] = {"Sat 22:00-02:00"};
	struct conf_service *s = service(w, 1);

	(void)state;
	set_tz("UTC");
	timewin_set_clock(fake_clock);
	/* 2024-05-04 is a Saturday. */
	assert_false(open_at(s, utc(2024, 5, 4, 21, 59, 0)));
	assert_true(open_at(s, utc(2024, 5, 4, 22, 0, 0)));
	assert_true(open_at(s, utc(2024, 5, 4, 23, 59, 59)));
	assert_true(open_at(s, utc(2024, 5, 5, 0, 0, 0))); /* Sunday */
	assert_true(open_at(s, utc(2024, 5, 5, 1, 59, 59)));
	assert_false(open_at(s, utc(2024, 5, 5, 2, 0, 0)));
	assert_false(open_at(s, utc(2024, 5, 4, 1, 0, 0)));  /* Sat early */
	assert_false(open_at(s, utc(2024, 5, 5, 23, 0, 0))); /* Sun late */
	service_free(s);
}

/* Several windows, any of them; the whole day; a day list. */
static void
test_windows_and_days(void **state)
{
	static const char *const w[] = {"Mon-Fri 08:00-12:00",
	    "Mon-Fri 13:00-17:00", "Sat,Sun 00:00-24:00"};
	struct conf_service *s = service(w, 3);

	(void)state;
	set_tz("UTC");
	timewin_set_clock(fake_clock);
	assert_true(open_at(s, utc(2024, 5, 6, 9, 0, 0)));    /* Mon */
	assert_false(open_at(s, utc(2024, 5, 6, 12, 30, 0))); /* lunch */
	assert_true(open_at(s, utc(2024, 5, 10, 16, 59, 0))); /* Fri */
	assert_false(open_at(s, utc(2024, 5, 10, 17, 0, 0)));
	assert_true(open_at(s, utc(2024, 5, 11, 3, 0, 0)));   /* Sat */
	assert_true(open_at(s, utc(2024, 5, 12, 23, 59, 0))); /* Sun */
	assert_false(open_at(s, utc(2024, 5, 13, 0, 0, 0)));  /* Mon 00:00 */
	service_free(s);
}

/*
 * The clock is set across a window's end (a manual change, an NTP step)
 * and back: each connection is decided on the time it is given, and a
 * clock that cannot be read closes the service.
 */
static void
test_clock_change(void **state)
{
	static const char *const w[] = {"08:00-18:00"};
	struct conf_service *s = service(w, 1);
	time_t in = utc(2024, 5, 6, 17, 30, 0);

	(void)state;
	set_tz("UTC");
	timewin_set_clock(fake_clock);
	assert_true(open_at(s, in));
	assert_false(open_at(s, in + 3600));      /* set forward to 18:30 */
	assert_true(open_at(s, in - 7200));       /* set back to 15:30 */
	assert_false(open_at(s, in - 11 * 3600)); /* back to 06:30 */
	assert_false(open_at(s, (time_t)-1));     /* no clock: closed */
	/* A service without access_times does not read the clock. */
	s->naccess_times = 0;
	assert_true(open_at(s, (time_t)-1));
	s->naccess_times = 1;
	timewin_set_clock(NULL); /* the real clock again */
	service_free(s);
}

/* Minutes of the day from t0 (a UTC midnight) in which s is open. */
static unsigned
open_minutes(const struct conf_service *s, time_t t0, unsigned hours)
{
	unsigned n = 0, m;

	for (m = 0; m < hours * 60; m++)
		n += open_at(s, t0 + (time_t)m * 60);
	return n;
}

/*
 * Summer time in Berlin (as a POSIX rule, without tzdata): on 31 March
 * 2024 the wall clock goes from 01:59:59 to 03:00:00, so a window of
 * 02:00-03:00 never opens and one of 02:30-03:30 is open 30 minutes; on
 * 27 October it goes from 02:59:59 back to 02:00:00, so 02:00-03:00 is
 * open twice, 120 minutes in all.
 */
static void
test_dst(void **state)
{
	static const char *const gap[] = {"02:00-03:00"};
	static const char *const half[] = {"02:30-03:30"};
	struct conf_service *g = service(gap, 1), *h = service(half, 1);

	(void)state;
	timewin_set_clock(fake_clock);
	set_tz("CET-1CEST,M3.5.0,M10.5.0/3");
	/* 30 March 23:00 UTC is 31 March 00:00 CET. */
	assert_int_equal(open_minutes(g, utc(2024, 3, 30, 23, 0, 0), 24), 0);
	assert_int_equal(open_minutes(h, utc(2024, 3, 30, 23, 0, 0), 24), 30);
	/* A normal day: 60 minutes. */
	assert_int_equal(open_minutes(g, utc(2024, 3, 29, 23, 0, 0), 24), 60);
	/* 26 October 22:00 UTC is 27 October 00:00 CEST. */
	assert_int_equal(open_minutes(g, utc(2024, 10, 26, 22, 0, 0), 25), 120);
	/* Just across the change: 00:59 UTC is 02:59 CEST, 01:00 UTC is
	 * 02:00 CET, both open. */
	assert_true(open_at(g, utc(2024, 10, 27, 0, 59, 0)));
	assert_true(open_at(g, utc(2024, 10, 27, 1, 0, 0)));
	assert_false(open_at(g, utc(2024, 10, 27, 2, 0, 0)));
	timewin_set_clock(NULL);
	set_tz("UTC");
	service_free(g);
	service_free(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_day_window),
	    cmocka_unit_test(test_crossing_midnight),
	    cmocka_unit_test(test_windows_and_days),
	    cmocka_unit_test(test_clock_change),
	    cmocka_unit_test(test_dst),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
