/*
 * action_plan.h - what the options of a matched rule will do, worked out
 * without doing any of it.
 *
 * The daemon (action_run.c) and `wrapd match` both call
 * action_plan_build(), so the predictor reaches the daemon's verdict by
 * running the same code: every option in order, each expansion made with
 * the same facts, setenv checked as setenv(3) would, user and group looked
 * up, banner files read and rendered to the bytes the client will get.
 * What only running can tell -- an aclexec command's exit status, a command
 * that cannot start, the action limits -- is left to the runner.
 *
 * libc only (no libuv): the command-line tools link it.  It reads banner
 * files and the user and group databases, nothing else.
 */
#ifndef WRAPD_ACTION_PLAN_H
#define WRAPD_ACTION_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "acl.h"

/* Banner files are read up to this size. */
#define ACTION_BANNER_MAX (64 * 1024)

/* What a command runs with: the options in force when it is reached. */
struct action_settings {
	int umask; /* -1: inherit */
	int nice;  /* 0: inherit */
	bool set_uid, set_gid;
	uid_t uid;
	gid_t gid;
	size_t nenv; /* the plan's first nenv setenv entries apply */
};

enum action_step_kind {
	ACTION_STEP_SEND,      /* banners: write text[0..len) to the client
	                          (text NULL: the file sends nothing) */
	ACTION_STEP_SPAWN,     /* a shell command, not waited for */
	ACTION_STEP_ACLEXEC,   /* a shell command whose exit status decides */
	ACTION_STEP_TWIST,     /* a shell command that gets the client socket */
	ACTION_STEP_KEEPALIVE, /* SO_KEEPALIVE on the client socket */
	ACTION_STEP_SETENV,    /* text: the expansion "NAME value"; the entry
	                          is in the plan's env (nothing to run) */
};

struct action_step {
	enum action_step_kind kind;
	const struct acl_option *opt; /* the option it comes from */
	char *text; /* SEND: the rendered banner (may hold NUL bytes);
	                commands, SETENV: the expansion */
	size_t len;
	char *path;                 /* SEND: the banner file */
	struct action_settings set; /* commands */
};

/* Something the log (and `wrapd match`) should say about an option. */
struct action_note {
	int prio; /* LOG_WARNING, LOG_DEBUG */
	enum acl_opt_kind opt;
	char *text;
};

struct action_plan {
	struct action_step *steps;
	size_t nsteps;
	char **env; /* setenv's NAME=VALUE, in order (a later one wins) */
	size_t nenv;
	struct action_note *notes;
	size_t nnotes;
	/*
	 * The verdict before the runner's part: the rule's (allow, deny,
	 * twist keywords included), or ACL_DENY with reason when an option
	 * fails (an option error at load, an expansion that cannot be made,
	 * setenv that setenv(3) would refuse, an unknown user or group).
	 * Options after a failing one are not in the plan: libwrap stops
	 * there too.
	 */
	enum acl_verdict verdict;
	const char *reason;              /* static */
	const struct acl_option *failed; /* the option that failed, or NULL */
	bool keyword; /* ends in allow or deny: aclexec's status is
			       not looked at */
	int severity; /* the severity option, or -1 */
};

/*
 * Plan the options of d->rule for req.  base: the account commands run as
 * unless the rule's user/group options say otherwise (the service's), or
 * NULL.  Always fills *p (free it with action_plan_free); returns -1 when
 * out of memory, the plan then denying with reason "out of memory".
 */
int action_plan_build(const struct acl_decision *d,
    const struct acl_request *req, const struct action_settings *base,
    struct action_plan *p);
void action_plan_free(struct action_plan *p);

/*
 * Facts (enum acl_need_bits) the options of r will need: their
 * %-expansions, `rfc931` (the user, looked up with *ident_timeout_ms; left
 * unchanged when the rule gives no timeout), and the expansions inside the
 * banner file for daemon.
 */
unsigned action_plan_needs(
    const struct acl_rule *r, const char *daemon, uint64_t *ident_timeout_ms);

/*
 * The banner file dir/daemon, as the banners option reads it: a regular
 * file, opened non-blocking (a FIFO cannot hang the caller), up to
 * ACTION_BANNER_MAX bytes.  Returns 0 with *data (malloc'd) and *len; 1
 * when there is no such file (nothing to send, nothing to say); -1 with
 * errno for any other problem (libwrap warns and sends nothing).  path
 * receives the file's path in every case.
 */
int action_plan_banner_load(const char *dir, const char *daemon, char *path,
    size_t pathsz, char **data, size_t *len);

/*
 * The environment a command or an exec'd daemon gets: environ with the
 * NAME=VALUE entries of adds replacing or added (a later one wins, as
 * setenv(3) would).  NULL when out of memory.
 */
char **action_plan_env_build(char *const *adds, size_t nadds);
void action_plan_env_free(char **env);

#endif /* WRAPD_ACTION_PLAN_H */
