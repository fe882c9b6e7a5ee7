/* cmd_run.c - placeholder until the subcommand lands. */
#include <stdio.h>

#include "commands.h"

int
cmd_run(int argc, char **argv)
{
	(void)argc;
	fprintf(stderr, "%s: not implemented yet\n", argv[0]);
	return 2;
}
