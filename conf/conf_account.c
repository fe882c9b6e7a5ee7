/*
 * conf_account.c - the accounts a service's programs run as
 * (services[].user and services[].group, inetd's user field).
 *
 * Names are looked up here, when the configuration is loaded (start and
 * every reload), never per connection: getpwnam(3) may ask NSS (LDAP,
 * sssd) and block, and the event loops must not.  A name that does not
 * resolve is an error, so a service never runs its program as root by
 * mistake.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "conf_int.h"

/* getpw*_r / getgr*_r buffers start here and double up to the cap. */
#define ACCOUNT_BUF_MIN 4096
#define ACCOUNT_BUF_MAX (1024 * 1024)

enum account_kind {
	ACCOUNT_USER,
	ACCOUNT_GROUP,
};

/* Digits only, fitting an id_t and not (id_t)-1: "1000", not "-1". */
static bool
conf_account_numeric(const char *s, unsigned long *id)
{
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	*id = strtoul(s, &end, 10);
	return errno == 0 && *end == '\0' && (uid_t)*id == *id &&
	    (uid_t)*id != (uid_t)-1;
}

/* One look-up by name, then by number; 0, ENOENT, or an NSS errno. */
static int
conf_account_try(enum account_kind kind, const char *name, char *buf,
    size_t len, uid_t *uid, gid_t *gid)
{
	struct passwd pw, *pwp = NULL;
	struct group gr, *grp = NULL;
	unsigned long id;
	int rc;

	if (kind == ACCOUNT_USER) {
		rc = getpwnam_r(name, &pw, buf, len, &pwp);
		if (rc == 0 && pwp == NULL && conf_account_numeric(name, &id))
			rc = getpwuid_r((uid_t)id, &pw, buf, len, &pwp);
		if (rc == 0 && pwp != NULL) {
			*uid = pwp->pw_uid;
			*gid = pwp->pw_gid;
		}
		return rc != 0 ? rc : pwp == NULL ? ENOENT : 0;
	}
	rc = getgrnam_r(name, &gr, buf, len, &grp);
	if (rc == 0 && grp == NULL && conf_account_numeric(name, &id))
		rc = getgrgid_r((gid_t)id, &gr, buf, len, &grp);
	if (rc == 0 && grp != NULL)
		*gid = grp->gr_gid;
	return rc != 0 ? rc : grp == NULL ? ENOENT : 0;
}

static int
conf_account_lookup(
    enum account_kind kind, const char *name, uid_t *uid, gid_t *gid)
{
	size_t len;
	char *buf;
	int rc = ENOMEM;

	for (len = ACCOUNT_BUF_MIN; len <= ACCOUNT_BUF_MAX; len *= 2) {
		if ((buf = malloc(len)) == NULL)
			return ENOMEM;
		rc = conf_account_try(kind, name, buf, len, uid, gid);
		free(buf);
		if (rc != ERANGE)
			break;
	}
	return rc;
}

int
conf__lookup_user(const char *name, uid_t *uid, gid_t *gid)
{
	return conf_account_lookup(ACCOUNT_USER, name, uid, gid);
}

static const char *
conf_account_why(int rc, enum account_kind kind)
{
	if (rc == 0)
		return NULL;
	if (rc == ENOENT || rc == ESRCH || rc == EBADF || rc == EPERM)
		return kind == ACCOUNT_USER ? "no such user" : "no such group";
	return kind == ACCOUNT_USER ? "the user database cannot be read"
	                            : "the group database cannot be read";
}

/*
 * The name's syntax, then the look-up: NULL and the ids (where uid and
 * gid point, if they do), or why not.
 */
static const char *
conf_account_find(enum account_kind kind, const char *s, uid_t *uid, gid_t *gid)
{
	const char *why;
	uid_t u;
	gid_t g;

	if ((why = conf__check_user(s, strlen(s))) != NULL)
		return why;
	return conf_account_why(
	    conf_account_lookup(kind, s, uid ? uid : &u, gid ? gid : &g), kind);
}

/* Schema checks: the walk has refused NUL bytes, so s is all of it. */
const char *
conf__check_account_user(const char *s, size_t len)
{
	return len > 0 ? conf_account_find(ACCOUNT_USER, s, NULL, NULL)
	               : conf__check_user(s, len);
}

const char *
conf__check_account_group(const char *s, size_t len)
{
	return len > 0 ? conf_account_find(ACCOUNT_GROUP, s, NULL, NULL)
	               : conf__check_user(s, len);
}

/* s->user and s->group to ids, or an error at the service. */
static void
conf_account_resolve(struct conf_ctx *cx, struct conf_service *s)
{
	const char *name = s->name ? s->name : "?", *why;
	uid_t uid = 0;
	gid_t gid = 0;

	s->has_uid = s->has_gid = false;
	if (s->user == NULL) {
		if (s->group != NULL)
			conf__err(cx, s->line, s->col,
			    "service \"%s\": group \"%s\" needs a user: the "
			    "account its programs run as",
			    name, s->group);
		return;
	}
	why = conf_account_find(ACCOUNT_USER, s->user, &uid, &gid);
	if (why == NULL && s->group != NULL)
		why = conf_account_find(ACCOUNT_GROUP, s->group, &uid, &gid);
	if (why != NULL) {
		conf__err(cx, s->line, s->col,
		    "service \"%s\": user \"%s\"%s%s: %s", name, s->user,
		    s->group ? " group " : "", s->group ? s->group : "", why);
		return;
	}
	s->uid = uid;
	s->gid = gid;
	s->has_uid = s->has_gid = true;
}

/*
 * A wrapd that drops to the top-level user can no longer switch to any
 * other account: a service asking for one could only fail per connection.
 */
static void
conf_account_check_drop(struct conf_ctx *cx, const struct wrapd_conf *c,
    const struct conf_service *s)
{
	uid_t uid;
	gid_t gid;

	if (c->user == NULL || !s->has_uid ||
	    conf_account_lookup(ACCOUNT_USER, c->user, &uid, &gid) != 0)
		return; /* no drop, or privdrop() reports the bad user */
	if (s->uid == uid && s->gid == gid)
		return;
	conf__err(cx, s->line, s->col,
	    "service \"%s\": its programs run as user \"%s\"%s%s, but wrapd "
	    "itself drops to user \"%s\" (user:) and then cannot switch to "
	    "another account; remove one of them",
	    s->name ? s->name : "?", s->user, s->group ? " group " : "",
	    s->group ? s->group : "", c->user);
}

void
conf__resolve_accounts(struct conf_ctx *cx, struct wrapd_conf *c)
{
	for (size_t i = 0; i < c->nservices && !cx->full; i++) {
		conf_account_resolve(cx, &c->services[i]);
		conf_account_check_drop(cx, c, &c->services[i]);
	}
}
