/*
 * cmd_status.c - `wrapd status`: the running wrapd's services, listeners,
 * connections in flight and counters, over its control socket
 * (control_client.c); SIGUSR1 logs the same, but the connections.
 *
 * --json: {"wrapd":{...},"services":[...],"listeners":[...],
 *          "connections":[...],"conns":{...}}.
 * Exit 0, 1 (no wrapd, not root, a bad answer), 2 (usage).
 */
#include <stddef.h>

#include "commands.h"
#include "control_client.h"

static const struct control_client_json cmd_status_json[] = {
    {"wrapd", "wrapd", false},
    {"service", "services", true},
    {"listener", "listeners", true},
    {"conn", "connections", true},
    {"conns", "conns", false},
    {NULL, NULL, false},
};

int
cmd_status(int argc, char **argv)
{
	static const struct control_client_cmd cc = {
	    .name = "status",
	    .cmd = CONTROL_CMD_STATUS,
	    .json = cmd_status_json,
	};

	return control_client_main(&cc, argc, argv);
}
