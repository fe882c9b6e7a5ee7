/*
 * test_ident_net.c - the ident client against a hostile fake ident server on
 * loopback: real TCP, real libuv, one server per case doing one bad (or
 * good) thing.  No root needed.
 *
 * The "proxy" connection is 127.0.0.3:x -> 127.0.0.2:y, so the client
 * address is 127.0.0.3 (where the fake ident server listens) and the
 * ident query must come from 127.0.0.2: without the bind the kernel would
 * pick 127.0.0.1, so the source check below can fail.
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
#include <uv.h>

#include "acl.h"
#include "lookup.h"

enum fake_mode {
	FAKE_GOOD,       /* correct USERID reply */
	FAKE_ERROR,      /* ERROR : NO-USER */
	FAKE_WRONG_PORT, /* USERID for another port pair */
	FAKE_LONG_USER,  /* 300-byte user */
	FAKE_FLOOD,      /* 8 KiB without a newline, then stays open */
	FAKE_SILENT,     /* reads the query, never answers */
	FAKE_NO_LF_EOF,  /* a good reply without newline, then close */
	FAKE_DRIP,       /* a good reply, one byte per write */
	FAKE_RESET,      /* closes with RST at once */
	FAKE_NUL,        /* a NUL inside the user */
	FAKE_TRAILING,   /* good line, then 8 KiB more junk */
};

struct fake {
	uv_loop_t *loop;
	enum fake_mode mode;
	uv_tcp_t listener;
	uv_tcp_t conn;
	bool have_conn;
	uv_timer_t drip;
	char query[256];
	size_t qlen;
	char reply[16384];
	size_t rlen, rpos;
	struct sockaddr_storage peer; /* where the ident query came from */
	bool conn_closed;
	int closes; /* handles still to close */
};

struct result {
	int calls;
	enum lookup_status status;
	char user[ACL_STRING_MAX + 1];
};

static void
on_ident(void *arg, const char *user, enum lookup_status status)
{
	struct result *r = arg;

	r->calls++;
	r->status = status;
	assert_non_null(user);
	assert_true(strlen(user) < ACL_STRING_MAX);
	snprintf(r->user, sizeof(r->user), "%s", user);
}

static void
on_never(void *arg, const char *user, enum lookup_status status)
{
	(void)arg;
	(void)status;
	fail_msg("cancelled look-up called back with \"%s\"", user);
}

static void
fake_closed(uv_handle_t *h)
{
	struct fake *f = h->data;

	if (h == (uv_handle_t *)&f->conn)
		f->conn_closed = true;
	f->closes--;
}

static void
fake_send(struct fake *f, const char *p, size_t n)
{
	uv_buf_t b = uv_buf_init((char *)(uintptr_t)p, (unsigned)n);

	/* try_write: the replies fit the socket buffer; tests stay simple. */
	assert_int_equal(uv_try_write((uv_stream_t *)&f->conn, &b, 1), (int)n);
}

static void
fake_drip_cb(uv_timer_t *t)
{
	struct fake *f = t->data;

	if (f->conn_closed || uv_is_closing((uv_handle_t *)&f->conn) ||
	    f->rpos == f->rlen) {
		uv_timer_stop(t);
		return;
	}
	fake_send(f, f->reply + f->rpos, 1);
	f->rpos++;
}

