/*
 * diff_resolve.c - the double-reverse look-up (semantics E2): wrapd's
 * blocking resolver (proxy/cli_resolve.c + acl_verify_name) against
 * libwrap's own sock_hostname(), address by address.
 *
 *   diff_resolve ADDR...
 *
 * Meant to run inside resolve.sh, which gives both a private /etc/hosts
 * (hosts: files only), so no query leaves the machine.
 */
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "acl.h"
#include "cli_resolve.h"

int
main(int argc, char **argv)
{
	const char *helper = getenv("DIFF_ORACLE");
	char cmd[8192], line[512], ours[ACL_STRING_MAX];
	FILE *fp;
	int i, bad = 0, n = 0;
	size_t used;

	if (argc < 2 || helper == NULL) {
		fprintf(stderr,
		    "usage: DIFF_ORACLE=helper diff_resolve "
		    "ADDR...\n");
		return 2;
	}
	/* Addresses are our own test constants: no shell quoting issues. */
	used = (size_t)snprintf(cmd, sizeof(cmd), "'%s' resolve", helper);
	for (i = 1; i < argc && used < sizeof(cmd); i++)
		used += (size_t)snprintf(
		    cmd + used, sizeof(cmd) - used, " %s", argv[i]);
	fp = popen(cmd, "r");
	if (fp == NULL)
		return 2;
	for (i = 1; i < argc; i++) {
		struct addrinfo hints, *res = NULL;

		if (fgets(line, sizeof(line), fp) == NULL) {
			fprintf(
			    stderr, "no answer from libwrap for %s\n", argv[i]);
			bad = 1;
			break;
		}
		line[strcspn(line, "\n")] = '\0';
		memset(&hints, 0, sizeof(hints));
		hints.ai_flags = AI_NUMERICHOST;
		if (getaddrinfo(argv[i], NULL, &hints, &res) != 0) {
			bad = 1;
			continue;
		}
		cli_resolve_name(res->ai_addr, ours, sizeof(ours));
		freeaddrinfo(res);
		n++;
		if (strcmp(line, ours) != 0) {
			printf("MISMATCH %s: libwrap \"%s\", wrapd \"%s\"\n",
			    argv[i], line, ours);
			bad = 1;
		} else {
			printf("ok       %s: \"%s\"\n", argv[i], ours);
		}
	}
	if (pclose(fp) != 0)
		bad = 1;
	printf("# %d addresses compared%s\n", n, bad ? ", MISMATCHES" : "");
	return bad;
}
