/*
 * cmd_bans.c - `wrapd bans`: the bans in force in the running wrapd, read
 * over its control socket (control_client.c).
 *
 * Text: one line per ban, then a summary,
 *   ban service=ssh source=192.0.2.7 remaining_ms=597000 expires=... ...
 *   bans total=1 listed=1
 * --json: {"bans":[{...}],"summary":{"total":1,"listed":1}}.
 * Exit 0, 1 (no wrapd, not root, a bad answer), 2 (usage).
 */
#include <stddef.h>

#include "commands.h"
#include "control_client.h"

static const struct control_client_json cmd_bans_json[] = {
    {"ban", "bans", true},
    {"bans", "summary", false},
    {NULL, NULL, false},
};

int
cmd_bans(int argc, char **argv)
{
	static const struct control_client_cmd cc = {
	    .name = "bans",
	    .cmd = CONTROL_CMD_BANS,
	    .json = cmd_bans_json,
	};

	return control_client_main(&cc, argc, argv);
}
