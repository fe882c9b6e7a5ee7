/*
 * test_action_finger.c - the finger client against local servers that
 * misbehave: one that never answers (deadline), one that sends far too much
 * (byte limit), one that is not there (refused), one that answers with
 * escape sequences (cleaned).  The servers are plain sockets on 127.0.0.1
 * served from the same loop.
 */
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "action_finger.h"

static uv_loop_t loop;

struct answer {
	bool called;
	char text[8192];
	size_t len;
	bool is_error;
};

static void
on_answer(void *arg, const char *text, const char *err)
{
	struct answer *a = arg;

	a->called = true;
	a->is_error = text == NULL;
	snprintf(a->text, sizeof(a->text), "%s", text ? text : err);
	a->len = text ? strlen(text) : 0;
}

/* A listening socket on 127.0.0.1; its port in *port. */
static int
server(unsigned *port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t len = sizeof(sin);
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(s, 4), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	return s;
}

static struct sockaddr_in
client_addr(void)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return sin;
}

static void
on_guard(uv_timer_t *t)
{
	*(bool *)t->data = true;
}

static void
run_until(bool *flag)
{
	uv_timer_t guard;
	bool expired = false;

	uv_timer_init(&loop, &guard);
	guard.data = &expired;
	uv_timer_start(&guard, on_guard, 20000, 0);
	while (!expired && !*flag)
		uv_run(&loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&guard, NULL);
	uv_run(&loop, UV_RUN_NOWAIT);
	assert_false(expired);
}

static int
setup(void **state)
{
	(void)state;
	return uv_loop_init(&loop);
}

static int
teardown(void **state)
{
	(void)state;
	uv_run(&loop, UV_RUN_DEFAULT);
	return uv_loop_close(&loop);
}

/* Accepted but never answered: the deadline ends it. */
static void
test_deadline(void **state)
{
	struct sockaddr_in c = client_addr();
	struct answer a = {0};
	unsigned port;
	int ls = server(&port);

	(void)state;
	assert_non_null(action_finger_start(&loop, (struct sockaddr *)&c, NULL,
	    port, "", 300, 0, on_answer, &a));
	run_until(&a.called);
	assert_true(a.is_error);
	assert_string_equal(a.text, "timed out");
	close(ls);
}

static void
test_refused(void **state)
{
	struct sockaddr_in c = client_addr();
	struct answer a = {0};
	unsigned port;
	int ls = server(&port);

	(void)state;
	close(ls); /* nobody listens there now */
	assert_non_null(action_finger_start(&loop, (struct sockaddr *)&c, NULL,
	    port, "", 5000, 0, on_answer, &a));
	run_until(&a.called);
	assert_true(a.is_error);
	assert_non_null(strstr(a.text, "refused"));
}

/*
 * The server sends 100000 bytes after reading the query; only max (here
 * 1000) are kept, and the query was "\r\n".
 */
static void
test_byte_limit_and_query(void **state)
{
	struct sockaddr_in c = client_addr();
	struct answer a = {0};
	char q[16], *big;
	unsigned port;
	ssize_t n;
	int ls = server(&port), s;

	(void)state;
	assert_non_null(action_finger_start(&loop, (struct sockaddr *)&c, NULL,
	    port, "", 5000, 1000, on_answer, &a));
	/* Let the connect and the query happen. */
	while ((s = accept4(ls, NULL, NULL, SOCK_NONBLOCK)) < 0)
		uv_run(&loop, UV_RUN_NOWAIT);
	do {
		uv_run(&loop, UV_RUN_NOWAIT);
		n = recv(s, q, sizeof(q), MSG_DONTWAIT);
	} while (n < 0);
	assert_int_equal(n, 2);
	assert_memory_equal(q, "\r\n", 2);
	big = malloc(100000);
	memset(big, 'q', 100000);
	(void)send(s, big, 100000, MSG_DONTWAIT | MSG_NOSIGNAL);
	free(big);
	run_until(&a.called);
	assert_false(a.is_error);
	assert_true(a.len >= 1000 && a.len <= 1010); /* + line breaks */
	close(s);
	close(ls);
}

static void
test_cleaned(void **state)
{
	static const char ans[] = "Login: \033[31mroot\033[0m\r\n\x9b\xff!\r\n";
	struct sockaddr_in c = client_addr();
	struct answer a = {0};
	unsigned port;
	int ls = server(&port), s;

	(void)state;
	assert_non_null(action_finger_start(&loop, (struct sockaddr *)&c, NULL,
	    port, "", 5000, 0, on_answer, &a));
	while ((s = accept4(ls, NULL, NULL, 0)) < 0)
		uv_run(&loop, UV_RUN_NOWAIT);
	assert_int_equal(send(s, ans, sizeof(ans) - 1, MSG_NOSIGNAL),
	    (ssize_t)sizeof(ans) - 1);
	close(s); /* EOF ends the answer */
	run_until(&a.called);
	assert_string_equal(
	    a.text, "Login: \\033[31mroot\\033[0m\n\\233\\377!\n");
	close(ls);
}

/* Cancelled before anything happened: no callback, nothing leaks. */
static void
test_cancel(void **state)
{
	struct sockaddr_in c = client_addr();
	struct answer a = {0};
	struct action_finger *f;
	unsigned port;
	int ls = server(&port);

	(void)state;
	f = action_finger_start(&loop, (struct sockaddr *)&c, NULL, port, "",
	    5000, 0, on_answer, &a);
	assert_non_null(f);
	action_finger_cancel(f);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_false(a.called);
	close(ls);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_deadline, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_byte_limit_and_query, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cleaned, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
