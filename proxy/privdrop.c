/*
 * privdrop.c - drop root for good.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <unistd.h>

#include "log.h"
#include "privdrop.h"

int
privdrop(const char *user)
{
	struct passwd *pw;
	char *end;
	unsigned long uid;

	if ((pw = getpwnam(user)) == NULL && *user >= '0' && *user <= '9') {
		/*
		 * A numeric uid: digits only (strtoul would take " 0" or "-1"),
		 * and one that fits uid_t, or "4294967296" would become 0.
		 */
		errno = 0;
		uid = strtoul(user, &end, 10);
		if (errno == 0 && *end == '\0' && (uid_t)uid == uid &&
		    (uid_t)uid != (uid_t)-1)
			pw = getpwuid((uid_t)uid);
	}
	if (pw == NULL) {
		log_errx("user %s: no such user", user);
		return -1;
	}
	if (getuid() == pw->pw_uid && geteuid() == pw->pw_uid)
		return 0; /* already that user: nothing to drop */
	if (setgid(pw->pw_gid) < 0 || initgroups(pw->pw_name, pw->pw_gid) < 0 ||
	    setuid(pw->pw_uid) < 0) {
		log_warn("user %s: cannot switch", user);
		return -1;
	}
	/* Paranoia: a process that can get root back has not dropped it. */
	if (pw->pw_uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
		log_errx("user %s: could regain root after dropping it", user);
		return -1;
	}
	log_info("running as user %s (uid %lu, gid %lu)", pw->pw_name,
	    (unsigned long)pw->pw_uid, (unsigned long)pw->pw_gid);
	return 0;
}
