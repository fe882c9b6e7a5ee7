/*
 * action_mail.h - hand a report to the system's sendmail interface.
 *
 * `SENDMAIL -t -oi` reads the recipients from the To: header and the message
 * from stdin (a pipe): no byte of the message is ever on a command line, and
 * -oi keeps a lone "." line in finger output from ending it early.
 */
#ifndef WRAPD_ACTION_MAIL_H
#define WRAPD_ACTION_MAIL_H

#include <stddef.h>

#include "action_proc.h"

#define ACTION_SENDMAIL_DEFAULT "/usr/sbin/sendmail"
#define ACTION_MAIL_TIMEOUT_MS  60000

/*
 * Start sendmail with msg on its stdin.  The caller has taken a slot of
 * limit (may be NULL); it is given back when sendmail's process group is
 * gone.  Returns 0 or a negative libuv error (the slot is then still the
 * caller's).
 */
int action_mail_send(struct action_procs *procs, struct action_limit *limit,
    const char *sendmail, const char *msg, size_t len);

#endif /* WRAPD_ACTION_MAIL_H */
