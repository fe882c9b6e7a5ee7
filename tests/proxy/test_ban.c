/*
 * test_ban.c - the ban table (proxy/ban.c) on its own, time passed in:
 * "after N within W", expiry, IPv6 /64s, and hostile numbers of sources:
 * the table stays bounded, evicts the least recently denied tracker
 * first and a ban last, counts both, and keeps an abusive source banned
 * while 10,000 others come and go.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ban.h"

#define S  1000ULL
#define MN (60 * S)

static struct acl_addr
addr(const char *text)
{
	struct acl_addr a;

	memset(&a, 0, sizeof(a));
	if (strchr(text, ':') != NULL) {
		a.family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, text, a.bytes), 1);
	} else {
		a.family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, text, a.bytes), 1);
	}
	return a;
}

/* The i-th of many IPv4 sources, 10.x.y.z. */
static struct acl_addr
nth(unsigned i)
{
	struct acl_addr a;

	memset(&a, 0, sizeof(a));
	a.family = AF_INET;
	a.bytes[0] = 10;
	a.bytes[1] = (uint8_t)(i >> 16);
	a.bytes[2] = (uint8_t)(i >> 8);
	a.bytes[3] = (uint8_t)i;
	return a;
}

static const struct ban_params P3 = {
    .after = 3,
    .within_ms = 60 * S,
    .for_ms = 10 * MN,
    .max = 4096,
};

static void
test_after_within_for(void **state)
{
	struct ban_table *t = ban_table_new();
	struct acl_addr a = addr("192.0.2.7"), b = addr("192.0.2.8");
	struct ban_event ev, gone[4];
	struct ban_stats st;
	uint64_t lost;
	char text[80];

	(void)state;
	assert_false(ban_strike(t, &a, &P3, 1000, &ev));
	assert_false(ban_strike(t, &a, &P3, 2000, &ev));
	assert_false(ban_check(t, &a, 2500));
	assert_true(ban_strike(t, &a, &P3, 3000, &ev));
	source_key_format(&ev.key, text, sizeof(text));
	assert_string_equal(text, "192.0.2.7");
	assert_int_equal(ev.denials, 3);
	assert_int_equal(ev.until_ms, 3000 + 10 * MN);
	/* Banned: refused and counted; another source is not. */
	assert_true(ban_check(t, &a, 4000));
	assert_true(ban_check(t, &a, 3000 + 10 * MN - 1));
	assert_false(ban_check(t, &b, 4000));
	/* A denial decided before the ban was set adds nothing. */
	assert_false(ban_strike(t, &a, &P3, 5000, &ev));
	ban_stats(t, &st);
	assert_int_equal(st.banned, 1);
	assert_int_equal(st.refused, 2);
	assert_int_equal(st.set, 1);
	assert_int_equal(st.denials, 3);
	/* It ends at `for`, and is reported once. */
	assert_false(ban_check(t, &a, 3000 + 10 * MN));
	assert_int_equal(ban_expired(t, 3000 + 10 * MN, gone, 4, &lost), 1);
	assert_int_equal(lost, 0);
	assert_int_equal(gone[0].refused, 2);
	assert_int_equal(ban_expired(t, 3000 + 10 * MN, gone, 4, &lost), 0);
	ban_stats(t, &st);
	assert_int_equal(st.banned, 0);
	assert_int_equal(st.expired, 1);
	ban_table_free(t);
}

/* The count runs from the first denial; after `within` it starts over. */
static void
test_window_starts_over(void **state)
{
	struct ban_table *t = ban_table_new();
	struct acl_addr a = addr("192.0.2.7");
	struct ban_event ev;

	(void)state;
	assert_false(ban_strike(t, &a, &P3, 0, &ev));
	assert_false(ban_strike(t, &a, &P3, 30 * S, &ev));
	/* 61 s after the first: a new count of 1, not 3. */
	assert_false(ban_strike(t, &a, &P3, 61 * S, &ev));
	assert_false(ban_strike(t, &a, &P3, 62 * S, &ev));
	assert_true(ban_strike(t, &a, &P3, 63 * S, &ev));
	assert_true(ban_check(t, &a, 64 * S));
	ban_table_free(t);
}

/* A source is an IPv4 address or an IPv6 /64; no address, no ban. */
static void
test_sources(void **state)
{
	struct ban_table *t = ban_table_new();
	struct ban_params p = P3;
	struct acl_addr v6a = addr("2001:db8:1:2::1"),
	                v6b = addr("2001:db8:1:2:ffff::9"),
	                v6c = addr("2001:db8:1:3::1"), none;
	struct ban_event ev;
	char text[80];

	(void)state;
	p.after = 1;
	assert_true(ban_strike(t, &v6a, &p, 0, &ev));
	source_key_format(&ev.key, text, sizeof(text));
	assert_string_equal(text, "2001:db8:1:2::/64");
	assert_true(ban_check(t, &v6b, 1));  /* same /64 */
	assert_false(ban_check(t, &v6c, 1)); /* the next one */
	memset(&none, 0, sizeof(none));
	none.family = AF_UNSPEC;
	assert_false(ban_strike(t, &none, &p, 2, &ev));
	assert_false(ban_check(t, &none, 3));
	p.after = 0; /* no "ban": nobody is banned */
	assert_false(ban_strike(t, &v6c, &p, 4, &ev));
	assert_false(ban_check(t, &v6c, 5));
	ban_table_free(t);
}

