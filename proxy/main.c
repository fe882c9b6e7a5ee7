/*
 * main.c - entry point of the one `wrapd` executable: dispatch to a
 * subcommand; anything else runs the proxy.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"

/*
 * Started with fd 0, 1 or 2 closed, the first sockets wrapd opens would
 * take those numbers, and a log line for "stderr" would go to a client or
 * a listener.  /dev/null holds the place instead.
 */
static void
main_std_fds(void)
{
	int fd;

	for (fd = 0; fd <= 2; fd++)
		if (fcntl(fd, F_GETFD) < 0 && errno == EBADF &&
		    open("/dev/null", O_RDWR) < 0)
			_exit(1);
}

int
main(int argc, char **argv)
{
	main_std_fds();
	if (argc > 1 && strcmp(argv[1], "check") == 0)
		return cmd_check(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "match") == 0)
		return cmd_match(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "audit") == 0)
		return cmd_audit(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "import") == 0)
		return cmd_import(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "bans") == 0)
		return cmd_bans(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "status") == 0)
		return cmd_status(argc - 1, argv + 1);
	return cmd_run(argc, argv);
}
