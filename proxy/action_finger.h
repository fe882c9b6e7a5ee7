/*
 * action_finger.h - the built-in `finger: true` of on_deny: one RFC 1288
 * query to the client host, bounded in time and size, its answer cleaned as
 * safe_finger(8) cleans it.  The answer only ever goes into a mail body
 * (through a pipe), never onto a command line.
 */
#ifndef WRAPD_ACTION_FINGER_H
#define WRAPD_ACTION_FINGER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#define ACTION_FINGER_PORT       79
#define ACTION_FINGER_MAX        (64 * 1024) /* bytes read at most */
#define ACTION_FINGER_TIMEOUT_MS 10000       /* connect + answer */

struct action_finger;

/*
 * text: the cleaned answer (NUL-terminated, maybe empty; a partial answer
 * when the deadline or the byte limit cut it), or NULL with err saying why
 * there is none ("connection refused", "timed out").  Valid only during the
 * callback.
 */
typedef void (*action_finger_cb)(void *arg, const char *text, const char *err);

/*
 * Query client (its port is replaced by port) with "query\r\n" (an empty
 * query lists the users logged in, what `finger @host` asks).  local, if
 * not NULL, is bound first (port 0) so the query leaves from the address
 * the client connected to.  The callback runs exactly once unless
 * cancelled.  NULL on ENOMEM or an unsupported address family.
 */
struct action_finger *action_finger_start(uv_loop_t *loop,
    const struct sockaddr *client, const struct sockaddr *local, unsigned port,
    const char *query, uint64_t timeout_ms, size_t max, action_finger_cb cb,
    void *arg);
/* No callback; everything is freed once the handles are closed. */
void action_finger_cancel(struct action_finger *f);

#endif /* WRAPD_ACTION_FINGER_H */
