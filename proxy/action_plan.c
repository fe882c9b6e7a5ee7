/*
 * action_plan.c - a rule's options, in order, as the steps they will take.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "action_plan.h"
#include "action_text.h"

extern char **environ;

/* ------------------------------------------------------------------ */
/* Environments. */

char **
action_plan_env_build(char *const *adds, size_t nadds)
{
	size_t n = 0, i, j, k = 0, nl;
	char **env;

	while (environ != NULL && environ[n] != NULL)
		n++;
	if ((env = calloc(n + nadds + 1, sizeof(*env))) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		const char *eq = strchr(environ[i], '=');
		bool replaced = false;

		nl = eq ? (size_t)(eq - environ[i]) : strlen(environ[i]);
		for (j = 0; j < nadds && !replaced; j++)
			replaced = strncmp(adds[j], environ[i], nl) == 0 &&
			    adds[j][nl] == '=';
		if (!replaced && (env[k++] = strdup(environ[i])) == NULL)
			goto fail;
	}
	for (j = 0; j < nadds; j++) {
		/* A later setenv of the same name wins, as setenv(3) would. */
		const char *eq = strchr(adds[j], '=');
		bool later = false;

		nl = (size_t)(eq - adds[j]);
		for (i = j + 1; i < nadds && !later; i++)
			later = strncmp(adds[i], adds[j], nl + 1) == 0;
		if (!later && (env[k++] = strdup(adds[j])) == NULL)
			goto fail;
	}
	return env;
fail:
	action_plan_env_free(env);
	return NULL;
}

void
action_plan_env_free(char **env)
{
	size_t i;

	if (env == NULL)
		return;
	for (i = 0; env[i] != NULL; i++)
		free(env[i]);
	free(env);
}

/* ------------------------------------------------------------------ */
/* Banner files. */

int
action_plan_banner_load(const char *dir, const char *daemon, char *path,
    size_t pathsz, char **data, size_t *len)
{
	struct stat st;
	ssize_t n;
	char *b;
	int fd;

	*data = NULL;
	*len = 0;
	snprintf(path, pathsz, "%s/%s", dir != NULL ? dir : "",
	    daemon != NULL ? daemon : "");
	/* The daemon name is a file name in dir, never a path. */
	if (dir == NULL || daemon == NULL || strchr(daemon, '/') != NULL ||
	    strcmp(daemon, "..") == 0)
		return 1;
	if ((size_t)snprintf(path, pathsz, "%s/%s", dir, daemon) >= pathsz) {
		errno = ENAMETOOLONG;
		return -1;
	}
	/* O_NONBLOCK: a FIFO put there must not hang the caller. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0)
		return errno == ENOENT ? 1 : -1;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		errno = EINVAL; /* not a regular file: nothing sent */
		return -1;
	}
	if ((b = malloc(ACTION_BANNER_MAX)) == NULL) {
		close(fd);
		return -1;
	}
	while (*len < ACTION_BANNER_MAX &&
	    (n = read(fd, b + *len, ACTION_BANNER_MAX - *len)) > 0)
		*len += (size_t)n;
	close(fd);
	*data = b;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Building a plan. */

struct plan_ctx {
	struct action_plan *p;
	const struct acl_request *req;
	const struct acl_rule *rule;
	struct action_settings set; /* in force at the current option */
	char *buf;                  /* ACL_EXPAND_MAX */
	bool failed;                /* an option failed: stop */
	bool oom;
};

static void *
action_plan_grow(void *v, size_t n, size_t size, bool *oom)
{
	void *nv = realloc(v, (n + 1) * size);

	if (nv == NULL)
		*oom = true;
	return nv;
}

static void
action_plan_note(
    struct plan_ctx *pc, int prio, enum acl_opt_kind opt, const char *text)
{
	struct action_plan *p = pc->p;
	struct action_note *nv;

	if ((nv = action_plan_grow(
	         p->notes, p->nnotes, sizeof(*nv), &pc->oom)) == NULL)
		return;
	p->notes = nv;
	nv[p->nnotes].prio = prio;
	nv[p->nnotes].opt = opt;
	if ((nv[p->nnotes].text = strdup(text)) == NULL) {
		pc->oom = true;
		return;
	}
	p->nnotes++;
}

