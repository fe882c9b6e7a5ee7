/*
 * action_proc.h - the process runner behind spawn, twist, aclexec and the
 * report mail: one command in its own session, started with uv_spawn, never
 * waited for on the loop, always reaped, killed with its whole process
 * group when it overstays its deadline.
 *
 * Children see only fds 0-2: libuv opens everything it creates with
 * O_CLOEXEC, and action_proc_seal_fds() marks anything inherited from our
 * own parent the same way (tests/actions checks /proc/<child>/fd).
 */
#ifndef WRAPD_ACTION_PROC_H
#define WRAPD_ACTION_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

#include "action_limit.h"

/* Where the shell is; tcpd used the same. */
#define ACTION_PROC_SHELL "/bin/sh"

struct action_proc;

/* The set of commands one loop runs, so shutdown can let go of them. */
struct action_procs {
	uv_loop_t *loop;
	struct action_proc *head;
};

struct action_proc_opts {
	/* A shell command (/bin/sh -c cmd), or else argv (argv[0] is looked
	 * up in PATH). */
	const char *cmd;
	char *const *argv;
	/* -1: fds 0-2 on /dev/null; else 0, 1 and 2 all on this fd (twist). */
	int stdio_fd;
	/* Non-NULL: stdin is a pipe fed with these bytes, then closed. */
	const char *stdin_data;
	size_t stdin_len;
	/* NULL-terminated NAME=VALUE list replacing the environment; NULL:
	 * inherit ours. */
	char *const *env;
	int umask; /* -1: inherit; else set (shell commands only) */
	int nice;  /* 0: inherit; else run under nice -n (shell commands) */
	bool set_uid, set_gid;
	uid_t uid;
	gid_t gid;
	/* 0: no deadline; else the process group is sent SIGKILL. */
	uint64_t timeout_ms;
	/*
	 * With a limiter, the slot the caller took is given back only when the
	 * whole process group is gone: `spawn (...) &` returns at once but its
	 * background job still counts.  NULL: nothing to give back.
	 */
	struct action_limit *limit;
};

/*
 * Exit notification, once, when the command itself (the shell) ends:
 * term_signal is the signal that killed it (SIGKILL at the deadline) and
 * exit_status is then 0; else term_signal is 0 and exit_status is its exit
 * status, 0-255.  They are kept apart because an exit status of 129-255 is
 * what the command said (an aclexec's "no match"), a signal is not.
 * proc is freed some time after; do not keep it.
 */
typedef void (*action_proc_cb)(void *arg, int exit_status, int term_signal);

/*
 * Start a command.  Returns 0 and (if out) the handle, or a negative libuv
 * error (the slot in opts->limit then still belongs to the caller).
 */
int action_proc_start(struct action_procs *set,
    const struct action_proc_opts *o, action_proc_cb cb, void *arg,
    struct action_proc **out);
/* The caller is going away: no callback will run.  The command goes on. */
void action_proc_forget(struct action_proc *p);
pid_t action_proc_pid(const struct action_proc *p);

void action_proc_set_init(struct action_procs *set, uv_loop_t *loop);
/*
 * Loop shutdown: stop watching every command (they keep running, in their
 * own sessions), give their limiter slots back, close all handles.  The
 * loop must then run once more to finish the closes.
 */
void action_proc_set_close(struct action_procs *set);

/*
 * Mark every open fd above 2 close-on-exec, once at startup, so fds inherited
 * without O_CLOEXEC (from inetd or systemd) never reach a command.  Returns
 * how many fds were changed, or -1 if /proc/self/fd cannot be read.
 */
int action_proc_seal_fds(void);

#endif /* WRAPD_ACTION_PROC_H */
