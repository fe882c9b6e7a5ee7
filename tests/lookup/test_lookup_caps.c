/*
 * test_lookup_caps.c - a reverse zone that never answers, for one network,
 * must neither delay nor change the answers for other networks: name
 * look-ups in flight are capped per client network and in all (lookup.h,
 * struct lookup_name_caps), and a look-up over a cap answers "unknown",
 * LOOKUP_SKIPPED, at once.
 *
 * Run by run_lookup_names.sh with a resolver timeout of 30 s, in a private
 * network namespace where fake_dns.py holds every query of its dead zones
 * until the file $WRAPD_TEST_DNS_RELEASE exists, then answers NXDOMAIN:
 *
 *   127.0.1.0/24      reverse zone dead
 *   127.0.2.0/24      reverse zone fine, but the names it gives are in a
 *                     dead zone (stuck in the forward stage)
 *   127.1.0.0/16      256 dead /24 reverse zones
 *   fd00:dead::/32    dead ip6.arpa zone
 *
 * A held query keeps its resolver thread until the release (or glibc's 30
 * s), so the test decides when the stuck threads come back, not a clock.
 * Every wait is bounded: by a look-up's own deadline, or by a tick count.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <uv.h>

#include "acl.h"
#include "lookup.h"
#include "lookup_test.h"

#define GOOD_DEADLINE_MS  5000  /* for the look-ups that must be answered */
#define STUCK_DEADLINE_MS 60000 /* longer than the test: ended by release */
#define WAIT_TICK_MS      20
#define WAIT_TICKS_MAX    1500 /* 30 s for the fake server to see queries */

static struct lookup_name_caps caps;

/* ---- the fake server's dead zones */

static void
dead_zones_release(bool release)
{
	const char *path = getenv("WRAPD_TEST_DNS_RELEASE");
	int fd;

	assert_non_null(path);
	if (!release) {
		assert_true(unlink(path) == 0 || access(path, F_OK) != 0);
		return;
	}
	assert_true((fd = open(path, O_WRONLY | O_CREAT, 0644)) >= 0);
	close(fd);
}

/* Queries the fake server holds (or held) whose name ends in suffix. */
static unsigned
held_queries(const char *suffix)
{
	const char *path = getenv("WRAPD_TEST_DNS_LOG");
	char line[512];
	size_t sl = strlen(suffix);
	unsigned n = 0;
	FILE *f;

	assert_non_null(path);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		size_t len;

		line[strcspn(line, "\n")] = '\0';
		len = strlen(line);
		if (strncmp(line, "held ", 5) == 0 && len >= sl &&
		    strcmp(line + len - sl, suffix) == 0)
			n++;
	}
	fclose(f);
	return n;
}

/* ---- running the loop until something happened, bounded */

static void
tick(uv_timer_t *t)
{
	(*(unsigned *)t->data)++;
}

static void
closed(uv_handle_t *h)
{
	h->data = NULL;
}

/*
 * Run the loop until the fake server has seen `want` queries for the zone
 * `suffix` (the look-ups are really stuck there, not waiting in a queue).
 */
static void
run_until_held(uv_loop_t *loop, const char *suffix, unsigned want)
{
	uv_timer_t t;
	unsigned ticks = 0;

	uv_timer_init(loop, &t);
	t.data = &ticks;
	uv_timer_start(&t, tick, WAIT_TICK_MS, WAIT_TICK_MS);
	while (held_queries(suffix) < want) {
		if (ticks >= WAIT_TICKS_MAX)
			fail_msg("the fake DNS server saw %u queries for *%s, "
			         "want %u",
			    held_queries(suffix), suffix, want);
		uv_run(loop, UV_RUN_ONCE);
	}
	uv_close((uv_handle_t *)&t, closed);
	while (t.data != NULL) /* t lives on this stack */
		uv_run(loop, UV_RUN_NOWAIT);
}

/*
 * Run the loop until each of rs[0..n-1] has answered.  Bounded by the
 * deadlines of the look-ups waited for.
 */
static void
run_until_answered(uv_loop_t *loop, const struct name_result *rs, size_t n)
{
	size_t i = 0;

	while (i < n) {
		if (rs[i].calls > 0) {
			i++;
			continue;
		}
		if (uv_run(loop, UV_RUN_ONCE) == 0 && rs[i].calls == 0)
			fail_msg(
			    "the loop ran dry before look-up %zu answered", i);
	}
}

/* ---- starting look-ups */

static void
start(uv_loop_t *loop, const char *addr, uint64_t timeout_ms,
    struct name_result *r)
{
	struct sockaddr_storage ss;

	sa_parse(&ss, addr, 0);
	memset(r, 0, sizeof(*r));
	assert_non_null(lookup_name_start(
	    loop, (struct sockaddr *)&ss, timeout_ms, on_name, r));
}

