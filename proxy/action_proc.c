/*
 * action_proc.c - run one command without ever blocking the loop.
 *
 * Life of a command: uv_spawn in a new session (UV_PROCESS_DETACHED calls
 * setsid, so the shell is the leader of its own process group and a
 * deadline can kill the group, background jobs included); libuv reaps it
 * from its SIGCHLD watcher and calls action_proc_on_exit; while its process group
 * still has members (`cmd &`) the limiter slot stays taken, checked with
 * kill(-pgid, 0) on a short timer.  A group id cannot be given to a new
 * process while the group exists, so the check never sees a stranger.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "action_proc.h"

#define NICE_PATH      "/usr/bin/nice"
/* How often a lingering process group is looked at. */
#define LINGER_POLL_MS 100
/* After SIGKILL at the deadline, how long to wait for the group to go. */
#define KILL_GRACE_MS  2000

enum proc_state {
	PROC_RUNNING, /* the command itself runs */
	PROC_LINGER,  /* it exited; members of its group still run */
	PROC_CLOSING, /* handles closing; freed in the last close callback */
};

struct action_proc {
	struct action_procs *set;
	struct action_proc *next, *prev;
	enum proc_state state;
	uv_process_t proc;
	uv_timer_t timer;
	uv_pipe_t in;
	uv_write_t wreq;
	char *data;
	bool has_pipe;
	bool killed;
	int open_handles;
	pid_t pid;
	uint64_t deadline; /* uv_now() value; 0: none */
	action_proc_cb cb;
	void *arg;
	struct action_limit *limit;
};

static void action_proc_finish(struct action_proc *p);

static void
action_proc_on_close(uv_handle_t *h)
{
	struct action_proc *p = h->data;

	if (--p->open_handles > 0)
		return;
	free(p->data);
	free(p);
}

static void
action_proc_close_handle(uv_handle_t *h)
{
	if (!uv_is_closing(h))
		uv_close(h, action_proc_on_close);
}

static void
action_proc_unlink(struct action_proc *p)
{
	if (p->prev != NULL)
		p->prev->next = p->next;
	else if (p->set->head == p)
		p->set->head = p->next;
	if (p->next != NULL)
		p->next->prev = p->prev;
	p->next = p->prev = NULL;
}

/* Is anyone left in the command's process group? */
static bool
action_proc_group_alive(const struct action_proc *p)
{
	return kill(-p->pid, 0) == 0 || errno == EPERM;
}

static void
action_proc_kill_group(struct action_proc *p)
{
	if (!p->killed) {
		p->killed = true;
		kill(-p->pid, SIGKILL);
		/* The deadline now bounds the wait for the group to vanish. */
		p->deadline = uv_now(p->set->loop) + KILL_GRACE_MS;
	} else {
		p->deadline = 0; /* give up waiting: see action_proc_on_timer */
	}
}

static void
action_proc_on_timer(uv_timer_t *t)
{
	struct action_proc *p = t->data;
	uint64_t now = uv_now(p->set->loop);

	if (p->state == PROC_RUNNING) {
		action_proc_kill_group(p);
		return;
	}
	if (p->state != PROC_LINGER)
		return;
	if (!action_proc_group_alive(p)) {
		action_proc_finish(p);
		return;
	}
	if (p->deadline != 0 && now >= p->deadline) {
		bool was_killed = p->killed;

		action_proc_kill_group(p);
		/*
		 * Killed members that stay (unreaped zombies of a PID 1 that
		 * does not reap) must not hold the slot for ever.
		 */
		if (was_killed) {
			action_proc_finish(p);
			return;
		}
	}
	uv_timer_start(&p->timer, action_proc_on_timer, LINGER_POLL_MS, 0);
}

static void
action_proc_on_exit(uv_process_t *h, int64_t exit_status, int term_signal)
{
	struct action_proc *p = h->data;
	action_proc_cb cb = p->cb;

	p->cb = NULL;
	p->state = PROC_LINGER;
	if (cb != NULL)
		cb(p->arg, term_signal != 0 ? 0 : (int)exit_status,
		    term_signal);
	if (p->limit == NULL || !action_proc_group_alive(p)) {
		action_proc_finish(p);
		return;
	}
	uv_timer_stop(&p->timer);
	uv_timer_start(&p->timer, action_proc_on_timer, LINGER_POLL_MS, 0);
}

/* Everything is over: give the slot back, close, free later. */
static void
action_proc_finish(struct action_proc *p)
{
	if (p->state == PROC_CLOSING)
		return;
	p->state = PROC_CLOSING;
	p->cb = NULL;
	if (p->limit != NULL) {
		action_limit_put(p->limit);
		p->limit = NULL;
	}
	action_proc_unlink(p);
	uv_timer_stop(&p->timer);
	action_proc_close_handle((uv_handle_t *)&p->timer);
	action_proc_close_handle((uv_handle_t *)&p->proc);
	if (p->has_pipe)
		action_proc_close_handle((uv_handle_t *)&p->in);
}

static void
action_proc_on_written(uv_write_t *req, int status)
{
	struct action_proc *p = req->data;

	(void)status; /* a reader that left early is its own business */
	if (p->has_pipe)
		action_proc_close_handle((uv_handle_t *)&p->in);
}

