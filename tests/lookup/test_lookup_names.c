/*
 * test_lookup_names.c - the asynchronous double-reverse look-up against a
 * test-controlled resolver, with real libwrap as the oracle.
 *
 * Run by run_lookup_names.sh inside a private network namespace whose
 * /etc/hosts and /etc/resolv.conf are the test's (ip netns exec bind-mounts the
 * files of /etc/netns/<ns>), and where fake_dns.py answers on 127.0.0.1:53.  For
 * every address the test asserts the expected name, and that libwrap's own
 * eval_hostname() on a real connection from that address agrees.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <tcpd.h>
#include <uv.h>

#include "acl.h"
#include "cli_resolve.h"
#include "lookup.h"
#include "lookup_test.h"

/* libwrap wants these defined by the program. */
int allow_severity = 6;
int deny_severity = 4;

#define LONG_NAME                                                              \
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."        \
	"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb."        \
	"cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc.long."   \
	"test"

struct name_case {
	const char *addr;
	const char *want;
	uint64_t timeout_ms;
};

static const struct name_case cases[] = {
    /* From the hosts file. */
    {"127.0.0.2", "good.test", 5000},
    {"::ffff:127.0.0.2", "good.test", 5000},     /* looked up as IPv4 */
    {"127.0.0.5", ACL_PARANOID, 5000},           /* forward: canon.test */
    {"127.0.0.4", ACL_PARANOID, 5000},           /* reverse name is numeric */
    {"127.0.0.7", "MiXeD.Test", 5000},           /* kept as the PTR says */
    {"127.0.0.11", "we$ird;`name`|.test", 5000}, /* bytes pass through */
    {"127.0.0.1", "localhost", 5000}, {"fd00::2", "six.test", 5000},
    /* From the fake DNS server. */
    {"127.0.0.3", ACL_PARANOID, 5000}, /* liar: A says 127.0.0.9 */
    /*
	 * A 192-byte name: cut to 127 bytes as libwrap cuts it, and the cut
	 * name does not confirm.
	 */
    {"127.0.0.12", ACL_PARANOID, 5000},
    {"127.0.0.13", ACL_UNKNOWN, 5000},    /* not a host name: glibc drops it */
    {"127.0.0.14", ACL_UNKNOWN, 5000},    /* NXDOMAIN */
    {"127.0.0.15", ACL_PARANOID, 5000},   /* forward NXDOMAIN */
    {"127.0.0.16", "dnsgood.test", 5000}, /* one of two A records */
    {"127.0.0.18", ACL_PARANOID, 5000},   /* canonical name differs */
    {"127.0.0.19", "UPPER.Test", 5000},   /* case-insensitive compare */
    /* Deadlines: the fake server never answers these. */
    {"127.0.0.21", ACL_UNKNOWN, 300},  /* reverse not done in time */
    {"127.0.0.20", ACL_PARANOID, 300}, /* forward not done in time */
};

static void
on_never(void *arg, const char *name, enum lookup_status status)
{
	(void)arg;
	(void)status;
	fail_msg("cancelled look-up called back with \"%s\"", name);
}

static void
ours(const struct sockaddr *sa, uint64_t timeout_ms, struct name_result *r)
{
	uv_loop_t loop;

	assert_int_equal(uv_loop_init(&loop), 0);
	memset(r, 0, sizeof(*r));
	assert_non_null(lookup_name_start(&loop, sa, timeout_ms, on_name, r));
	/* Runs until the threadpool work is done too, so ASan sees it freed. */
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(r->calls, 1);
	/* Every resolver request has called back: none counted any more. */
	assert_int_equal(lookup_name_inflight(NULL), 0);
	assert_int_equal(uv_loop_close(&loop), 0);
}

/*
 * libwrap's answer for a real TCP connection from `addr`: a listener on
 * the wildcard address of the family (dual-stack for "::ffff:" clients, so
 * the peer shows up IPv4-mapped, as it would for the proxy), and the
 * accepted socket's peer address for our own look-up too.
 */
static void
oracle(
    const char *addr, struct sockaddr_storage *peer, char *name, size_t namesz)
{
	struct sockaddr_storage ls, cs;
	struct request_info req;
	socklen_t len;
	int lfd, cfd, afd, off = 0;
	bool mapped = strncmp(addr, "::ffff:", 7) == 0;

	sa_parse(&ls, mapped || strchr(addr, ':') ? "::" : "0.0.0.0", 0);
	sa_parse(&cs, mapped ? addr + 7 : addr, 0);
	lfd = socket(ls.ss_family, SOCK_STREAM, 0);
	cfd = socket(cs.ss_family, SOCK_STREAM, 0);
	assert_true(lfd >= 0 && cfd >= 0);
	if (ls.ss_family == AF_INET6)
		setsockopt(lfd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
	assert_int_equal(bind(lfd, (struct sockaddr *)&ls, sa_len(&ls)), 0);
	assert_int_equal(listen(lfd, 1), 0);
	len = sizeof(ls);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&ls, &len), 0);
	assert_int_equal(bind(cfd, (struct sockaddr *)&cs, sa_len(&cs)), 0);
	/* Connect to the same address: it is local in the namespace. */
	{
		struct sockaddr_storage to = cs;

		((struct sockaddr_in *)&to)->sin_port =
		    ((struct sockaddr_in *)&ls)->sin_port;
		assert_int_equal(
		    connect(cfd, (struct sockaddr *)&to, sa_len(&to)), 0);
	}
	afd = accept(lfd, NULL, NULL);
	assert_true(afd >= 0);
	len = sizeof(*peer);
	assert_int_equal(getpeername(afd, (struct sockaddr *)peer, &len), 0);

	request_init(&req, RQ_DAEMON, "wrapd-test", RQ_FILE, afd, 0);
	fromhost(&req);
	snprintf(name, namesz, "%s", eval_hostname(req.client));
	close(afd);
	close(cfd);
	close(lfd);
}