static unsigned
inflight(const char *addr)
{
	struct sockaddr_storage ss;

	sa_parse(&ss, addr, 0);
	return lookup_name_inflight((struct sockaddr *)&ss);
}

static void
assert_skipped(const struct name_result *r)
{
	assert_int_equal(r->calls, 1);
	assert_int_equal(r->status, LOOKUP_SKIPPED);
	assert_string_equal(r->name, ACL_UNKNOWN);
}

/* ---- the tests */

/*
 * The caps for every pool size libuv accepts: below its slow-I/O share
 * (no look-up ever waits in libuv's queue), and one network's share below
 * the ceiling (a stuck network always leaves room for the others) as soon
 * as the pool has 5 threads.
 */
static void
test_caps_follow_pool(void **state)
{
	struct lookup_name_caps c;
	unsigned pool;

	(void)state;
	for (pool = 0; pool <= LOOKUP_THREADPOOL_MAX + 1; pool++) {
		unsigned p = pool == 0             ? 1
		    : pool > LOOKUP_THREADPOOL_MAX ? LOOKUP_THREADPOOL_MAX
		                                   : pool;

		lookup_name_caps_for(pool, &c);
		assert_int_equal(c.pool, p);
		assert_int_equal(c.slow_io, (p + 1) / 2);
		assert_in_range(c.ceiling, 1, c.slow_io);
		assert_in_range(c.ceiling, 1, LOOKUP_CEILING_MAX);
		if (c.slow_io >= 3)
			assert_true(c.ceiling < c.slow_io);
		assert_in_range(c.per_network, 1, c.ceiling);
		if (p >= 5)
			assert_true(c.per_network < c.ceiling);
		if (c.ceiling >= 4)
			assert_true(4 * c.per_network <= c.ceiling);
	}
	lookup_name_caps_for(LOOKUP_THREADPOOL_SIZE, &c);
	assert_int_equal(c.slow_io, 32);
	assert_int_equal(c.ceiling, 31);
	assert_int_equal(c.per_network, 7);
	/* In effect: those of the size lookup_name_init_threadpool() returned. */
	lookup_name_caps(&c);
	assert_memory_equal(&c, &caps, sizeof(c));
}

/*
 * The scenario of the issue: three networks flooded with more look-ups
 * each than libuv's slow-I/O share, two whose reverse zone never answers
 * (IPv4 and IPv6) and one stuck in the forward stage.  Each network gets
 * its cap of look-ups, stuck at the server; every other one answers
 * "unknown", LOOKUP_SKIPPED, at once.  Look-ups for other networks, started
 * after the flood, get their real answers within their own deadline.  Once
 * the stuck queries are answered, nothing is counted any more.
 */
enum {
	FLOODED = 3
};

static const struct {
	const char *fmt;    /* address of look-up i */
	const char *suffix; /* its query at the fake server */
	const char *after;  /* its answer once released */
} flooded[FLOODED] = {
    {"127.0.1.%u", ".1.0.127.in-addr.arpa", ACL_UNKNOWN},
    {"127.0.2.%u", ".stuckfwd.test", ACL_PARANOID},
    {"fd00:dead:beef::%x", ".f.e.e.b.d.a.e.d.0.0.d.f.ip6.arpa", ACL_UNKNOWN},
};

static const struct {
	const char *addr;
	const char *want;
} others[] = {
    {"127.0.0.2", "good.test"},     /* hosts file */
    {"127.0.0.16", "dnsgood.test"}, /* fake DNS, reverse and forward */
    {"127.0.0.3", ACL_PARANOID},    /* fake DNS, a name that lies */
    {"fd00::2", "six.test"},        /* hosts file, IPv6 */
    {"127.0.0.14", ACL_UNKNOWN},    /* fake DNS, NXDOMAIN: an answer */
};
#define NOTHERS (sizeof(others) / sizeof(others[0]))

static void
flood_addr(char *buf, size_t size, size_t net, unsigned i)
{
	snprintf(buf, size, flooded[net].fmt, i + 1);
}

