/*
 * control_client.h - the client side of the control socket, shared by
 * `wrapd bans` and `wrapd status` (cmd_bans.c, cmd_status.c).  No libuv.
 *
 * The socket is the one --control names, else the `control` of the
 * configuration (--config, else /etc/wrapd/wrapd.yaml when it exists),
 * else CONF_DEFAULT_CONTROL.  A socket someone other than root (or the
 * user running the command) could have put there is refused
 * (conf_trust.h).  The response is read with bounds (CONTROL_RESP_MAX,
 * CONTROL_CLIENT_WAIT_MS) and every record checked before anything is
 * printed; values reach the terminal escaped (log_buf_kv_str) and JSON
 * through json.c.
 */
#ifndef WRAPD_CONTROL_CLIENT_H
#define WRAPD_CONTROL_CLIENT_H

#include <stdbool.h>

#include "control_proto.h"

#define CONTROL_CLIENT_WAIT_MS 10000

/* How --json groups the records: type -> member, an array or one object. */
struct control_client_json {
	const char *type;
	const char *member;
	bool array;
};

struct control_client_cmd {
	const char *name; /* "bans" */
	enum control_cmd cmd;
	const struct control_client_json *json; /* ends with type NULL */
};

/* The whole subcommand: argv[0] is its name.  Exit 0, 1 (error), 2 (usage). */
int control_client_main(
    const struct control_client_cmd *cc, int argc, char **argv);

#endif /* WRAPD_CONTROL_CLIENT_H */
