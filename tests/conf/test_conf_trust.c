/*
 * test_trust.c - conf_trust_path(): who may own and write the files wrapd takes
 * its configuration and rules from, and everything on the way to them
 * (directories, symbolic links followed as the kernel follows them).
 *
 * Everything is built in a private directory under /tmp; the cases that
 * need a file owned by someone else run only as root.
 */
#include <fcntl.h>
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf_trust.h"

static char top[64];

/* top/rel, in a static buffer per slot. */
static const char *
at(int slot, const char *rel)
{
	static char paths[4][256];

	snprintf(paths[slot], sizeof paths[slot], "%s/%s", top, rel);
	return paths[slot];
}

static void
mk_dir(const char *rel, mode_t mode)
{
	assert_int_equal(mkdir(at(0, rel), 0700), 0);
	assert_int_equal(chmod(at(0, rel), mode), 0);
}

static void
mk_file(const char *rel, mode_t mode)
{
	int fd = open(at(0, rel), O_WRONLY | O_CREAT | O_EXCL, 0600);

	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(chmod(at(0, rel), mode), 0);
}

static void
mk_link(const char *rel, const char *target)
{
	assert_int_equal(symlink(target, at(0, rel)), 0);
}

/* conf_trust_path(path) as the current user: 0, or -1 and why contains text. */
static void
expect(const char *path, int rc, const char *text)
{
	char why[512] = "";
	int got = conf_trust_path(path, geteuid(), why, sizeof why);

	if (got != rc || (text != NULL && strstr(why, text) == NULL))
		fail_msg("%s: got %d \"%s\", want %d \"%s\"", path, got, why,
		    rc, text != NULL ? text : "");
}

static int
setup(void **state)
{
	(void)state;
	umask(022);
	snprintf(top, sizeof top, "/tmp/wrapd-trust-XXXXXX");
	assert_non_null(mkdtemp(top));
	mk_dir("ok", 0755);
	mk_file("ok/file", 0644);
	mk_file("ok/gw", 0664);
	mk_file("ok/ww", 0646);
	mk_dir("gwdir", 0775);
	mk_file("gwdir/file", 0644);
	mk_dir("sticky", 01777);
	mk_file("sticky/file", 0644);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", top);
	return system(cmd) == 0 ? 0 : -1;
}

static void
test_modes(void **state)
{
	char why[16];

	(void)state;
	expect(at(1, "ok/file"), 0, NULL);
	expect(at(1, "ok"), 0, NULL);
	expect(at(1, "ok/gw"), -1, "is writable by its group (mode 0664)");
	expect(at(1, "ok/ww"), -1, "is writable by others (mode 0646)");
	/* A parent directory, named in the reason. */
	expect(at(1, "gwdir/file"), -1, "writable by its group (mode 0775)");
	expect(at(1, "gwdir/file"), -1, at(2, "gwdir is writable"));
	/* A root-owned sticky directory is fine above the file ... */
	if (geteuid() == 0)
		expect(at(1, "sticky/file"), 0, NULL);
	/* ... but not as the object itself (a banners directory). */
	expect(at(1, "sticky"), -1, "writable by others (mode 1777)");
	/* What cannot be resolved is the reader's to report. */
	expect(at(1, "ok/missing"), 0, NULL);
	expect(at(1, "ok/file/below"), 0, NULL);
	/* A short reason buffer is cut, not overrun. */
	assert_int_equal(conf_trust_path(at(1, "ok/ww"), geteuid(), why, 8), -1);
	assert_int_equal(strlen(why), 7);
}

static void
test_links(void **state)
{
	(void)state;
	/* What a link resolves to is checked ... */
	mk_link("ok/to-ww", "ww");
	expect(at(1, "ok/to-ww"), -1, at(2, "ok/ww is writable by others"));
	mk_link("ok/to-good", "../ok/./file");
	expect(at(1, "ok/to-good"), 0, NULL);
	/* Every directory the path names counts, even one left by "..". */
	mk_link("ok/via-gwdir", "../gwdir/../ok/file");
	expect(at(1, "ok/via-gwdir"), -1, at(2, "gwdir is writable"));
	/* ... and so is the directory that holds the link. */
	mk_link("gwdir/to-good", "../ok/file");
	expect(at(1, "gwdir/to-good"), -1, at(2, "gwdir is writable"));
	/* Every link of a chain: the middle one sits in gwdir. */
	mk_link("ok/chain", "../gwdir/to-good");
	expect(at(1, "ok/chain"), -1, at(2, "gwdir is writable"));
	/* Absolute targets, links to directories. */
	mk_link("ok/abs", at(1, "ok/file"));
	expect(at(1, "ok/abs"), 0, NULL);
	mk_link("ok/dirlink", at(1, "gwdir"));
	expect(at(1, "ok/dirlink/file"), -1, at(2, "gwdir is writable"));
	/* A loop cannot be resolved: the reader reports it. */
	mk_link("ok/loop", "loop");
	expect(at(1, "ok/loop"), 0, NULL);
}

static void
test_relative(void **state)
{
	char cwd[4096];

	(void)state;
	assert_non_null(getcwd(cwd, sizeof cwd));
	assert_int_equal(chdir(at(0, "ok")), 0);
	expect("file", 0, NULL);
	expect("./ww", -1, "ok/ww is writable by others");
	expect("../gwdir/file", -1, "gwdir is writable");
	/* The working directory itself is on the way. */
	assert_int_equal(chdir(at(0, "gwdir")), 0);
	expect("file", -1, "gwdir is writable");
	assert_int_equal(chdir(cwd), 0);
}

static void
test_owner(void **state)
{
	const struct passwd *pw = getpwnam("nobody");
	char why[512];

	(void)state;
	if (geteuid() != 0 || pw == NULL) {
		print_message("skipped: needs root and a user nobody\n");
		return;
	}
	mk_file("ok/nobodys", 0644);
	assert_int_equal(chown(at(0, "ok/nobodys"), pw->pw_uid, -1), 0);
	expect(at(1, "ok/nobodys"), -1, "(nobody), not by root");
	/* Started by nobody: nobody's files are trusted, and root's. */
	assert_int_equal(
	    conf_trust_path(at(1, "ok/nobodys"), pw->pw_uid, why, sizeof why), 0);
	assert_int_equal(
	    conf_trust_path(at(1, "ok/file"), pw->pw_uid, why, sizeof why), 0);
	/* In a sticky directory, a link's owner could repoint it. */
	mk_link("sticky/link", "file");
	assert_int_equal(
	    lchown(at(0, "sticky/link"), pw->pw_uid, (gid_t)-1), 0);
	expect(at(1, "sticky/link"), -1, "symbolic link");
	expect(at(1, "sticky/link"), -1, "(nobody), not by root");
	/* A sticky directory that is not root's is just writable. */
	assert_int_equal(chown(at(0, "sticky"), pw->pw_uid, -1), 0);
	expect(at(1, "sticky/file"), -1, "(nobody), not by root");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_modes),
	    cmocka_unit_test(test_links),
	    cmocka_unit_test(test_relative),
	    cmocka_unit_test(test_owner),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