/*
 * 10,000 distinct sources, each denied once: the table keeps at most
 * max_sources of them, forgets the least recently denied first, counts
 * each one forgotten, and the abusive source banned before them all is
 * still banned; the others are never refused.
 */
static void
test_ten_thousand_sources(void **state)
{
	struct ban_table *t = ban_table_new();
	struct acl_addr abuser = addr("192.0.2.66"), a;
	struct ban_event ev;
	struct ban_stats st;
	unsigned i;

	(void)state;
	for (i = 0; i < 3; i++)
		(void)ban_strike(t, &abuser, &P3, i, &ev);
	assert_true(ban_check(t, &abuser, 10));
	for (i = 0; i < 10000; i++) {
		a = nth(i);
		assert_false(ban_check(t, &a, 100 + i));
		assert_false(ban_strike(t, &a, &P3, 100 + i, &ev));
		ban_stats(t, &st);
		assert_true(st.banned + st.tracked <= P3.max);
	}
	ban_stats(t, &st);
	assert_int_equal(st.banned, 1);
	assert_int_equal(st.tracked, P3.max - 1);
	assert_int_equal(st.evicted_tracks, 10000 - (P3.max - 1));
	assert_int_equal(st.evicted_bans, 0);
	assert_true(ban_check(t, &abuser, 20000));
	/* The oldest were forgotten: a second denial of source 0 is a first;
	 * the newest were kept: two more of source 9999 ban it. */
	a = nth(0);
	assert_false(ban_strike(t, &a, &P3, 20001, &ev));
	assert_false(ban_strike(t, &a, &P3, 20002, &ev));
	a = nth(9999);
	assert_false(ban_strike(t, &a, &P3, 20003, &ev));
	assert_true(ban_strike(t, &a, &P3, 20004, &ev));
	ban_table_free(t);
}

/* A table of nothing but bans gives up the one with the least time left. */
static void
test_full_of_bans(void **state)
{
	struct ban_table *t = ban_table_new();
	struct ban_params p = P3;
	struct ban_event ev;
	struct ban_stats st;
	struct acl_addr a;
	unsigned i;

	(void)state;
	p.after = 1;
	p.max = 16;
	for (i = 0; i < 20; i++) {
		a = nth(i);
		assert_true(ban_strike(t, &a, &p, 1000 + i, &ev));
	}
	ban_stats(t, &st);
	assert_int_equal(st.banned, 16);
	assert_int_equal(st.evicted_bans, 4);
	for (i = 0; i < 20; i++) {
		a = nth(i);
		assert_int_equal(ban_check(t, &a, 2000), i >= 4);
	}
	ban_table_free(t);
}

struct listing {
	uint64_t until[8];
	size_t n;
};

static void
list_cb(void *arg, const struct ban_event *ev)
{
	struct listing *l = arg;

	if (l->n < 8)
		l->until[l->n++] = ev->until_ms;
}

/* Listed soonest to end first, even after `for` changed on a reload;
 * many ending at once are reported, and what the ring cannot keep counted. */
static void
test_list_and_expiry(void **state)
{
	struct ban_table *t = ban_table_new();
	struct ban_params p = P3;
	struct listing l = {{0}, 0};
	struct ban_event ev, gone[100];
	struct acl_addr a;
	uint64_t lost;
	unsigned i;

	(void)state;
	p.after = 1;
	a = nth(1);
	assert_true(ban_strike(t, &a, &p, 0, &ev)); /* until 10 min */
	p.for_ms = 1 * MN;
	a = nth(2);
	assert_true(ban_strike(t, &a, &p, 0, &ev)); /* until 1 min */
	ban_list(t, 1, list_cb, &l);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.until[0], 1 * MN);
	assert_int_equal(l.until[1], 10 * MN);
	for (i = 100; i < 200; i++) {
		a = nth(i);
		assert_true(ban_strike(t, &a, &p, 0, &ev));
	}
	assert_int_equal(ban_expired(t, 2 * MN, gone, 100, &lost), 64);
	assert_int_equal(lost, 101 - 64);
	assert_int_equal(ban_expired(t, 2 * MN, gone, 100, &lost), 0);
	ban_table_free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_after_within_for),
	    cmocka_unit_test(test_window_starts_over),
	    cmocka_unit_test(test_sources),
	    cmocka_unit_test(test_ten_thousand_sources),
	    cmocka_unit_test(test_full_of_bans),
	    cmocka_unit_test(test_list_and_expiry),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
