/*
 * cmd_import.c - `wrapd import inetd [FILE]` and `wrapd import xinetd
 * [DIR|FILE]`: turn an inetd.conf or xinetd's files into a wrapd.yaml on
 * standard output.
 *
 * What has no equivalent in wrapd is said on standard error, one note per
 * item, as file:line: note: ...  xinetd's only_from and no_access become
 * hosts.allow and hosts.deny lines: printed on standard error, or with
 * --rules DIR written to DIR/hosts.allow and DIR/hosts.deny, new files
 * only (an existing file is never written over), which the wrapd.yaml
 * then names.
 *
 * Exit 0 when at least one service was converted, 1 when none was or an
 * input or output could not be read or written, 2 on usage errors.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "import.h"
#include "import_inetd.h"
#include "import_xinetd.h"

#define IMPORT_INETD_DEFAULT  "/etc/inetd.conf"
#define IMPORT_XINETD_DEFAULT "/etc/xinetd.d"

static void
cmd_import_usage(FILE *fp)
{
	fputs("usage: wrapd import inetd [FILE] [--rules DIR]\n"
	      "       wrapd import xinetd [DIR|FILE] [--rules DIR]\n"
	      "\n"
	      "Writes a wrapd.yaml on standard output with one service per "
	      "TCP service\n"
	      "of " IMPORT_INETD_DEFAULT " (default FILE) or of xinetd's "
	      "files (default DIR\n" IMPORT_XINETD_DEFAULT
	      "; a FILE such as /etc/xinetd.conf has its includedir "
	      "followed).\n"
	      "What has no equivalent is noted on standard error as "
	      "file:line.\n"
	      "\n"
	      "      --rules DIR  write xinetd's only_from/no_access as new "
	      "files\n"
	      "                   DIR/hosts.allow and DIR/hosts.deny (never "
	      "over existing\n"
	      "                   ones) and name them in the wrapd.yaml; "
	      "without it the\n"
	      "                   lines are printed on standard error\n"
	      "  -h, --help       this text\n"
	      "\n"
	      "Exit status: 0 converted, 1 nothing converted or an input "
	      "unreadable,\n"
	      "2 usage error.\n",
	    fp);
}

/* Create path new (O_EXCL: never an existing file); NULL with a message. */
static FILE *
cmd_import_create(const char *path)
{
	int fd = open(
	    path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	FILE *fp;

	if (fd < 0) {
		fprintf(stderr, "wrapd import: %s: %s%s\n", path,
		    strerror(errno),
		    errno == EEXIST ? " (import never writes over a file)"
		                    : "");
		return NULL;
	}
	if ((fp = fdopen(fd, "w")) == NULL)
		close(fd);
	return fp;
}

static int
cmd_import_write_file(
    const char *path, const struct import_set *set, bool allow)
{
	FILE *fp = cmd_import_create(path);
	int rc;

	if (fp == NULL)
		return -1;
	fprintf(fp,
	    "# %s written by wrapd import from xinetd's %s\n"
	    "# (your own rules for these daemons go after these lines)\n",
	    allow ? "hosts.allow" : "hosts.deny",
	    allow ? "only_from, minus no_access" : "only_from and no_access");
	import_write_rules(fp, set, allow);
	rc = fflush(fp) == 0 && !ferror(fp) ? 0 : -1;
	if (fclose(fp) != 0 || rc != 0) {
		fprintf(stderr, "wrapd import: %s: write error\n", path);
		return -1;
	}
	return 0;
}

/* --rules DIR: both files new, or neither left behind. */
static int
cmd_import_rules_files(const char *dir, const struct import_set *set,
    char *allow, char *deny, size_t size)
{
	char real[PATH_MAX];

	if (realpath(dir, real) == NULL) {
		fprintf(stderr, "wrapd import: --rules %s: %s\n", dir,
		    strerror(errno));
		return -1;
	}
	snprintf(allow, size, "%s/hosts.allow", real);
	snprintf(deny, size, "%s/hosts.deny", real);
	if (cmd_import_write_file(allow, set, true) != 0)
		return -1;
	if (cmd_import_write_file(deny, set, false) != 0) {
		unlink(allow);
		return -1;
	}
	return 0;
}

/* Without --rules: the lines on stderr, for the admin to add. */
static void
cmd_import_print_rules(const struct import_set *set)
{
	static const bool which[] = {true, false};
	size_t i;

	for (i = 0; i < 2; i++) {
		bool any = false;

		for (size_t j = 0; j < set->n && !any; j++)
			any = which[i] ? set->v[j].allow != NULL &&
			        set->v[j].allow[0] != '\0'
			               : set->v[j].allow || set->v[j].deny;
		if (!any)
			continue;
		fprintf(stderr,
		    "wrapd import: lines for %s (before other rules for "
		    "these daemons):\n",
		    which[i] ? "/etc/hosts.allow" : "/etc/hosts.deny");
		import_write_rules(stderr, set, which[i]);
	}
}

int
cmd_import(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"rules", required_argument, NULL, 'r'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *rules_dir = NULL, *kind, *path;
	char allow[PATH_MAX + 16], deny[PATH_MAX + 16];
	struct import_set set;
	int c, rc;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'r':
			rules_dir = optarg;
			break;
		case 'h':
			cmd_import_usage(stdout);
			return 0;
		default:
			fprintf(stderr, "wrapd import: bad option %s\n",
			    argv[optind - 1]);
			cmd_import_usage(stderr);
			return 2;
		}
	}
	if (optind >= argc || argc - optind > 2 ||
	    (strcmp(argv[optind], "inetd") != 0 &&
	        strcmp(argv[optind], "xinetd") != 0)) {
		fprintf(stderr,
		    "wrapd import: say inetd or xinetd, and at "
		    "most one path\n");
		cmd_import_usage(stderr);
		return 2;
	}
	kind = argv[optind];
	path = argc - optind == 2        ? argv[optind + 1]
	    : strcmp(kind, "inetd") == 0 ? IMPORT_INETD_DEFAULT
	                                 : IMPORT_XINETD_DEFAULT;
	memset(&set, 0, sizeof set);
	set.notes_fp = stderr;
	if (strcmp(kind, "inetd") == 0)
		import_inetd(&set, path);
	else
		import_xinetd(&set, path);
	if (set.failed || set.n == 0) {
		if (!set.failed)
			fprintf(stderr,
			    "wrapd import: %s: no TCP service to convert\n",
			    path);
		import_set_free(&set);
		return 1;
	}
	rc = 0;
	if (rules_dir != NULL &&
	    cmd_import_rules_files(
	        rules_dir, &set, allow, deny, PATH_MAX + 16) != 0)
		rc = 1;
	if (rc == 0 && rules_dir == NULL)
		cmd_import_print_rules(&set);
	if (rc == 0 &&
	    import_write_yaml(stdout, &set, path, rules_dir ? allow : NULL,
	        rules_dir ? deny : NULL) != 0) {
		fprintf(stderr, "wrapd import: write error on stdout\n");
		rc = 1;
	}
	if (rc == 0)
		fprintf(stderr,
		    "wrapd import: %zu service(s) from %s, %zu note(s)\n",
		    set.n, path, set.notes);
	import_set_free(&set);
	return rc;
}
