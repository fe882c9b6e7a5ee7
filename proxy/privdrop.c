/*
 * privdrop.c - drop root for good.
 */
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "privdrop.h"

/*
 * After setuid(): keep CAP_NET_ADMIN alone, permitted and effective, for
 * transparent sockets (transparent.h), and nothing inheritable, so the
 * programs wrapd starts get none.  Threads created later (the workers,
 * libuv's pool) inherit it.  0, or -1 with the reason logged.
 */
static int
privdrop_keep_net_admin(void)
{
	struct __user_cap_header_struct hdr = {
	    .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct data[2] = {{0}};

	data[CAP_TO_INDEX(CAP_NET_ADMIN)].permitted =
	    CAP_TO_MASK(CAP_NET_ADMIN);
	data[CAP_TO_INDEX(CAP_NET_ADMIN)].effective =
	    CAP_TO_MASK(CAP_NET_ADMIN);
	if (syscall(SYS_capset, &hdr, data) < 0) {
		log_warn("cannot keep CAP_NET_ADMIN for transparent mode");
		return -1;
	}
	(void)prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
	return 0;
}

int
privdrop(const char *user, bool keep_net_admin)
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
	if (keep_net_admin && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) {
		log_warn("user %s: cannot keep capabilities", user);
		return -1;
	}
	if (setgid(pw->pw_gid) < 0 || initgroups(pw->pw_name, pw->pw_gid) < 0 ||
	    setuid(pw->pw_uid) < 0) {
		log_warn("user %s: cannot switch", user);
		return -1;
	}
	if (keep_net_admin && privdrop_keep_net_admin() < 0)
		return -1;
	/* Paranoia: a process that can get root back has not dropped it. */
	if (pw->pw_uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
		log_errx("user %s: could regain root after dropping it", user);
		return -1;
	}
	log_info("running as user %s (uid %lu, gid %lu)%s", pw->pw_name,
	    (unsigned long)pw->pw_uid, (unsigned long)pw->pw_gid,
	    keep_net_admin ? ", keeping CAP_NET_ADMIN for transparent mode"
	                   : "");
	return 0;
}