static void
test_dead_network_isolated(void **state)
{
	const unsigned n = caps.slow_io + 8, cap = caps.per_network;
	struct name_result *flood[FLOODED], late[FLOODED], other[NOTHERS];
	int first_other = 0;
	static uv_loop_t loop; /* outlives a failed assertion */
	char addr[64];
	size_t net, i;

	(void)state;
	if (FLOODED * cap + NOTHERS > caps.ceiling || cap < NOTHERS)
		skip(); /* a pool too small for this scenario */
	assert_int_equal(lookup_name_inflight(NULL), 0);
	assert_int_equal(uv_loop_init(&loop), 0);
	answer_count = 0;

	/* The flood: n look-ups per network, held at the server. */
	for (net = 0; net < FLOODED; net++) {
		assert_non_null(flood[net] = calloc(n, sizeof(*flood[net])));
		for (i = 0; i < n; i++) {
			flood_addr(addr, sizeof(addr), net, (unsigned)i);
			start(&loop, addr, STUCK_DEADLINE_MS, &flood[net][i]);
			/* Never answered from inside the start call. */
			assert_int_equal(flood[net][i].calls, 0);
		}
		flood_addr(addr, sizeof(addr), net, 200);
		assert_int_equal(inflight(addr), cap);
	}
	assert_int_equal(lookup_name_inflight(NULL), FLOODED * cap);

	/*
	 * Really stuck at the server, 127.0.2.0/24 in its forward stage
	 * (its reverse look-ups answered at once).
	 */
	for (net = 0; net < FLOODED; net++)
		run_until_held(&loop, flooded[net].suffix, cap);
	assert_int_equal(lookup_name_inflight(NULL), FLOODED * cap);

	/*
	 * One more per flooded network, now: still at its cap, the forward
	 * stage counted as the reverse one was.  Then the other networks.
	 */
	for (net = 0; net < FLOODED; net++) {
		flood_addr(addr, sizeof(addr), net, n);
		start(&loop, addr, STUCK_DEADLINE_MS, &late[net]);
	}
	for (i = 0; i < NOTHERS; i++)
		start(&loop, others[i].addr, GOOD_DEADLINE_MS, &other[i]);
	run_until_answered(&loop, other, NOTHERS);

	for (i = 0; i < NOTHERS; i++) {
		printf("%-12s %-14s status %d\n", others[i].addr, other[i].name,
		    other[i].status);
		assert_int_equal(other[i].calls, 1);
		assert_int_equal(other[i].status, LOOKUP_ANSWERED);
		assert_string_equal(other[i].name, others[i].want);
		if (first_other == 0 || other[i].order < first_other)
			first_other = other[i].order;
	}
	for (net = 0; net < FLOODED; net++) {
		/* The first `cap` were made and are still held... */
		for (i = 0; i < cap; i++)
			assert_int_equal(flood[net][i].calls, 0);
		/*
		 * ... the others answered at once: from the loop's first
		 * turn, before any resolver answer could arrive.
		 */
		for (i = cap; i < n; i++) {
			assert_skipped(&flood[net][i]);
			assert_true(flood[net][i].order < first_other);
		}
		assert_skipped(&late[net]);
		assert_true(late[net].order < first_other);
		flood_addr(addr, sizeof(addr), net, 0);
		assert_int_equal(inflight(addr), cap);
	}
	assert_int_equal(lookup_name_inflight(NULL), FLOODED * cap);

	/* The server answers the dead zones: every thread comes back. */
	dead_zones_release(true);
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	for (net = 0; net < FLOODED; net++) {
		for (i = 0; i < cap; i++) {
			assert_int_equal(flood[net][i].calls, 1);
			assert_int_equal(flood[net][i].status, LOOKUP_ANSWERED);
			assert_string_equal(
			    flood[net][i].name, flooded[net].after);
		}
		free(flood[net]);
	}
	assert_int_equal(lookup_name_inflight(NULL), 0);
	dead_zones_release(false);
	assert_int_equal(uv_loop_close(&loop), 0);
}

/*
 * Many dead networks at once fill the process-wide ceiling, never more:
 * then every look-up, of any network, is skipped at once (fail closed,
 * never queued).  A look-up abandoned at its deadline still counts until
 * its resolver thread is free.
 */
