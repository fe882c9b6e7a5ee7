/*
 * test_action_limit.c - the action limiter: running cap, per-source GCRA,
 * bounded table, skip counters.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "action_limit.h"

static struct acl_addr
addr(const char *text)
{
	struct acl_addr a;

	assert_int_equal(acl_addr_parse(&a, text), 0);
	return a;
}

static void
test_running_cap(void **state)
{
	struct action_limit *l = action_limit_new(3, 0, 0, 0);
	struct action_limit_skips sk;
	int i, ok = 0;

	(void)state;
	assert_non_null(l);
	for (i = 0; i < 10; i++)
		ok += action_limit_take(l);
	assert_int_equal(ok, 3);
	assert_int_equal(action_limit_running(l), 3);
	action_limit_put(l);
	assert_true(action_limit_take(l));
	assert_false(action_limit_take(l));
	action_limit_take_skips(l, &sk);
	assert_int_equal(sk.over_running, 8);
	assert_int_equal(sk.over_rate, 0);
	action_limit_take_skips(l, &sk);
	assert_int_equal(sk.over_running, 0);
	action_limit_free(l);
}

static void
test_zero_running(void **state)
{
	struct action_limit *l = action_limit_new(0, 0, 0, 0);

	(void)state;
	assert_false(action_limit_take(l));
	action_limit_free(l);
}

/* 6/min: a burst of 6, then one every 10 s. */
static void
test_rate_burst_then_refill(void **state)
{
	struct action_limit *l = action_limit_new(100, 6, 60, 0);
	struct acl_addr a = addr("192.0.2.7"), b = addr("192.0.2.8");
	struct action_limit_skips sk;
	uint64_t t = 1000000;
	int i, ok = 0;

	(void)state;
	for (i = 0; i < 20; i++)
		ok += action_limit_admit(l, &a, t);
	assert_int_equal(ok, 6);
	/* Another source is not affected. */
	assert_true(action_limit_admit(l, &b, t));
	/* 9.999 s later: still nothing; at 10 s: exactly one more. */
	assert_false(action_limit_admit(l, &a, t + 9999));
	assert_true(action_limit_admit(l, &a, t + 10000));
	assert_false(action_limit_admit(l, &a, t + 10000));
	/* A full minute idle refills the whole burst, no more. */
	ok = 0;
	for (i = 0; i < 20; i++)
		ok += action_limit_admit(l, &a, t + 10000 + 60000);
	assert_int_equal(ok, 6);
	action_limit_take_skips(l, &sk);
	assert_int_equal(sk.over_rate, 14 + 1 + 1 + 14);
	action_limit_free(l);
}

/* IPv6 sources share a bucket per /64; IPv4-mapped counts as IPv4. */
static void
test_rate_v6_prefix(void **state)
{
	struct action_limit *l = action_limit_new(100, 2, 60, 0);
	struct acl_addr a1 = addr("2001:db8:1:2::1"),
	                a2 = addr("2001:db8:1:2:ffff::9"),
	                other = addr("2001:db8:1:3::1"),
	                m = addr("::ffff:198.51.100.1"),
	                v4 = addr("198.51.100.1");

	(void)state;
	assert_true(action_limit_admit(l, &a1, 5000));
	assert_true(action_limit_admit(l, &a2, 5000));
	assert_false(action_limit_admit(l, &a1, 5000));
	assert_true(action_limit_admit(l, &other, 5000));
	assert_true(action_limit_admit(l, &m, 5000));
	assert_true(action_limit_admit(l, &v4, 5000));
	assert_false(action_limit_admit(l, &m, 5000));
	action_limit_free(l);
}

/*
 * A tiny table flooded with many sources: memory stays fixed, every new
 * source gets its own burst, and a source that keeps hammering is still
 * limited once it is back in the table.
 */
