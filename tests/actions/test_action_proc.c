/*
 * test_action_proc.c - the process runner with real processes: /bin/sh,
 * file output, fds the child sees, twist on a socket, stdin feeding,
 * deadlines, process-group accounting, umask/nice/uid.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
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

#include "action_proc.h"

static char dir[64];
static uv_loop_t loop;
static struct action_procs procs;

struct done {
	bool called;
	int status;
	int signal;
};

static void
on_exit_cb(void *arg, int exit_status, int term_signal)
{
	struct done *d = arg;

	d->called = true;
	d->status = exit_status;
	d->signal = term_signal;
}

static void
on_guard(uv_timer_t *t)
{
	*(bool *)t->data = true;
}

/* Run the loop until *flag or cond(): bounded by a 30 s guard timer. */
static void
run_until(bool *flag, bool (*cond)(void))
{
	uv_timer_t guard;
	bool expired = false;

	uv_timer_init(&loop, &guard);
	guard.data = &expired;
	uv_timer_start(&guard, on_guard, 30000, 0);
	while (
	    !expired && !(flag != NULL && *flag) && !(cond != NULL && cond()))
		uv_run(&loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&guard, NULL);
	uv_run(&loop, UV_RUN_NOWAIT);
	assert_false(expired);
}

static char *
slurp(const char *name)
{
	static char buf[8192];
	char path[128];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_true(n >= 0);
	buf[n] = '\0';
	return buf;
}

static void
opts_init(struct action_proc_opts *o, const char *cmd)
{
	memset(o, 0, sizeof(*o));
	o->cmd = cmd;
	o->stdio_fd = -1;
	o->umask = -1;
}

