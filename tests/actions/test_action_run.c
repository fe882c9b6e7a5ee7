/*
 * test_action_run.c - action_run_start() and action_deny_start() on a real
 * loop, with rules loaded by the real engine and a socketpair standing in
 * for the client: aclexec's asynchronous verdicts, cancelling a run whose
 * aclexec is still running, limits that skip or deny, banners and reply
 * bytes as the client reads them, and a worker shutdown with a run pending.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "action.h"
#include "action_deny.h"
#include "action_limit.h"
#include "action_loop.h"
#include "action_run.h"

static uv_loop_t loop;
static struct action_limit *limit;
static struct action_loop al;
static struct acl_ruleset *rs;
static int sv[2];
static char dir[64];

struct done {
	bool called;
	struct action_result res;
};

static void
on_done(void *arg, struct action_result *res)
{
	struct done *d = arg;

	d->called = true;
	d->res = *res;
	d->res.env = NULL;
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

static void
limits(unsigned max_running, unsigned count, unsigned secs)
{
	action_limit_configure(limit, max_running, count, secs);
}

static void
load(const char *allow, const char *deny)
{
	struct acl_diags dg = {0};

	acl_ruleset_unref(rs);
	rs = acl_ruleset_load_mem("allow", allow, strlen(allow), "deny", deny,
	    strlen(deny), false, &dg);
	assert_non_null(rs);
	assert_int_equal(acl_diags_errors(&dg), 0);
	acl_diags_free(&dg);
}

static void
request(struct acl_request *req, const char *daemon)
{
	acl_request_init(req);
	req->daemon = daemon;
	assert_int_equal(acl_addr_parse(&req->client.addr, "192.0.2.10"), 0);
	req->client.port = 4000;
	assert_int_equal(acl_addr_parse(&req->server.addr, "192.0.2.1"), 0);
	req->server.port = 25;
	req->client.name = "client.example";
	req->user = "alice";
}

static void
conn(struct action_conn *ac, const struct acl_request *req,
    const struct conf_on_deny *od)
{
	memset(ac, 0, sizeof(*ac));
	ac->al = &al;
	ac->id = 7;
	ac->fd = sv[0];
	ac->req = req;
	ac->service = "svc";
	ac->on_deny = od;
}

static void
decide(const struct acl_request *req, struct acl_decision *d)
{
	assert_int_equal(acl_eval(rs, req, ACL_TABLE_ALLOW, d), ACL_DONE);
}

/* What the client has received so far (non-blocking). */
static char *
client_read(void)
{
	static char buf[8192];
	ssize_t n = recv(sv[1], buf, sizeof(buf) - 1, MSG_DONTWAIT);

	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static int
setup(void **state)
{
	(void)state;
	signal(SIGPIPE, SIG_IGN);
	uv_loop_init(&loop);
	assert_int_equal(socketpair(AF_UNIX,
	                     SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv),
	    0);
	snprintf(dir, sizeof(dir), "/tmp/wrapd-act-run.XXXXXX");
	assert_non_null(mkdtemp(dir));
	assert_non_null(limit = action_limit_new(8, 0, 0, 0));
	action_loop_init(&al, &loop, limit);
	return 0;
}

static void
close_any(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	action_loop_close(&al);
	uv_walk(&loop, close_any, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
	action_limit_free(limit);
	limit = NULL;
	close(sv[0]);
	close(sv[1]);
	acl_ruleset_unref(rs);
	rs = NULL;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

/* aclexec exit 1 in hosts.allow: the callback asks for a rescan. */
static void
test_aclexec_allow_fails(void **state)
{
	struct acl_request req;
	struct acl_decision d;
	struct action_conn ac;
	struct action_result res;
	struct action_run *run = NULL;
	struct done dn = {0};

	(void)state;
	load("d: ALL: aclexec exit 1\n", "");
	request(&req, "d");
	decide(&req, &d);
	conn(&ac, &req, NULL);
	assert_int_equal(action_run_start(&ac, &d, &res, on_done, &dn, &run), 1);
	assert_non_null(run);
	run_until(&dn.called);
	assert_true(dn.res.rescan);
}

/*
 * aclexec exit 1 in hosts.deny grants; exit 0 keeps the deny; so does
 * exit 200 (an exit status, not a signal: no match, grant); killed by a
 * signal it said nothing: deny.
 */
static void
test_aclexec_deny_table(void **state)
{
	struct acl_request req;
	struct acl_decision d;
	struct action_conn ac;
	struct action_result res;
	struct action_run *run = NULL;
	struct done dn = {0}, dn2 = {0}, dn3 = {0}, dn4 = {0};

	(void)state;
	load("",
	    "d: ALL: aclexec exit 3\ne: ALL: aclexec exit 0\n"
	    "f: ALL: aclexec exit 200\ng: ALL: aclexec kill -KILL $$\n");
	request(&req, "d");
	decide(&req, &d);
	conn(&ac, &req, NULL);
	assert_int_equal(action_run_start(&ac, &d, &res, on_done, &dn, &run), 1);
	run_until(&dn.called);
	assert_false(dn.res.rescan);
	assert_int_equal(dn.res.verdict, ACL_GRANT);

	request(&req, "e");
	decide(&req, &d);
	assert_int_equal(
	    action_run_start(&ac, &d, &res, on_done, &dn2, &run), 1);
	run_until(&dn2.called);
	assert_int_equal(dn2.res.verdict, ACL_DENY);

	request(&req, "f");
	decide(&req, &d);
	assert_int_equal(
	    action_run_start(&ac, &d, &res, on_done, &dn3, &run), 1);
	run_until(&dn3.called);
	assert_false(dn3.res.rescan);
	assert_int_equal(dn3.res.verdict, ACL_GRANT);

	request(&req, "g");
	decide(&req, &d);
	assert_int_equal(
	    action_run_start(&ac, &d, &res, on_done, &dn4, &run), 1);
	run_until(&dn4.called);
	assert_false(dn4.res.rescan);
	assert_int_equal(dn4.res.verdict, ACL_DENY);
	assert_string_equal(dn4.res.reason, "aclexec killed");
}

/*
 * Cancelled while aclexec runs: no callback ever comes, and the command
 * still runs to its end (it writes a file).
 */
static void
test_cancel_while_waiting(void **state)
{
	char allow[256], path[128];
	struct acl_request req;
	struct acl_decision d;
	struct action_conn ac;
	struct action_result res;
	struct action_run *run = NULL;
	struct done dn = {0};
	struct stat st;
	bool gone = false;
	int i;

	(void)state;
	snprintf(path, sizeof(path), "%s/ran", dir);
	snprintf(allow, sizeof(allow), "d: ALL: aclexec sleep 0.3; touch %s\n",
	    path);
	load(allow, "");
	request(&req, "d");
	decide(&req, &d);
	conn(&ac, &req, NULL);
	assert_int_equal(action_run_start(&ac, &d, &res, on_done, &dn, &run), 1);
	action_run_cancel(run);
	/* Bounded: the command sleeps 0.3 s; 20 s guard in run_until. */
	for (i = 0; i < 400 && !gone; i++) {
		uv_run(&loop, UV_RUN_ONCE);
		gone = stat(path, &st) == 0;
	}
	assert_true(gone);
	assert_false(dn.called);
}

/* max_running 0: spawn is skipped (connection unaffected), aclexec denies. */
static void
test_limits_skip_and_deny(void **state)
{
	char allow[256], path[128];
	struct acl_request req;
	struct acl_decision d;
	struct action_conn ac;
	struct action_result res;
	struct stat st;

	(void)state;
	limits(1, 0, 0);
	limits(0, 0, 0);
	snprintf(path, sizeof(path), "%s/spawned", dir);
	snprintf(allow, sizeof(allow),
	    "s: ALL: spawn touch %s\nx: ALL: aclexec true\n", path);
	load(allow, "");
	request(&req, "s");
	decide(&req, &d);
	conn(&ac, &req, NULL);
	assert_int_equal(
	    action_run_start(&ac, &d, &res, on_done, NULL, NULL), 0);
	assert_int_equal(res.verdict, ACL_GRANT);
	request(&req, "x");
	decide(&req, &d);
	assert_int_equal(
	    action_run_start(&ac, &d, &res, on_done, NULL, NULL), 0);
	assert_int_equal(res.verdict, ACL_DENY);
	assert_string_equal(res.reason, "aclexec skipped");
	uv_run(&loop, UV_RUN_NOWAIT);
	assert_int_equal(stat(path, &st), -1);
	limits(8, 0, 0);
}

/* banners then the reply, as the client reads them. */
static void
test_banner_then_reply(void **state)
{
	char allow[256], path[128];
	struct acl_request req;
	struct acl_decision d;
	struct action_conn ac;
	struct action_result res;
	struct conf_on_deny od = {0};
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/b", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/b/bd", dir);
	f = fopen(path, "w");
	fputs("hi %u from %n\nbye\n", f);
	fclose(f);
	snprintf(allow, sizeof(allow), "bd: ALL: banners %s/b : deny\n", dir);
	load(allow, "");
	request(&req, "bd");
	req.user = "x;y";
	decide(&req, &d);
	od.reply = (char *)"421 no\r\n";
	od.reply_len = 8;
	conn(&ac, &req, &od);
	assert_int_equal(action_run_start(&ac, &d, &res, NULL, NULL, NULL), 0);
	assert_int_equal(res.verdict, ACL_DENY);
	action_deny_start(&ac, &d);
	assert_string_equal(
	    client_read(), "hi x_y from client.example\r\nbye\r\n421 no\r\n");
}

/* A worker shutting down with an aclexec pending, then the cancel. */
static void
test_worker_close_with_pending_run(void **state)
{
	struct acl_request req;
	struct acl_decision d;
	struct action_conn ac;
	struct action_result res;
	struct action_run *run = NULL;
	struct done dn = {0};

	(void)state;
	load("d: ALL: aclexec sleep 0.2\n", "");
	request(&req, "d");
	decide(&req, &d);
	conn(&ac, &req, NULL);
	assert_int_equal(action_run_start(&ac, &d, &res, on_done, &dn, &run), 1);
	action_loop_close(&al);
	uv_run(&loop, UV_RUN_DEFAULT);
	action_run_cancel(run);
	assert_false(dn.called);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_aclexec_allow_fails, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_aclexec_deny_table, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_cancel_while_waiting, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_limits_skip_and_deny, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_banner_then_reply, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_worker_close_with_pending_run, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
