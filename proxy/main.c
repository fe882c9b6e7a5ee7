/*
 * main.c - entry point of the one `wrapd` executable: dispatch to a
 * subcommand; anything else runs the proxy.
 */
#include <string.h>

#include "commands.h"

int
main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "check") == 0)
		return cmd_check(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "match") == 0)
		return cmd_match(argc - 1, argv + 1);
	return cmd_run(argc, argv);
}