static void
test_rate_table_bounded(void **state)
{
	struct action_limit *l = action_limit_new(100, 1, 3600, 8);
	struct acl_addr a;
	char text[32];
	int i, fresh = 0;

	(void)state;
	for (i = 0; i < 5000; i++) {
		snprintf(text, sizeof(text), "10.%d.%d.%d", (i >> 16) & 255,
		    (i >> 8) & 255, i & 255);
		a = addr(text);
		fresh += action_limit_admit(l, &a, 1000);
	}
	assert_int_equal(fresh, 5000);
	a = addr("203.0.113.1");
	assert_true(action_limit_admit(l, &a, 1000));
	assert_false(action_limit_admit(l, &a, 1000));
	action_limit_free(l);
}

static void
test_skips_due_once(void **state)
{
	struct action_limit *l = action_limit_new(0, 0, 0, 0);
	struct action_limit_skips sk;

	(void)state;
	assert_false(action_limit_take(l));
	assert_false(action_limit_take(l));
	assert_true(action_limit_take_skips_due(l, 5000, 1000, &sk));
	assert_int_equal(sk.over_running, 2);
	assert_false(action_limit_take(l));
	/* Not yet due: the count waits for the next interval. */
	assert_false(action_limit_take_skips_due(l, 5500, 1000, &sk));
	assert_true(action_limit_take_skips_due(l, 6000, 1000, &sk));
	assert_int_equal(sk.over_running, 1);
	/* Due, but nothing skipped: no line. */
	assert_false(action_limit_take_skips_due(l, 8000, 1000, &sk));
	action_limit_free(l);
}

static void
test_configure(void **state)
{
	struct action_limit *l = action_limit_new(1, 0, 0, 0);
	struct acl_addr a = addr("192.0.2.1");

	(void)state;
	assert_true(action_limit_take(l));
	assert_false(action_limit_take(l));
	action_limit_configure(l, 2, 1, 60);
	assert_true(action_limit_take(l));
	assert_int_equal(action_limit_running(l), 2);
	assert_true(action_limit_admit(l, &a, 100));
	assert_false(action_limit_admit(l, &a, 100));
	action_limit_configure(l, 2, 0, 0);
	assert_true(action_limit_admit(l, &a, 100));
	action_limit_free(l);
}

/*
 * The mail rate is one bucket for the whole process: sources from
 * different /64s do not get one each.  3/hour: 3 at once, one every 20 min.
 */
static void
test_mail_rate_global(void **state)
{
	struct action_limit *l = action_limit_new(100, 100, 60, 0);
	struct action_limit_skips sk;
	char text[64];
	uint64_t t = 1000000;
	int i, ok = 0;

	(void)state;
	/* No mail rate set: every mail passes. */
	for (i = 0; i < 10; i++)
		assert_true(action_limit_admit_mail(l, t));
	action_limit_set_mail_rate(l, 3, 3600);
	for (i = 0; i < 50; i++) {
		struct acl_addr a;

		snprintf(text, sizeof(text), "2001:db8:%x::1", i);
		a = addr(text);
		if (action_limit_admit(l, &a, t))
			ok += action_limit_admit_mail(l, t);
	}
	assert_int_equal(ok, 3);
	assert_false(action_limit_admit_mail(l, t + 20 * 60000 - 1));
	assert_true(action_limit_admit_mail(l, t + 20 * 60000));
	action_limit_take_skips(l, &sk);
	assert_int_equal(sk.over_mail_rate, 47 + 1);
	assert_int_equal(sk.over_rate, 0);
	/* The same rate again keeps the bucket; a new one starts afresh. */
	action_limit_set_mail_rate(l, 3, 3600);
	assert_false(action_limit_admit_mail(l, t + 20 * 60000));
	action_limit_set_mail_rate(l, 2, 3600);
	assert_true(action_limit_admit_mail(l, t + 20 * 60000));
	action_limit_free(l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_running_cap),
	    cmocka_unit_test(test_zero_running),
	    cmocka_unit_test(test_rate_burst_then_refill),
	    cmocka_unit_test(test_rate_v6_prefix),
	    cmocka_unit_test(test_rate_table_bounded),
	    cmocka_unit_test(test_skips_due_once),
	    cmocka_unit_test(test_configure),
	    cmocka_unit_test(test_mail_rate_global),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
