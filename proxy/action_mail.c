/*
 * action_mail.c - run sendmail for one report.
 */
#include <string.h>

#include "action_mail.h"
#include "log.h"

static void
action_mail_on_exit(void *arg, int exit_status, int term_signal)
{
	(void)arg;
	if (term_signal != 0)
		log_warnx("actions: sendmail killed by signal %d", term_signal);
	else if (exit_status != 0)
		log_warnx(
		    "actions: sendmail exited with status %d", exit_status);
}

int
action_mail_send(struct action_procs *procs, struct action_limit *limit,
    const char *sendmail, const char *msg, size_t len)
{
	struct action_proc_opts o;
	char *argv[4];

	argv[0] = (char *)(sendmail && *sendmail ? sendmail
	                                         : ACTION_SENDMAIL_DEFAULT);
	argv[1] = (char *)"-t";
	argv[2] = (char *)"-oi";
	argv[3] = NULL;
	memset(&o, 0, sizeof(o));
	o.argv = argv;
	o.stdio_fd = -1;
	o.stdin_data = msg;
	o.stdin_len = len;
	o.umask = -1;
	o.timeout_ms = ACTION_MAIL_TIMEOUT_MS;
	o.limit = limit;
	return action_proc_start(procs, &o, action_mail_on_exit, NULL, NULL);
}
