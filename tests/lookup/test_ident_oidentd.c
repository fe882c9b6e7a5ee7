/*
 * test_ident_oidentd.c - the ident client against a real oidentd.
 *
 * Run by run_ident_oidentd.sh inside a private network namespace where
 * oidentd listens on 127.0.0.1:113 and ::1:113, so the look-up uses the
 * real port 113 and no test hook.  The "proxy" listens on 127.0.0.2 (and
 * ::1 / a dual-stack socket); clients connect from 127.0.0.1, some as user
 * nobody (a forked child that drops to uid 65534 before creating its
 * socket, which is what oidentd reports).  oidentd finds the connection by
 * (client address:port, querier address:port), so a query sent from the
 * wrong local address gets ERROR : NO-USER: the bind is tested for real.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <grp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <uv.h>

#include "acl.h"
#include "lookup.h"
#include "lookup_test.h"

struct result {
	int calls;
	enum lookup_status status;
	char user[ACL_STRING_MAX];
};

static void
on_ident(void *arg, const char *user, enum lookup_status status)
{
	struct result *r = arg;

	r->calls++;
	r->status = status;
	snprintf(r->user, sizeof(r->user), "%s", user);
}

/* A connection as the proxy would have accepted it. */
struct conn {
	int lfd, afd;
	pid_t child; /* holds the client end, as uid `uid` */
	int hold[2]; /* closing hold[1] lets the child exit */
	struct sockaddr_storage local, client;
};

/*
 * Listen on laddr (dual-stack when it is "::"), and connect to it from
 * caddr as uid; the child keeps its socket open until conn_close().
 */
static void
conn_open(struct conn *c, const char *laddr, const char *caddr, uid_t uid)
{
	struct sockaddr_storage ls, cs;
	socklen_t len;
	int ready[2], off = 0;
	char b;

	sa_parse(&ls, laddr, 0);
	c->lfd = socket(ls.ss_family, SOCK_STREAM, 0);
	assert_true(c->lfd >= 0);
	if (ls.ss_family == AF_INET6)
		setsockopt(
		    c->lfd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
	assert_int_equal(bind(c->lfd, (struct sockaddr *)&ls, sa_len(&ls)), 0);
	assert_int_equal(listen(c->lfd, 4), 0);
	len = sizeof(ls);
	assert_int_equal(getsockname(c->lfd, (struct sockaddr *)&ls, &len), 0);
	/* The dual-stack listener is reached over IPv4 (mapped peers). */
	sa_parse(&cs, strcmp(laddr, "::") == 0 ? "127.0.0.2" : laddr,
	    ntohs(((struct sockaddr_in *)&ls)->sin_port));

	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(c->hold), 0);
	c->child = fork();
	assert_true(c->child >= 0);
	if (c->child == 0) {
		struct sockaddr_storage src;
		int fd;

		close(ready[0]);
		close(c->hold[1]);
		/* Drop privileges first: the socket's owner is what counts. */
		if (uid != 0 &&
		    (setgroups(0, NULL) != 0 || setgid((gid_t)uid) != 0 ||
		        setuid(uid) != 0))
			_exit(2);
		sa_parse(&src, caddr, 0);
		fd = socket(src.ss_family, SOCK_STREAM, 0);
		if (fd < 0 ||
		    bind(fd, (struct sockaddr *)&src, sa_len(&src)) != 0 ||
		    connect(fd, (struct sockaddr *)&cs, sa_len(&cs)) != 0)
			_exit(3);
		if (write(ready[1], "r", 1) != 1)
			_exit(4);
		/* Hold the connection until the parent is done. */
		while (read(c->hold[0], &b, 1) > 0)
			continue;
		_exit(0);
	}
	close(ready[1]);
	close(c->hold[0]);
	assert_int_equal(read(ready[0], &b, 1), 1);
	close(ready[0]);
	c->afd = accept(c->lfd, NULL, NULL);
	assert_true(c->afd >= 0);
	len = sizeof(c->local);
	assert_int_equal(
	    getsockname(c->afd, (struct sockaddr *)&c->local, &len), 0);
	len = sizeof(c->client);
	assert_int_equal(
	    getpeername(c->afd, (struct sockaddr *)&c->client, &len), 0);
}