static int
setup(void **state)
{
	(void)state;
	signal(SIGPIPE, SIG_IGN);
	snprintf(dir, sizeof(dir), "/tmp/wrapd-act-proc.XXXXXX");
	assert_non_null(mkdtemp(dir));
	chmod(dir, 01777);
	uv_loop_init(&loop);
	action_proc_set_init(&procs, &loop);
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
	action_proc_set_close(&procs);
	uv_walk(&loop, close_any, NULL); /* what a failed test left open */
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static void
test_spawn_status_and_output(void **state)
{
	struct action_proc_opts o;
	struct done d = {0};
	char cmd[256];

	(void)state;
	snprintf(cmd, sizeof(cmd), "echo spawned > %s/out; exit 3", dir);
	opts_init(&o, cmd);
	assert_int_equal(
	    action_proc_start(&procs, &o, on_exit_cb, &d, NULL), 0);
	run_until(&d.called, NULL);
	assert_int_equal(d.status, 3);
	assert_int_equal(d.signal, 0);
	assert_string_equal(slurp("out"), "spawned\n");
}

/*
 * The child sees fds 0-2 only: not a libuv listening socket, not a plain
 * socket() and pipe() made without O_CLOEXEC (sealed at startup).
 */
static void
test_spawn_sees_no_other_fds(void **state)
{
	struct action_proc_opts o;
	struct done d = {0};
	struct sockaddr_in sin;
	uv_tcp_t listener;
	char buf[256];
	size_t got = 0;
	ssize_t n;
	int s, p[2], sv[2];

	(void)state;
	uv_tcp_init(&loop, &listener);
	uv_ip4_addr("127.0.0.1", 0, &sin);
	assert_int_equal(uv_tcp_bind(&listener, (struct sockaddr *)&sin, 0), 0);
	assert_int_equal(uv_listen((uv_stream_t *)&listener, 8, NULL), 0);
	s = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(s > 2);
	assert_int_equal(pipe(p), 0);
	assert_true(action_proc_seal_fds() >= 3);

	/* Output through a socket on 0-2: no redirection fds in the shell. */
	assert_int_equal(
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	opts_init(&o, "ls -v /proc/$$/fd");
	o.stdio_fd = sv[1];
	assert_int_equal(
	    action_proc_start(&procs, &o, on_exit_cb, &d, NULL), 0);
	close(sv[1]);
	while (got < sizeof(buf) - 1 &&
	    (n = read(sv[0], buf + got, sizeof(buf) - 1 - got)) > 0)
		got += (size_t)n;
	buf[got] = '\0';
	close(sv[0]);
	run_until(&d.called, NULL);
	assert_int_equal(d.status, 0);
	assert_string_equal(buf, "0\n1\n2\n");
	close(s);
	close(p[0]);
	close(p[1]);
	uv_close((uv_handle_t *)&listener, NULL);
	uv_run(&loop, UV_RUN_NOWAIT);
}

/* twist: the command talks to the peer over fds 0-2. */
static void
test_twist_on_socket(void **state)
{
	struct action_proc_opts o;
	struct done d = {0};
	char buf[256];
	size_t got = 0;
	ssize_t n;
	int sv[2];

	(void)state;
	assert_int_equal(
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	opts_init(&o, "echo hello; read x; echo \"got $x\"; echo err >&2");
	o.stdio_fd = sv[1];
	assert_int_equal(
	    action_proc_start(&procs, &o, on_exit_cb, &d, NULL), 0);
	close(sv[1]); /* the child holds its own copies */
	assert_int_equal(write(sv[0], "abc\n", 4), 4);
	while (got < sizeof(buf) - 1 &&
	    (n = read(sv[0], buf + got, sizeof(buf) - 1 - got)) > 0)
		got += (size_t)n;
	buf[got] = '\0';
	assert_string_equal(buf, "hello\ngot abc\nerr\n");
	close(sv[0]);
	run_until(&d.called, NULL);
	assert_int_equal(d.status, 0);
}

static void
test_stdin_data(void **state)
{
	static const char msg[] = "To: root\n\nline one\n.\nline three\n";
	struct action_proc_opts o;
	struct done d = {0};
	char cmd[128];
	char *argv[] = {(char *)"sh", (char *)"-c", cmd, NULL};

	(void)state;
	snprintf(cmd, sizeof(cmd), "cat > %s/mail", dir);
	opts_init(&o, NULL);
	o.argv = argv;
	o.stdin_data = msg;
	o.stdin_len = sizeof(msg) - 1;
	assert_int_equal(
	    action_proc_start(&procs, &o, on_exit_cb, &d, NULL), 0);
	run_until(&d.called, NULL);
	assert_int_equal(d.status, 0);
	assert_string_equal(slurp("mail"), msg);
}

static struct action_limit *lim;

static bool
limit_idle(void)
{
	return action_limit_running(lim) == 0;
}

/* The deadline kills the whole group, background job included. */
static void
test_deadline_kills_group(void **state)
{
	struct action_proc_opts o;
	struct done d = {0};
	char cmd[256];
	pid_t pgid;

	(void)state;
	lim = action_limit_new(4, 0, 0, 0);
	assert_true(action_limit_take(lim));
	snprintf(cmd, sizeof(cmd), "sleep 30 & echo $! > %s/bg; wait", dir);
	opts_init(&o, cmd);
	o.timeout_ms = 300;
	o.limit = lim;
	struct action_proc *p;
	assert_int_equal(action_proc_start(&procs, &o, on_exit_cb, &d, &p), 0);
	pgid = action_proc_pid(p);
	run_until(&d.called, NULL);
	assert_int_equal(d.signal, SIGKILL);
	assert_int_equal(d.status, 0);
	run_until(NULL, limit_idle);
	/* Nobody is left in the command's process group. */
	assert_int_equal(kill(-pgid, 0), -1);
	assert_int_equal(errno, ESRCH);
	action_limit_free(lim);
}

/* `cmd &` returns at once; its slot is held until the job is gone. */
static void
test_background_job_holds_slot(void **state)
{
	struct action_proc_opts o;
	struct done d = {0};
	char cmd[256];

	(void)state;
	lim = action_limit_new(4, 0, 0, 0);
	assert_true(action_limit_take(lim));
	snprintf(cmd, sizeof(cmd),
	    "(while [ ! -e %s/go ]; do sleep 0.05; done) &", dir);
	opts_init(&o, cmd);
	o.timeout_ms = 20000;
	o.limit = lim;
	assert_int_equal(
	    action_proc_start(&procs, &o, on_exit_cb, &d, NULL), 0);
	run_until(&d.called, NULL);
	assert_int_equal(d.status, 0);
	/* The shell is gone; its background job is not, and still counts. */
	uv_run(&loop, UV_RUN_NOWAIT);
	assert_int_equal(action_limit_running(lim), 1);
	snprintf(cmd, sizeof(cmd), "touch %s/go", dir);
	assert_int_equal(system(cmd), 0);
	run_until(NULL, limit_idle);
	action_limit_free(lim);
}

static void
test_umask_nice_uid(void **state)
{
	struct action_proc_opts o;
	struct done d = {0};
	char cmd[256];

	(void)state;
	snprintf(cmd, sizeof(cmd), "(umask; nice; id -u) > %s/ids", dir);
	opts_init(&o, cmd);
	o.umask = 027;
	o.nice = 5;
	if (geteuid() == 0) {
		o.set_uid = o.set_gid = true;
		o.uid = 65534;
		o.gid = 65534;
	}
	assert_int_equal(
	    action_proc_start(&procs, &o, on_exit_cb, &d, NULL), 0);
	run_until(&d.called, NULL);
	assert_int_equal(d.status, 0);
	if (geteuid() == 0)
		assert_string_equal(slurp("ids"), "0027\n5\n65534\n");
	else
		assert_non_null(strstr(slurp("ids"), "0027\n5\n"));
}

static void
test_spawn_failure_reported(void **state)
{
	struct action_proc_opts o;
	char *argv[] = {(char *)"/nonexistent/sendmail", NULL};

	(void)state;
	opts_init(&o, NULL);
	o.argv = argv;
	assert_int_equal(
	    action_proc_start(&procs, &o, on_exit_cb, NULL, NULL), UV_ENOENT);
	uv_run(&loop, UV_RUN_NOWAIT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_spawn_status_and_output, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_spawn_sees_no_other_fds, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_twist_on_socket, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stdin_data, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_deadline_kills_group, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_background_job_holds_slot, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_umask_nice_uid, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_spawn_failure_reported, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