/* The query arrived: answer as the mode says. */
static void
fake_answer(struct fake *f, unsigned cport, unsigned sport)
{
	char big[8192];

	switch (f->mode) {
	case FAKE_GOOD:
		f->rlen = (size_t)snprintf(f->reply, sizeof(f->reply),
		    "%u,%u:USERID:UNIX:fakeuser\r\n", cport, sport);
		break;
	case FAKE_ERROR:
		f->rlen = (size_t)snprintf(f->reply, sizeof(f->reply),
		    "%u , %u : ERROR : NO-USER\r\n", cport, sport);
		break;
	case FAKE_WRONG_PORT:
		f->rlen = (size_t)snprintf(f->reply, sizeof(f->reply),
		    "%u,%u:USERID:UNIX:root\r\n", cport, sport + 1);
		break;
	case FAKE_LONG_USER:
		memset(big, 'L', 300);
		big[300] = '\0';
		f->rlen = (size_t)snprintf(f->reply, sizeof(f->reply),
		    "%u,%u:USERID:UNIX:%s\r\n", cport, sport, big);
		break;
	case FAKE_FLOOD:
		memset(f->reply, 'A', 8192);
		f->rlen = 8192;
		break;
	case FAKE_SILENT:
		return;
	case FAKE_NO_LF_EOF:
		f->rlen = (size_t)snprintf(f->reply, sizeof(f->reply),
		    "%u,%u:USERID:UNIX:fakeuser", cport, sport);
		fake_send(f, f->reply, f->rlen);
		uv_close((uv_handle_t *)&f->conn, fake_closed);
		return;
	case FAKE_DRIP:
		f->rlen = (size_t)snprintf(f->reply, sizeof(f->reply),
		    "%u , %u : USERID : UNIX : dripper\r\n", cport, sport);
		uv_timer_start(&f->drip, fake_drip_cb, 1, 1);
		return;
	case FAKE_RESET:
		return; /* done at accept */
	case FAKE_NUL:
		f->rlen = (size_t)snprintf(f->reply, sizeof(f->reply),
		    "%u,%u:USERID:UNIX:ab", cport, sport);
		memcpy(f->reply + f->rlen, "\0cd\r\n", 5);
		f->rlen += 5;
		break;
	case FAKE_TRAILING:
		f->rlen = (size_t)snprintf(f->reply, sizeof(f->reply),
		    "%u,%u:USERID:UNIX:first\r\n", cport, sport);
		memset(f->reply + f->rlen, 'J', 8192);
		f->rlen += 8192;
		break;
	}
	/* The flood may not fit one write; send what goes, that is enough. */
	{
		uv_buf_t b = uv_buf_init(f->reply, (unsigned)f->rlen);

		assert_true(uv_try_write((uv_stream_t *)&f->conn, &b, 1) > 0);
	}
}

static void
fake_alloc(uv_handle_t *h, size_t sz, uv_buf_t *buf)
{
	struct fake *f = h->data;

	(void)sz;
	*buf = uv_buf_init(
	    f->query + f->qlen, (unsigned)(sizeof(f->query) - 1 - f->qlen));
}

static void
fake_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct fake *f = s->data;
	unsigned cport, sport;
	char tail[8];

	(void)buf;
	if (n < 0) {
		/* The client went away: close our side too. */
		if (!uv_is_closing((uv_handle_t *)s))
			uv_close((uv_handle_t *)s, fake_closed);
		return;
	}
	f->qlen += (size_t)n;
	f->query[f->qlen] = '\0';
	if (strchr(f->query, '\n') == NULL) {
		assert_true(f->qlen < sizeof(f->query) - 1);
		return;
	}
	/* Exactly "<client port> , <local port>\r\n" and nothing else. */
	assert_int_equal(
	    sscanf(f->query, "%u , %u%7s", &cport, &sport, tail), 2);
	{
		char want[64];

		snprintf(want, sizeof(want), "%u , %u\r\n", cport, sport);
		assert_string_equal(f->query, want);
	}
	fake_answer(f, cport, sport);
}

static void
fake_accept(uv_stream_t *srv, int status)
{
	struct fake *f = srv->data;
	int len = sizeof(f->peer);

	assert_int_equal(status, 0);
	assert_false(f->have_conn); /* one query per look-up */
	assert_int_equal(uv_tcp_init(f->loop, &f->conn), 0);
	f->conn.data = f;
	f->closes++;
	f->have_conn = true;
	assert_int_equal(uv_accept(srv, (uv_stream_t *)&f->conn), 0);
	assert_int_equal(
	    uv_tcp_getpeername(&f->conn, (struct sockaddr *)&f->peer, &len), 0);
	if (f->mode == FAKE_RESET) {
		uv_tcp_close_reset(&f->conn, fake_closed);
		return;
	}
	assert_int_equal(
	    uv_read_start((uv_stream_t *)&f->conn, fake_alloc, fake_read), 0);
}