static void
conn_close(struct conn *c)
{
	int status;

	close(c->hold[1]);
	assert_int_equal(waitpid(c->child, &status, 0), c->child);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(c->afd);
	close(c->lfd);
}

static void
ask(const struct sockaddr_storage *local, const struct sockaddr_storage *client,
    struct result *r)
{
	uv_loop_t loop;

	assert_int_equal(uv_loop_init(&loop), 0);
	memset(r, 0, sizeof(*r));
	assert_non_null(
	    lookup_ident_start(&loop, (const struct sockaddr *)local,
	        (const struct sockaddr *)client, 10000, on_ident, r));
	assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(r->calls, 1);
	assert_int_equal(uv_loop_close(&loop), 0);
}

static void
check_user(const char *laddr, const char *caddr, uid_t uid, const char *want)
{
	struct conn c;
	struct result r;

	conn_open(&c, laddr, caddr, uid);
	ask(&c.local, &c.client, &r);
	if (strcmp(r.user, want) != 0)
		fail_msg("%s <- %s as %u: got \"%s\", want \"%s\"", laddr,
		    caddr, (unsigned)uid, r.user, want);
	conn_close(&c);
}

static void
test_ipv4(void **state)
{
	(void)state;
	check_user("127.0.0.2", "127.0.0.1", 65534, "nobody");
	check_user("127.0.0.2", "127.0.0.1", 0, "root");
}

static void
test_ipv6(void **state)
{
	(void)state;
	check_user("::1", "::1", 65534, "nobody");
}

/* A dual-stack listener sees ::ffff:127.0.0.1; the query goes over IPv4. */
static void
test_mapped(void **state)
{
	struct conn c;
	struct result r;

	(void)state;
	conn_open(&c, "::", "127.0.0.1", 65534);
	assert_int_equal(c.client.ss_family, AF_INET6);
	ask(&c.local, &c.client, &r);
	assert_string_equal(r.user, "nobody");
	conn_close(&c);
}

/*
 * Facts oidentd cannot vouch for are "unknown": a port pair with no
 * connection, and the right pair asked from the wrong local address.
 */
static void
test_no_such_connection(void **state)
{
	struct conn c;
	struct result r;
	struct sockaddr_storage other;

	(void)state;
	conn_open(&c, "127.0.0.2", "127.0.0.1", 65534);
	/* Server port off by one. */
	other = c.local;
	((struct sockaddr_in *)&other)->sin_port = htons(
	    (uint16_t)(ntohs(((struct sockaddr_in *)&c.local)->sin_port) + 1));
	ask(&other, &c.client, &r);
	assert_string_equal(r.user, ACL_UNKNOWN);
	/* Right ports, but asked from 127.0.0.3. */
	other = c.local;
	inet_pton(
	    AF_INET, "127.0.0.3", &((struct sockaddr_in *)&other)->sin_addr);
	ask(&other, &c.client, &r);
	assert_string_equal(r.user, ACL_UNKNOWN);
	/* And the real question still works. */
	ask(&c.local, &c.client, &r);
	assert_string_equal(r.user, "nobody");
	conn_close(&c);
}

/* A client address with no ident server: connection refused → unknown. */
static void
test_no_server(void **state)
{
	struct conn c;
	struct result r;

	(void)state;
	conn_open(&c, "127.0.0.2", "127.0.0.5", 65534);
	ask(&c.local, &c.client, &r);
	assert_string_equal(r.user, ACL_UNKNOWN);
	conn_close(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ipv4),
	    cmocka_unit_test(test_ipv6),
	    cmocka_unit_test(test_mapped),
	    cmocka_unit_test(test_no_such_connection),
	    cmocka_unit_test(test_no_server),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
