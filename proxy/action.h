/*
 * action.h - what the actions of a decided connection share: the borrowed
 * view of the connection they get, and the non-blocking write to its
 * client.
 *
 * The act stage, file by file:
 *   action_plan.c    the rule's options as steps (pure; `wrapd match`
 *                    uses it too)
 *   action_run.c     runs a plan on the loop: banners, spawn, twist, and
 *                    aclexec, whose exit status the verdict waits for
 *   action_deny.c    the service's on_deny: reply, finger, report mail
 *   action_loop.c    a worker loop's share: its commands, runs, jobs, and
 *                    the process-wide limiter
 *   action_conn.c    the glue: conn.c's decision point calls into the above
 *   action_proc.c, action_finger.c, action_mail.c, action_limit.c,
 *   action_text.c    processes, finger client, sendmail, limits, text
 *
 * Everything runs on the connection's loop without blocking it; every
 * command and look-up is bounded by actions.max_running and
 * actions.per_source (action_limit.h).
 */
#ifndef WRAPD_ACTION_H
#define WRAPD_ACTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "acl.h"
#include "conf.h"

/* Deadline of spawn and aclexec commands: the process group is killed. */
#define ACTION_CMD_TIMEOUT_MS 60000

struct action_loop;

/* What the actions need to know about the connection (borrowed). */
struct action_conn {
	struct action_loop *al;        /* the worker's */
	uint64_t id;                   /* for log lines */
	int fd;                        /* the client socket */
	const struct acl_request *req; /* facts; daemon, addresses, ports */
	const char *service;           /* service name */
	const struct conf_on_deny *on_deny; /* NULL: none */
	const char
	    *sendmail; /* actions.sendmail of the connection's snapshot */
	/* The service's account (user:, group:) for the rule's commands. */
	bool set_uid, set_gid;
	uid_t uid;
	gid_t gid;
};

/*
 * Write bytes to the client socket without blocking: what the socket
 * buffer takes (a fresh connection takes 16 KiB or more).  Returns the
 * bytes written.
 */
size_t action_send(int fd, const char *buf, size_t len);

#endif /* WRAPD_ACTION_H */
