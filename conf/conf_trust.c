/*
 * conf_trust.c - StrictModes for wrapd's configuration and rule files: resolve
 * the path one component at a time, as the kernel does, and look at the
 * owner and mode of every object met on the way.
 *
 * Whatever cannot be looked at (a missing component, a directory that
 * cannot be searched, a link loop) is left to the reader of the file, which
 * fails on it the same way and says so; only a path too long to follow here
 * is refused outright, since it could not be checked.
 */
#include <limits.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "conf_trust.h"

/* The kernel's limit on symbolic links followed in one resolution. */
#define TRUST_LINKS_MAX 40

struct trust_walk {
	uid_t owner;
	char done[PATH_MAX]; /* resolved so far: absolute, no link; "" is "/" */
	char todo[PATH_MAX]; /* what is left to resolve */
	unsigned links;
	char *why;
	size_t whysz;
};

static const char *
conf_trust_kind(mode_t m)
{
	if (S_ISDIR(m))
		return "directory";
	if (S_ISLNK(m))
		return "symbolic link";
	if (S_ISREG(m))
		return "file";
	return "special file";
}

/*
 * "uid 1000 (alice)", or "uid 1000" for a uid without a name.  The _r call:
 * worker threads may look users up meanwhile (the user option).
 */
static void
conf_trust_uid_text(uid_t uid, char *buf, size_t bufsz)
{
	struct passwd pwbuf, *pw = NULL;
	char strings[1024];

	if (getpwuid_r(uid, &pwbuf, strings, sizeof strings, &pw) == 0 &&
	    pw != NULL)
		snprintf(buf, bufsz, "uid %lu (%s)", (unsigned long)uid,
		    pw->pw_name);
	else
		snprintf(buf, bufsz, "uid %lu", (unsigned long)uid);
}

/*
 * One object met on the way.  A directory the path goes on through
 * (as_parent) may be root-owned and sticky: others can add entries there
 * but not replace the ones they do not own.
 */
static int
conf_trust_object(struct trust_walk *tw, const char *name,
    const struct stat *st, bool as_parent)
{
	const char *kind = conf_trust_kind(st->st_mode);
	char who[128], starter[128];

	if (st->st_uid != 0 && st->st_uid != tw->owner) {
		conf_trust_uid_text(st->st_uid, who, sizeof who);
		conf_trust_uid_text(tw->owner, starter, sizeof starter);
		snprintf(tw->why, tw->whysz,
		    "unsafe permissions: %s %s is owned by %s, not by root%s%s",
		    kind, name, who, tw->owner != 0 ? " or by " : "",
		    tw->owner != 0 ? starter : "");
		return -1;
	}
	if (S_ISLNK(st->st_mode))
		return 0; /* a link's own mode bits mean nothing */
	/* Writing to the null device changes nothing anyone reads. */
	if (S_ISCHR(st->st_mode) && st->st_rdev == makedev(1, 3))
		return 0;
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) == 0)
		return 0;
	if (as_parent && S_ISDIR(st->st_mode) && st->st_uid == 0 &&
	    (st->st_mode & S_ISVTX) != 0)
		return 0;
	snprintf(tw->why, tw->whysz,
	    "unsafe permissions: %s %s is writable by %s (mode %04o)", kind,
	    name, (st->st_mode & S_IWOTH) != 0 ? "others" : "its group",
	    (unsigned)(st->st_mode & 07777));
	return -1;
}

static int
conf_trust_too_long(struct trust_walk *tw, const char *path)
{
	snprintf(tw->why, tw->whysz,
	    "unsafe permissions: cannot check %s: the path is too long", path);
	return -1;
}

/*
 * Follow the link cand, whose target is to be resolved before rest, from
 * the directory that holds it (or from / for an absolute target).
 */
static int
conf_trust_follow(struct trust_walk *tw, const char *cand, const char *rest)
{
	char target[PATH_MAX], next[PATH_MAX];
	ssize_t len;

	if (++tw->links > TRUST_LINKS_MAX)
		return 1; /* ELOOP: the reader reports it */
	len = readlink(cand, target, sizeof target - 1);
	if (len < 0)
		return 1;
	target[len] = '\0';
	if ((size_t)snprintf(next, sizeof next, "%s/%s", target, rest) >=
	    sizeof next)
		return conf_trust_too_long(tw, cand);
	memcpy(tw->todo, next, strlen(next) + 1);
	if (target[0] == '/')
		tw->done[0] = '\0';
	return 0;
}

/* 0: checked, all trusted; 1: cannot be resolved; -1: refused (why). */
static int
conf_trust_walk(struct trust_walk *tw)
{
	char comp[NAME_MAX + 1], cand[PATH_MAX];
	const char *rest = tw->todo;
	struct stat st;
	size_t n;
	int rc;

	if (stat("/", &st) != 0)
		return 1;
	if (conf_trust_object(tw, "/", &st, true) != 0)
		return -1;
	for (;;) {
		rest += strspn(rest, "/");
		if (*rest == '\0')
			break;
		n = strcspn(rest, "/");
		if (n > NAME_MAX)
			return 1; /* ENAMETOOLONG: the reader reports it */
		memcpy(comp, rest, n);
		comp[n] = '\0';
		rest += n;
		if (strcmp(comp, ".") == 0)
			continue;
		if (strcmp(comp, "..") == 0) {
			/* done has no links: ".." is its parent, as in the kernel */
			char *slash = strrchr(tw->done, '/');

			if (slash != NULL)
				*slash = '\0';
			continue;
		}
		if ((size_t)snprintf(cand, sizeof cand, "%s/%s", tw->done,
		        comp) >= sizeof cand)
			return conf_trust_too_long(tw, cand);
		if (lstat(cand, &st) != 0)
			return 1;
		if (S_ISLNK(st.st_mode)) {
			/* Its owner could point it elsewhere (in /tmp, say). */
			if (conf_trust_object(tw, cand, &st, false) != 0)
				return -1;
			if ((rc = conf_trust_follow(tw, cand, rest)) != 0)
				return rc;
			rest = tw->todo;
			continue;
		}
		if (rest[strspn(rest, "/")] != '\0' && !S_ISDIR(st.st_mode))
			return 1; /* ENOTDIR: the reader reports it */
		if (conf_trust_object(tw, cand, &st, true) != 0)
			return -1;
		memcpy(tw->done, cand, strlen(cand) + 1);
	}
	/* The object itself, which no sticky bit excuses. */
	if (tw->done[0] == '\0')
		memcpy(tw->done, "/", 2);
	if (lstat(tw->done, &st) != 0)
		return 1;
	return conf_trust_object(tw, tw->done, &st, false);
}

int
conf_trust_path(const char *path, uid_t owner, char *why, size_t whysz)
{
	struct trust_walk tw;
	char cwd[PATH_MAX];
	int n;

	memset(&tw, 0, sizeof(tw));
	tw.owner = owner;
	tw.why = why;
	tw.whysz = whysz;
	if (path[0] == '/')
		n = snprintf(tw.todo, sizeof tw.todo, "%s", path);
	else if (getcwd(cwd, sizeof cwd) != NULL)
		n = snprintf(tw.todo, sizeof tw.todo, "%s/%s", cwd, path);
	else
		return 0; /* no working directory: the reader fails too */
	if (n < 0 || (size_t)n >= sizeof tw.todo)
		return conf_trust_too_long(&tw, path);
	return conf_trust_walk(&tw) < 0 ? -1 : 0;
}

int
conf_trust_vet(void *arg, const char *path, char *why, size_t whysz)
{
	return conf_trust_path(path, *(const uid_t *)arg, why, whysz);
}