/* Listen on 127.0.0.3:0; returns the port. */
static unsigned
fake_start(struct fake *f, uv_loop_t *loop, enum fake_mode mode)
{
	struct sockaddr_in sin;
	struct sockaddr_storage ss;
	int len = sizeof(ss);

	memset(f, 0, sizeof(*f));
	f->loop = loop;
	f->mode = mode;
	assert_int_equal(uv_tcp_init(loop, &f->listener), 0);
	f->listener.data = f;
	assert_int_equal(uv_timer_init(loop, &f->drip), 0);
	f->drip.data = f;
	f->closes = 2;
	assert_int_equal(uv_ip4_addr("127.0.0.3", 0, &sin), 0);
	assert_int_equal(
	    uv_tcp_bind(&f->listener, (struct sockaddr *)&sin, 0), 0);
	assert_int_equal(
	    uv_listen((uv_stream_t *)&f->listener, 8, fake_accept), 0);
	assert_int_equal(
	    uv_tcp_getsockname(&f->listener, (struct sockaddr *)&ss, &len), 0);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

static void
fake_stop(struct fake *f)
{
	uv_close((uv_handle_t *)&f->listener, fake_closed);
	uv_close((uv_handle_t *)&f->drip, fake_closed);
	if (f->have_conn && !uv_is_closing((uv_handle_t *)&f->conn))
		uv_close((uv_handle_t *)&f->conn, fake_closed);
	while (f->closes > 0)
		uv_run(f->loop, UV_RUN_ONCE);
}

/*
 * The connection the proxy would have accepted: 127.0.0.3:x ->
 * 127.0.0.2:y, made with plain blocking sockets (loopback, instant).
 */
struct pair {
	int lfd, cfd, afd;
	struct sockaddr_storage local, client;
};

static void
pair_open(struct pair *p)
{
	struct sockaddr_in sin;
	socklen_t len;

	p->lfd = socket(AF_INET, SOCK_STREAM, 0);
	p->cfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(p->lfd >= 0 && p->cfd >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	inet_pton(AF_INET, "127.0.0.2", &sin.sin_addr);
	assert_int_equal(bind(p->lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(p->lfd, 1), 0);
	len = sizeof(sin);
	assert_int_equal(getsockname(p->lfd, (struct sockaddr *)&sin, &len), 0);
	{
		struct sockaddr_in src;

		memset(&src, 0, sizeof(src));
		src.sin_family = AF_INET;
		inet_pton(AF_INET, "127.0.0.3", &src.sin_addr);
		assert_int_equal(
		    bind(p->cfd, (struct sockaddr *)&src, sizeof(src)), 0);
	}
	assert_int_equal(
	    connect(p->cfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	p->afd = accept(p->lfd, NULL, NULL);
	assert_true(p->afd >= 0);
	len = sizeof(p->local);
	assert_int_equal(
	    getsockname(p->afd, (struct sockaddr *)&p->local, &len), 0);
	len = sizeof(p->client);
	assert_int_equal(
	    getpeername(p->afd, (struct sockaddr *)&p->client, &len), 0);
}

static void
pair_close(struct pair *p)
{
	close(p->afd);
	close(p->cfd);
	close(p->lfd);
}

/* Run one look-up against a fake server in `mode`; returns the user. */
static void
run_case(enum fake_mode mode, uint64_t timeout_ms, struct result *r)
{
	uv_loop_t loop;
	struct fake f;
	struct pair p;
	unsigned port;
	char peer[64];

	assert_int_equal(uv_loop_init(&loop), 0);
	pair_open(&p);
	port = fake_start(&f, &loop, mode);
	memset(r, 0, sizeof(*r));
	assert_non_null(
	    lookup_ident_start_port(&loop, (struct sockaddr *)&p.local,
	        (struct sockaddr *)&p.client, port, timeout_ms, on_ident, r));
	while (r->calls == 0)
		uv_run(&loop, UV_RUN_ONCE);
	/* The query came from the address the client connected to. */
	if (f.have_conn) {
		uv_ip4_name((struct sockaddr_in *)&f.peer, peer, sizeof(peer));
		assert_string_equal(peer, "127.0.0.2");
	}
	fake_stop(&f);
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(r->calls, 1);
	assert_int_equal(uv_loop_close(&loop), 0);
	pair_close(&p);
}

static void
test_good(void **state)
{
	struct result r;

	(void)state;
	run_case(FAKE_GOOD, 10000, &r);
	assert_string_equal(r.user, "fakeuser");
}

static void
test_drip(void **state)
{
	struct result r;

	(void)state;
	run_case(FAKE_DRIP, 10000, &r);
	assert_string_equal(r.user, "dripper");
}

static void
test_trailing(void **state)
{
	struct result r;

	(void)state;
	run_case(FAKE_TRAILING, 10000, &r);
	assert_string_equal(r.user, "first");
}

static void
test_long_user(void **state)
{
	struct result r;
	char want[ACL_STRING_MAX];

	(void)state;
	run_case(FAKE_LONG_USER, 10000, &r);
	memset(want, 'L', sizeof(want) - 1);
	want[sizeof(want) - 1] = '\0';
	assert_string_equal(r.user, want);
}

static void
test_nul(void **state)
{
	struct result r;

	(void)state;
	run_case(FAKE_NUL, 10000, &r);
	assert_string_equal(r.user, "ab");
}

/* Every failure gives "unknown". */
static void
test_unknown(void **state)
{
	static const enum fake_mode bad[] = {FAKE_ERROR, FAKE_WRONG_PORT,
	    FAKE_FLOOD, FAKE_NO_LF_EOF, FAKE_RESET};
	struct result r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		run_case(bad[i], 10000, &r);
		if (strcmp(r.user, ACL_UNKNOWN) != 0)
			fail_msg("mode %d gave \"%s\"", (int)bad[i], r.user);
	}
}

/* A server that never answers: the deadline answers "unknown". */
static void
test_silent_deadline(void **state)
{
	struct result r;

	(void)state;
	run_case(FAKE_SILENT, 200, &r);
	assert_string_equal(r.user, ACL_UNKNOWN);
	/* Not an answer: the proxy must not grant on it. */
	assert_int_equal(r.status, LOOKUP_TIMED_OUT);
}

/* Nothing listening: connection refused. */
static void
test_refused(void **state)
{
	uv_loop_t loop;
	struct pair p;
	struct result r;
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int hold;

	(void)state;
	/* A bound, non-listening socket keeps the port ours and refusing. */
	hold = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	inet_pton(AF_INET, "127.0.0.3", &sin.sin_addr);
	assert_int_equal(bind(hold, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(hold, (struct sockaddr *)&sin, &len), 0);

	assert_int_equal(uv_loop_init(&loop), 0);
	pair_open(&p);
	memset(&r, 0, sizeof(r));
	assert_non_null(lookup_ident_start_port(&loop,
	    (struct sockaddr *)&p.local, (struct sockaddr *)&p.client,
	    ntohs(sin.sin_port), 10000, on_ident, &r));
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(r.calls, 1);
	assert_string_equal(r.user, ACL_UNKNOWN);
	/* A refusal is an answer, as libwrap takes it. */
	assert_int_equal(r.status, LOOKUP_ANSWERED);
	assert_int_equal(uv_loop_close(&loop), 0);
	pair_close(&p);
	close(hold);
}

/* Unusable addresses answer "unknown" from the loop, not from start. */
static void
test_bad_addresses(void **state)
{
	uv_loop_t loop;
	struct result r;
	struct sockaddr_in v4;
	struct sockaddr_in6 v6;
	struct sockaddr un = {.sa_family = AF_UNIX};

	(void)state;
	uv_ip4_addr("127.0.0.2", 1234, &v4);
	uv_ip6_addr("::1", 1234, &v6);
	assert_int_equal(uv_loop_init(&loop), 0);
	memset(&r, 0, sizeof(r));
	/* Mixed families. */
	assert_non_null(lookup_ident_start(&loop, (struct sockaddr *)&v4,
	    (struct sockaddr *)&v6, 1000, on_ident, &r));
	assert_int_equal(r.calls, 0);
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(r.calls, 1);
	assert_string_equal(r.user, ACL_UNKNOWN);
	/* Not IP. */
	assert_non_null(
	    lookup_ident_start(&loop, &un, &un, 1000, on_ident, &r));
	assert_non_null(
	    lookup_ident_start(&loop, NULL, NULL, 1000, on_ident, &r));
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(r.calls, 3);
	assert_string_equal(r.user, ACL_UNKNOWN);
	assert_int_equal(uv_loop_close(&loop), 0);
}

/* IPv4-mapped addresses (a dual-stack listener) are asked over IPv4. */
static void
test_mapped(void **state)
{
	uv_loop_t loop;
	struct fake f;
	struct pair p;
	struct result r;
	struct sockaddr_in6 ml, mc;
	const struct sockaddr_in *l4, *c4;
	unsigned port;

	(void)state;
	assert_int_equal(uv_loop_init(&loop), 0);
	pair_open(&p);
	l4 = (const struct sockaddr_in *)&p.local;
	c4 = (const struct sockaddr_in *)&p.client;
	memset(&ml, 0, sizeof(ml));
	ml.sin6_family = AF_INET6;
	ml.sin6_port = l4->sin_port;
	ml.sin6_addr.s6_addr[10] = ml.sin6_addr.s6_addr[11] = 0xff;
	mc = ml;
	mc.sin6_port = c4->sin_port;
	memcpy(&ml.sin6_addr.s6_addr[12], &l4->sin_addr, 4);
	memcpy(&mc.sin6_addr.s6_addr[12], &c4->sin_addr, 4);
	port = fake_start(&f, &loop, FAKE_GOOD);
	memset(&r, 0, sizeof(r));
	assert_non_null(lookup_ident_start_port(&loop, (struct sockaddr *)&ml,
	    (struct sockaddr *)&mc, port, 10000, on_ident, &r));
	while (r.calls == 0)
		uv_run(&loop, UV_RUN_ONCE);
	assert_string_equal(r.user, "fakeuser");
	fake_stop(&f);
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(uv_loop_close(&loop), 0);
	pair_close(&p);
}

/*
 * Cancel at each stage: right after start, once the server has the
 * connection, once it has the query.  The callback must never run, the
 * server must see the connection closed, and ASan checks the memory.
 */
static void
test_cancel(void **state)
{
	int stage;

	(void)state;
	for (stage = 0; stage < 3; stage++) {
		uv_loop_t loop;
		struct fake f;
		struct pair p;
		struct lookup_ident *l;
		unsigned port;

		assert_int_equal(uv_loop_init(&loop), 0);
		pair_open(&p);
		port = fake_start(&f, &loop, FAKE_SILENT);
		l = lookup_ident_start_port(&loop, (struct sockaddr *)&p.local,
		    (struct sockaddr *)&p.client, port, 10000, on_never, NULL);
		assert_non_null(l);
		if (stage >= 1)
			while (!f.have_conn)
				uv_run(&loop, UV_RUN_ONCE);
		if (stage >= 2)
			while (strchr(f.query, '\n') == NULL)
				uv_run(&loop, UV_RUN_ONCE);
		lookup_ident_cancel(l);
		if (stage >= 1)
			while (!f.conn_closed)
				uv_run(&loop, UV_RUN_ONCE);
		fake_stop(&f);
		assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
		assert_int_equal(uv_loop_close(&loop), 0);
		pair_close(&p);
	}
}

/* Many at once against one silent server: each answers exactly once. */
static void
test_many(void **state)
{
	enum {
		N = 50
	};
	uv_loop_t loop;
	struct pair p;
	struct result r[N];
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int hold, i;

	(void)state;
	/*
	 * Listening, never accepting, backlog 1: the first connects succeed
	 * and never get a reply, the rest never complete their handshake
	 * (Linux drops the SYN), so the deadline hits both stages.
	 */
	hold = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	inet_pton(AF_INET, "127.0.0.3", &sin.sin_addr);
	assert_int_equal(bind(hold, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(hold, 1), 0);
	assert_int_equal(getsockname(hold, (struct sockaddr *)&sin, &len), 0);
	assert_int_equal(uv_loop_init(&loop), 0);
	pair_open(&p);
	memset(r, 0, sizeof(r));
	for (i = 0; i < N; i++)
		assert_non_null(lookup_ident_start_port(&loop,
		    (struct sockaddr *)&p.local, (struct sockaddr *)&p.client,
		    ntohs(sin.sin_port), 100, on_ident, &r[i]));
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	for (i = 0; i < N; i++) {
		assert_int_equal(r[i].calls, 1);
		assert_string_equal(r[i].user, ACL_UNKNOWN);
		assert_int_equal(r[i].status, LOOKUP_TIMED_OUT);
	}
	assert_int_equal(uv_loop_close(&loop), 0);
	pair_close(&p);
	close(hold);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good),
	    cmocka_unit_test(test_drip),
	    cmocka_unit_test(test_trailing),
	    cmocka_unit_test(test_long_user),
	    cmocka_unit_test(test_nul),
	    cmocka_unit_test(test_unknown),
	    cmocka_unit_test(test_silent_deadline),
	    cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_bad_addresses),
	    cmocka_unit_test(test_mapped),
	    cmocka_unit_test(test_cancel),
	    cmocka_unit_test(test_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