static void
test_cases(void **state)
{
	size_t i;
	int bad = 0;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct name_case *c = &cases[i];
		struct sockaddr_storage peer;
		struct name_result r;
		char wrap[256], cli[ACL_STRING_MAX];

		oracle(c->addr, &peer, wrap, sizeof(wrap));
		if (strncmp(c->addr, "::ffff:", 7) == 0)
			assert_int_equal(peer.ss_family, AF_INET6);
		ours((struct sockaddr *)&peer, c->timeout_ms, &r);
		/* `wrapd match`'s blocking resolver must agree with both. */
		cli_resolve_name((struct sockaddr *)&peer, cli, sizeof(cli));
		printf("%-18s wrapd %-22s match %-22s libwrap %s\n", c->addr,
		    r.name, cli, wrap);
		if (strcmp(r.name, c->want) != 0) {
			printf("  FAIL: want %s\n", c->want);
			bad++;
		}
		if (strcmp(r.name, wrap) != 0) {
			printf("  FAIL: libwrap disagrees\n");
			bad++;
		}
		if (strcmp(cli, wrap) != 0) {
			printf("  FAIL: libwrap disagrees with cli_resolve\n");
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

/* Not an IP address: unknown, answered from the loop, not from start. */
static void
test_not_ip(void **state)
{
	uv_loop_t loop;
	struct name_result r;
	struct sockaddr un = {.sa_family = AF_UNIX};

	(void)state;
	assert_int_equal(uv_loop_init(&loop), 0);
	memset(&r, 0, sizeof(r));
	assert_non_null(lookup_name_start(&loop, &un, 1000, on_name, &r));
	assert_non_null(lookup_name_start(&loop, NULL, 1000, on_name, &r));
	assert_int_equal(r.calls, 0);
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(r.calls, 2);
	assert_string_equal(r.name, ACL_UNKNOWN);
	assert_int_equal(uv_loop_close(&loop), 0);
}

/*
 * Cancel at once, while the reverse look-up runs, and while the forward
 * look-up runs (the slow ones keep a threadpool thread busy well past the
 * cancel); the callback must never run and ASan must find nothing.
 */
static void
test_cancel(void **state)
{
	static const char *addrs[] = {
	    "127.0.0.2", "127.0.0.21", "127.0.0.20", "127.0.0.3"};
	struct lookup_name_caps caps;
	uv_loop_t loop;
	size_t i;

	(void)state;
	assert_int_equal(uv_loop_init(&loop), 0);
	for (i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		struct sockaddr_storage ss;
		struct lookup_name *l;

		sa_parse(&ss, addrs[i], 0);
		l = lookup_name_start(
		    &loop, (struct sockaddr *)&ss, 5000, on_never, NULL);
		assert_non_null(l);
		lookup_name_cancel(l);
	}
	/* Counted until their callbacks arrive, cancelled or not. */
	lookup_name_caps(&caps);
	assert_int_equal(lookup_name_inflight(NULL),
	    caps.per_network < 4 ? caps.per_network : 4);
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(lookup_name_inflight(NULL), 0);
	assert_int_equal(uv_loop_close(&loop), 0);
}

/* Cancel from inside another look-up's callback, mid-forward. */
struct cancel_pair {
	struct lookup_name *victim;
	struct name_result r;
};

static void
on_cancel_other(void *arg, const char *name, enum lookup_status status)
{
	struct cancel_pair *p = arg;

	on_name(&p->r, name, status);
	lookup_name_cancel(p->victim);
}

static void
test_cancel_in_callback(void **state)
{
	uv_loop_t loop;
	struct sockaddr_storage fast, slow;
	struct cancel_pair p;

	(void)state;
	assert_int_equal(uv_loop_init(&loop), 0);
	memset(&p, 0, sizeof(p));
	sa_parse(&fast, "127.0.0.2", 0);
	sa_parse(&slow, "127.0.0.20", 0);
	p.victim = lookup_name_start(
	    &loop, (struct sockaddr *)&slow, 5000, on_never, NULL);
	assert_non_null(lookup_name_start(
	    &loop, (struct sockaddr *)&fast, 5000, on_cancel_other, &p));
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(p.r.calls, 1);
	assert_string_equal(p.r.name, "good.test");
	assert_int_equal(lookup_name_inflight(NULL), 0);
	assert_int_equal(uv_loop_close(&loop), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cases),
	    cmocka_unit_test(test_not_ip),
	    cmocka_unit_test(test_cancel),
	    cmocka_unit_test(test_cancel_in_callback),
	};

	/* As the proxy's main does, before anything touches the pool. */
	printf("threadpool size %u\n", lookup_name_init_threadpool(0));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