/* Build argv for a shell command, with umask and nice folded in. */
static int
action_proc_shell_argv(const struct action_proc_opts *o, char **argv,
    size_t max, char *nicebuf, size_t nicesz, char **script)
{
	size_t n = 0, len;

	(void)max;
	if (o->nice != 0) {
		snprintf(nicebuf, nicesz, "%d", o->nice);
		argv[n++] = (char *)NICE_PATH;
		argv[n++] = (char *)"-n";
		argv[n++] = nicebuf;
	}
	argv[n++] = (char *)ACTION_PROC_SHELL;
	argv[n++] = (char *)"-c";
	if (o->umask >= 0) {
		/* The shell sets it before the command runs; tcpd's umask
		 * option meant exactly "for what is started from here". */
		len = strlen(o->cmd) + 32;
		if ((*script = malloc(len)) == NULL)
			return UV_ENOMEM;
		snprintf(*script, len, "umask %04o\n%s",
		    (unsigned)o->umask & 0777, o->cmd);
		argv[n++] = *script;
	} else {
		argv[n++] = (char *)o->cmd;
	}
	argv[n] = NULL;
	return 0;
}

int
action_proc_start(struct action_procs *set, const struct action_proc_opts *o,
    action_proc_cb cb, void *arg, struct action_proc **out)
{
	uv_process_options_t po;
	uv_stdio_container_t stdio[3];
	struct action_proc *p;
	char *argv[8], nicebuf[16], *script = NULL;
	int err, i;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return UV_ENOMEM;
	p->set = set;
	p->cb = cb;
	p->arg = arg;
	p->proc.data = p->timer.data = p->in.data = p->wreq.data = p;

	memset(&po, 0, sizeof(po));
	if (o->cmd != NULL) {
		err = action_proc_shell_argv(
		    o, argv, 8, nicebuf, sizeof(nicebuf), &script);
		if (err != 0) {
			free(p);
			return err;
		}
		po.file = argv[0];
		po.args = argv;
	} else {
		po.file = o->argv[0];
		po.args = (char **)o->argv;
	}
	po.env = (char **)o->env;
	po.exit_cb = action_proc_on_exit;
	po.flags = UV_PROCESS_DETACHED;
	if (o->set_uid) {
		po.flags |= UV_PROCESS_SETUID;
		po.uid = o->uid;
	}
	if (o->set_gid) {
		po.flags |= UV_PROCESS_SETGID;
		po.gid = o->gid;
	}
	for (i = 0; i < 3; i++) {
		if (o->stdio_fd >= 0) {
			stdio[i].flags = UV_INHERIT_FD;
			stdio[i].data.fd = o->stdio_fd;
		} else {
			stdio[i].flags = UV_IGNORE; /* /dev/null */
		}
	}
	uv_timer_init(set->loop, &p->timer);
	p->timer.data = p;
	p->proc.data = p;
	p->open_handles = 2; /* timer, process */
	if (o->stdin_data != NULL) {
		uv_pipe_init(set->loop, &p->in, 0);
		p->in.data = p;
		p->has_pipe = true;
		p->open_handles++;
		stdio[0].flags = UV_CREATE_PIPE | UV_READABLE_PIPE;
		stdio[0].data.stream = (uv_stream_t *)&p->in;
	}
	po.stdio = stdio;
	po.stdio_count = 3;

	err = uv_spawn(set->loop, &p->proc, &po);
	free(script);
	if (err != 0) {
		/* Not linked, no slot: just close what was opened. */
		p->state = PROC_CLOSING;
		action_proc_close_handle((uv_handle_t *)&p->timer);
		action_proc_close_handle((uv_handle_t *)&p->proc);
		if (p->has_pipe)
			action_proc_close_handle((uv_handle_t *)&p->in);
		return err;
	}
	p->pid = p->proc.pid;
	p->limit = o->limit;
	p->next = set->head;
	if (set->head != NULL)
		set->head->prev = p;
	set->head = p;

	if (p->has_pipe) {
		uv_buf_t b;

		if (o->stdin_len > 0 &&
		    (p->data = malloc(o->stdin_len)) != NULL) {
			memcpy(p->data, o->stdin_data, o->stdin_len);
			b = uv_buf_init(p->data, (unsigned)o->stdin_len);
			if (uv_write(&p->wreq, (uv_stream_t *)&p->in, &b, 1,
			        action_proc_on_written) != 0)
				action_proc_close_handle((uv_handle_t *)&p->in);
		} else {
			action_proc_close_handle((uv_handle_t *)&p->in);
		}
	}
	if (o->timeout_ms > 0) {
		p->deadline = uv_now(set->loop) + o->timeout_ms;
		uv_timer_start(
		    &p->timer, action_proc_on_timer, o->timeout_ms, 0);
	}
	if (out != NULL)
		*out = p;
	return 0;
}

void
action_proc_forget(struct action_proc *p)
{
	if (p != NULL)
		p->cb = NULL;
}

pid_t
action_proc_pid(const struct action_proc *p)
{
	return p->pid;
}

void
action_proc_set_init(struct action_procs *set, uv_loop_t *loop)
{
	set->loop = loop;
	set->head = NULL;
}

void
action_proc_set_close(struct action_procs *set)
{
	while (set->head != NULL)
		action_proc_finish(set->head);
}

int
action_proc_seal_fds(void)
{
	DIR *d;
	struct dirent *de;
	int n = 0, fd, self, flags;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return -1;
	self = dirfd(d);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		fd = atoi(de->d_name);
		if (fd <= 2 || fd == self)
			continue;
		flags = fcntl(fd, F_GETFD);
		if (flags >= 0 && !(flags & FD_CLOEXEC) &&
		    fcntl(fd, F_SETFD, flags | FD_CLOEXEC) == 0)
			n++;
	}
	closedir(d);
	return n;
}
