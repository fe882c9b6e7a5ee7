/* cmd_match.c - placeholder until the subcommand lands. */
#include <stdio.h>

#include "commands.h"

int
cmd_match(int argc, char **argv)
{
	(void)argc;
	fprintf(stderr, "%s: not implemented yet\n", argv[0]);
	return 2;
}