/* An option failed: libwrap denies and runs nothing after it. */
static void
action_plan_fail(struct plan_ctx *pc, const struct acl_option *o,
    const char *reason, const char *note)
{
	pc->failed = true;
	pc->p->verdict = ACL_DENY;
	pc->p->reason = reason;
	pc->p->failed = o;
	if (note != NULL)
		action_plan_note(pc, LOG_WARNING, o->kind, note);
}

/* Append a step taking over text (malloc'd, or NULL). */
static struct action_step *
action_plan_step(struct plan_ctx *pc, enum action_step_kind kind,
    const struct acl_option *o, char *text, size_t len)
{
	struct action_plan *p = pc->p;
	struct action_step *nv, *st;

	if ((nv = action_plan_grow(
	         p->steps, p->nsteps, sizeof(*nv), &pc->oom)) == NULL) {
		free(text);
		return NULL;
	}
	p->steps = nv;
	st = &nv[p->nsteps++];
	memset(st, 0, sizeof(*st));
	st->kind = kind;
	st->opt = o;
	st->text = text;
	st->len = len;
	st->set = pc->set;
	return st;
}

/*
 * Expand an option value into pc->buf.  false when it cannot be: libwrap
 * exits on an expansion that does not fit, so the client is not served;
 * here the connection is denied (fail closed).
 */
static bool
action_plan_expand(struct plan_ctx *pc, const struct acl_option *o)
{
	int rc = acl_expand(
	    o->value ? o->value : "", pc->req, pc->buf, ACL_EXPAND_MAX);

	if (rc == ACL_DONE)
		return true;
	action_plan_fail(pc, o,
	    rc == -1 ? "expansion too long" : "expansion failed",
	    rc == -1 ? "expansion too long: denied"
	             : "a fact the expansion needs was not looked up: denied");
	return false;
}

static void
action_plan_command(
    struct plan_ctx *pc, const struct acl_option *o, enum action_step_kind kind)
{
	char *cmd;

	if (!action_plan_expand(pc, o))
		return;
	if ((cmd = strdup(pc->buf)) == NULL) {
		pc->oom = true;
		return;
	}
	(void)action_plan_step(pc, kind, o, cmd, strlen(cmd));
}

