/*
 * cli_nolibuv.c - `wrapd check` and `wrapd match` linked with wrapd_cli
 * alone: the command-line tools need no libuv (the link fails if they ever
 * do), and run as the real binary's subcommands do.
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
	return 2;
}