static void
test_ceiling_and_abandoned(void **state)
{
	const unsigned nets = caps.ceiling / caps.per_network + 2;
	const unsigned per = caps.per_network + 1, n = nets * per;
	unsigned made = 0, i;
	struct name_result *rs, good;
	static uv_loop_t loop; /* outlives a failed assertion */
	char addr[64];

	(void)state;
	assert_true(nets <= 256); /* all in 127.1.0.0/16 */
	assert_int_equal(lookup_name_inflight(NULL), 0);
	assert_non_null(rs = calloc(n, sizeof(*rs)));
	assert_int_equal(uv_loop_init(&loop), 0);
	answer_count = 0;
	for (i = 0; i < n; i++) {
		snprintf(
		    addr, sizeof(addr), "127.1.%u.%u", i / per, i % per + 1);
		start(&loop, addr, 300, &rs[i]);
		assert_in_range(inflight(addr), 0, caps.per_network);
	}
	assert_int_equal(lookup_name_inflight(NULL), caps.ceiling);
	/* A network with nothing in flight: skipped too, at the ceiling. */
	start(&loop, "127.0.0.2", GOOD_DEADLINE_MS, &good);
	run_until_answered(&loop, rs, n);
	run_until_answered(&loop, &good, 1);
	assert_skipped(&good);
	for (i = 0; i < n; i++) {
		assert_int_equal(rs[i].calls, 1);
		assert_string_equal(rs[i].name, ACL_UNKNOWN);
		if (rs[i].status == LOOKUP_TIMED_OUT)
			made++;
		else
			assert_int_equal(rs[i].status, LOOKUP_SKIPPED);
	}
	assert_int_equal(made, caps.ceiling);

	/*
	 * All abandoned at the deadline, but their threads still wait on the
	 * server: still counted, so a new look-up is still not made.
	 */
	run_until_held(&loop, ".1.127.in-addr.arpa", caps.ceiling);
	assert_int_equal(lookup_name_inflight(NULL), caps.ceiling);
	start(&loop, "127.0.0.2", GOOD_DEADLINE_MS, &good);
	run_until_answered(&loop, &good, 1);
	assert_skipped(&good);

	/* Released: the threads come back, and look-ups are made again. */
	dead_zones_release(true);
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(lookup_name_inflight(NULL), 0);
	start(&loop, "127.0.0.2", GOOD_DEADLINE_MS, &good);
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(good.status, LOOKUP_ANSWERED);
	assert_string_equal(good.name, "good.test");
	dead_zones_release(false);
	assert_int_equal(uv_loop_close(&loop), 0);
	free(rs);
}

/*
 * What a network is: an IPv4 /24 (an IPv4-mapped address counts as its
 * IPv4 address) and an IPv6 /48.
 */
static void
test_network_granularity(void **state)
{
	const unsigned cap = caps.per_network;
	struct name_result *v4, *v6, over4, over6, next6;
	static uv_loop_t loop; /* outlives a failed assertion */
	char addr[64];
	unsigned i;

	(void)state;
	assert_int_equal(lookup_name_inflight(NULL), 0);
	assert_non_null(v4 = calloc(cap, sizeof(*v4)));
	assert_non_null(v6 = calloc(cap, sizeof(*v6)));
	assert_int_equal(uv_loop_init(&loop), 0);
	for (i = 0; i < cap; i++) {
		snprintf(addr, sizeof(addr), "::ffff:127.0.1.%u", 10 + i);
		start(&loop, addr, STUCK_DEADLINE_MS, &v4[i]);
		snprintf(addr, sizeof(addr), "fd00:dead:beef:%x::%x", i, i);
		start(&loop, addr, STUCK_DEADLINE_MS, &v6[i]);
	}
	assert_int_equal(inflight("127.0.1.255"), cap);
	assert_int_equal(inflight("::ffff:127.0.1.0"), cap);
	assert_int_equal(inflight("127.0.0.1"), 0);
	assert_int_equal(inflight("127.0.3.1"), 0);
	assert_int_equal(inflight("fd00:dead:beef:ffff:ffff::1"), cap);
	assert_int_equal(inflight("fd00:dead:bee0::1"), 0);
	assert_int_equal(inflight("fd00:dead::1"), 0);
	{
		struct sockaddr un = {.sa_family = AF_UNIX};

		assert_int_equal(lookup_name_inflight(&un), 0);
	}
	/* Over the cap of its network, and one in the next /48: made. */
	start(&loop, "127.0.1.99", STUCK_DEADLINE_MS, &over4);
	start(&loop, "fd00:dead:beef:ff::1", STUCK_DEADLINE_MS, &over6);
	start(&loop, "fd00:dead:bef0::1", STUCK_DEADLINE_MS, &next6);
	assert_int_equal(inflight("fd00:dead:bef0::2"), 1);
	run_until_answered(&loop, &over4, 1);
	run_until_answered(&loop, &over6, 1);
	assert_skipped(&over4);
	assert_skipped(&over6);
	assert_int_equal(next6.calls, 0);
	assert_int_equal(lookup_name_inflight(NULL), 2 * cap + 1);

	dead_zones_release(true);
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(next6.status, LOOKUP_ANSWERED);
	assert_int_equal(lookup_name_inflight(NULL), 0);
	dead_zones_release(false);
	assert_int_equal(uv_loop_close(&loop), 0);
	free(v4);
	free(v6);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_caps_follow_pool),
	    cmocka_unit_test(test_dead_network_isolated),
	    cmocka_unit_test(test_ceiling_and_abandoned),
	    cmocka_unit_test(test_network_granularity),
	};
	unsigned pool;

	/* As the proxy's main does, before anything touches the pool. */
	pool = lookup_name_init_threadpool(0);
	lookup_name_caps(&caps);
	printf("threadpool %u: slow I/O %u, ceiling %u, per network %u\n", pool,
	    caps.slow_io, caps.ceiling, caps.per_network);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