/* false: setenv(3) would fail (EINVAL), which denies in libwrap. */
static bool
action_plan_setenv(struct plan_ctx *pc)
{
	struct action_plan *p = pc->p;
	char *s = pc->buf, *name, *val, *e, **nv;
	size_t nl;

	/* Name up to the first blank, value the rest; both trimmed. */
	while (*s == ' ' || *s == '\t')
		s++;
	name = s;
	while (*s != '\0' && *s != ' ' && *s != '\t')
		s++;
	nl = (size_t)(s - name);
	while (*s == ' ' || *s == '\t')
		s++;
	val = s;
	e = val + strlen(val);
	while (e > val && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = '\0';
	if (nl == 0 || memchr(name, '=', nl) != NULL)
		return false;
	if ((nv = action_plan_grow(p->env, p->nenv, sizeof(*nv), &pc->oom)) ==
	    NULL)
		return true; /* out of memory: reported as such */
	p->env = nv;
	if ((nv[p->nenv] = malloc(nl + strlen(val) + 2)) == NULL) {
		pc->oom = true;
		return true;
	}
	memcpy(nv[p->nenv], name, nl);
	nv[p->nenv][nl] = '=';
	strcpy(nv[p->nenv] + nl + 1, val);
	p->nenv++;
	pc->set.nenv = p->nenv;
	return true;
}

/* user NAME[.GROUP] / group NAME; false when a name is unknown. */
static bool
action_plan_account(struct plan_ctx *pc, const struct acl_option *o)
{
	char name[256], *dot, pwbuf[4096];
	struct passwd pw, *pwp = NULL;
	struct group gr, *grp = NULL;

	snprintf(name, sizeof(name), "%s", o->value ? o->value : "");
	if (o->kind == ACL_OPT_GROUP) {
		if (getgrnam_r(name, &gr, pwbuf, sizeof(pwbuf), &grp) != 0 ||
		    grp == NULL)
			return false;
		pc->set.set_gid = true;
		pc->set.gid = grp->gr_gid;
		return true;
	}
	if ((dot = strchr(name, '.')) != NULL)
		*dot++ = '\0';
	if (getpwnam_r(name, &pw, pwbuf, sizeof(pwbuf), &pwp) != 0 ||
	    pwp == NULL)
		return false;
	pc->set.set_uid = true;
	pc->set.uid = pwp->pw_uid;
	pc->set.set_gid = true;
	pc->set.gid = pwp->pw_gid;
	if (dot != NULL) {
		if (getgrnam_r(dot, &gr, pwbuf, sizeof(pwbuf), &grp) != 0 ||
		    grp == NULL)
			return false;
		pc->set.gid = grp->gr_gid;
	}
	return true;
}

/*
 * banners DIR: the rendered file, or nothing with a note; never a deny
 * (libwrap's).  The step is there either way, with the file's path.
 */
static void
action_plan_banner(struct plan_ctx *pc, const struct acl_option *o)
{
	char path[PATH_MAX], note[PATH_MAX + 64], *data = NULL, *out = NULL;
	size_t len = 0, outlen = 0;
	struct action_step *st;
	int rc;

	rc = action_plan_banner_load(
	    o->value, pc->req->daemon, path, sizeof(path), &data, &len);
	if (rc < 0) {
		snprintf(note, sizeof(note), "%s: %s", path,
		    errno == EINVAL ? "not a regular file" : strerror(errno));
		action_plan_note(pc, LOG_WARNING, o->kind, note);
	} else if (rc == 0) {
		rc = action_text_banner_render(
		    data, len, pc->req, &out, &outlen);
		if (rc == -1)
			pc->oom = true;
		else if (rc != ACL_DONE)
			action_plan_note(pc, LOG_WARNING, o->kind,
			    "a fact the banner needs was not looked up");
	}
	free(data);
	if ((st = action_plan_step(pc, ACTION_STEP_SEND, o, out, outlen)) !=
	        NULL &&
	    (st->path = strdup(path)) == NULL)
		pc->oom = true;
}

/* How many options run: those before an option error, as in libwrap. */
static size_t
action_plan_nopts(const struct acl_rule *r)
{
	size_t i;

	if (r->opt_error == NULL)
		return r->nopts;
	for (i = 0; i < r->nopts; i++)
		if (r->opt_error_col != 0 && r->opts[i].col >= r->opt_error_col)
			break;
	return i;
}

static void
action_plan_option(struct plan_ctx *pc, const struct acl_option *o)
{
	char *text;

	switch (o->kind) {
	case ACL_OPT_ALLOW:
	case ACL_OPT_DENY:
	case ACL_OPT_RFC931: /* the user was looked up before */
		break;
	case ACL_OPT_SPAWN:
		action_plan_command(pc, o, ACTION_STEP_SPAWN);
		break;
	case ACL_OPT_ACLEXEC:
		action_plan_command(pc, o, ACTION_STEP_ACLEXEC);
		break;
	case ACL_OPT_TWIST:
		action_plan_command(pc, o, ACTION_STEP_TWIST);
		break;
	case ACL_OPT_BANNERS:
		action_plan_banner(pc, o);
		break;
	case ACL_OPT_SETENV:
		if (!action_plan_expand(pc, o))
			break;
		if ((text = strdup(pc->buf)) == NULL) {
			pc->oom = true;
			break;
		}
		(void)action_plan_step(
		    pc, ACTION_STEP_SETENV, o, text, strlen(text));
		if (!action_plan_setenv(pc))
			action_plan_fail(pc, o, "setenv failed", NULL);
		break;
	case ACL_OPT_UMASK:
		pc->set.umask = (int)(o->num & 0777);
		break;
	case ACL_OPT_NICE:
		pc->set.nice = (int)o->num; /* acl: 10 by default */
		break;
	case ACL_OPT_USER:
	case ACL_OPT_GROUP:
		if (!action_plan_account(pc, o))
			action_plan_fail(pc, o,
			    o->kind == ACL_OPT_USER ? "unknown user"
			                            : "unknown group",
			    NULL);
		break;
	case ACL_OPT_KEEPALIVE:
		(void)action_plan_step(pc, ACTION_STEP_KEEPALIVE, o, NULL, 0);
		break;
	case ACL_OPT_LINGER:
		/*
		 * Validated (a bad value is an option error) but not set.
		 * On Linux, SO_LINGER with a timeout changes one thing:
		 * close() then waits until the peer has acknowledged what is
		 * queued, even on a non-blocking socket; without it the
		 * kernel delivers the same bytes after close() returns.  In
		 * wrapd that close() would freeze every connection of the
		 * worker while one client does not read (wrapd-rules(5),
		 * DIFFERENCES FROM LIBWRAP).
		 */
		action_plan_note(
		    pc, LOG_DEBUG, o->kind, "not set: closes never wait");
		break;
	case ACL_OPT_SEVERITY:
		pc->p->severity = o->severity;
		break;
	}
}

static bool
action_plan_has_twist(const struct action_plan *p)
{
	return p->nsteps > 0 &&
	    p->steps[p->nsteps - 1].kind == ACTION_STEP_TWIST;
}

int
action_plan_build(const struct acl_decision *d, const struct acl_request *req,
    const struct action_settings *base, struct action_plan *p)
{
	const struct acl_rule *r = d->rule;
	struct plan_ctx pc;
	size_t i, n;
	enum acl_opt_kind last;

	memset(p, 0, sizeof(*p));
	p->verdict = d->verdict;
	p->severity = -1;
	if (r == NULL)
		return 0;
	memset(&pc, 0, sizeof(pc));
	pc.p = p;
	pc.req = req;
	pc.rule = r;
	pc.set.umask = -1;
	if (base != NULL) {
		pc.set = *base;
		pc.set.nenv = 0;
	}
	if (r->nopts > 0 && (pc.buf = malloc(ACL_EXPAND_MAX)) == NULL)
		pc.oom = true;
	n = action_plan_nopts(r);
	for (i = 0; i < n && !pc.failed && !pc.oom; i++)
		action_plan_option(&pc, &r->opts[i]);
	free(pc.buf);
	if (pc.oom) {
		p->verdict = ACL_DENY;
		p->reason = "out of memory";
		return -1;
	}
	if (!pc.failed && r->opt_error != NULL && !action_plan_has_twist(p)) {
		/* libwrap ran the options before the bad one, then denied. */
		p->verdict = ACL_DENY;
		p->reason = r->opt_error;
	}
	if (n == r->nopts && r->nopts > 0) {
		last = r->opts[r->nopts - 1].kind;
		p->keyword = last == ACL_OPT_ALLOW || last == ACL_OPT_DENY;
	}
	return 0;
}

void
action_plan_free(struct action_plan *p)
{
	size_t i;

	for (i = 0; i < p->nsteps; i++) {
		free(p->steps[i].text);
		free(p->steps[i].path);
	}
	free(p->steps);
	for (i = 0; i < p->nenv; i++)
		free(p->env[i]);
	free(p->env);
	for (i = 0; i < p->nnotes; i++)
		free(p->notes[i].text);
	free(p->notes);
	memset(p, 0, sizeof(*p));
}

unsigned
action_plan_needs(
    const struct acl_rule *r, const char *daemon, uint64_t *ident_timeout_ms)
{
	unsigned needs = r->opt_needs;
	char path[PATH_MAX], *data;
	size_t i, len;

	for (i = 0; i < r->nopts; i++) {
		const struct acl_option *o = &r->opts[i];

		if (o->kind == ACL_OPT_RFC931) {
			needs |= ACL_NEEDS_USER;
			if (o->num > 0 && ident_timeout_ms != NULL)
				*ident_timeout_ms = (uint64_t)o->num * 1000u;
		} else if (o->kind == ACL_OPT_BANNERS) {
			if (action_plan_banner_load(o->value, daemon, path,
			        sizeof(path), &data, &len) == 0) {
				needs |= action_text_banner_needs(data, len);
				free(data);
			}
		} else if (o->kind == ACL_OPT_SPAWN ||
		    o->kind == ACL_OPT_TWIST || o->kind == ACL_OPT_ACLEXEC ||
		    o->kind == ACL_OPT_SETENV) {
			/* Cheap, and right even if opt_needs was not filled. */
			needs |= acl_expand_needs(o->value ? o->value : "");
		}
	}
	return needs;
}
