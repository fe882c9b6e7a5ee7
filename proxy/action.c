/*
 * action.c - run a decided connection's rule options and on_deny actions.
 *
 * Per worker thread there is one context (thread-local: a worker thread
 * runs exactly one loop) holding the loop's running commands, finger
 * queries and the timer that logs skipped actions.  The limits are one
 * process-wide limiter, so actions.max_running holds across workers.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "action.h"
#include "action_finger.h"
#include "action_limit.h"
#include "action_mail.h"
#include "action_proc.h"
#include "action_text.h"
#include "log.h"

extern char **environ;

/* Defaults when action_configure() was never called (conf's defaults). */
#define DEFAULT_MAX_RUNNING 32

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static struct action_limit *g_limit; /* lives as long as the process */
static char g_sendmail[PATH_MAX] = ACTION_SENDMAIL_DEFAULT;

struct deny_job;
struct action_run;

struct action_ctx {
	struct action_ctx *next; /* this thread's contexts (one per loop) */
	uv_loop_t *loop;
	struct action_procs procs;
	uv_timer_t timer;
	struct deny_job *jobs;
	struct action_run *runs;
};

static _Thread_local struct action_ctx *t_ctx;

/* ------------------------------------------------------------------ */

static struct action_limit *
limit_get(void)
{
	struct action_limit *l;

	pthread_mutex_lock(&g_mu);
	if (g_limit == NULL)
		g_limit = action_limit_new(DEFAULT_MAX_RUNNING, 0, 0, 0);
	l = g_limit;
	pthread_mutex_unlock(&g_mu);
	return l;
}

int
action_configure(const struct conf_actions *ca)
{
	int rc = 0;

	pthread_mutex_lock(&g_mu);
	if (g_limit == NULL) {
		/*
		 * First call, at startup: whatever our parent left open
		 * without O_CLOEXEC (a shell's saved fds, a supervisor's
		 * pipe) must not reach the commands and daemons we start.
		 */
		if (action_proc_seal_fds() < 0)
			log_warn("actions: cannot list /proc/self/fd");
		g_limit = action_limit_new(ca->max_running,
		    ca->per_source_count, ca->per_source_secs, 0);
		if (g_limit == NULL)
			rc = -1;
	} else {
		action_limit_configure(g_limit, ca->max_running,
		    ca->per_source_count, ca->per_source_secs);
	}
	if (g_limit != NULL)
		action_limit_set_mail_rate(
		    g_limit, ca->mail_rate_count, ca->mail_rate_secs);
	snprintf(g_sendmail, sizeof(g_sendmail), "%s",
	    ca->sendmail && *ca->sendmail ? ca->sendmail
	                                  : ACTION_SENDMAIL_DEFAULT);
	pthread_mutex_unlock(&g_mu);
	return rc;
}

static void
sendmail_path(char *buf, size_t sz)
{
	pthread_mutex_lock(&g_mu);
	snprintf(buf, sz, "%s", g_sendmail);
	pthread_mutex_unlock(&g_mu);
}

static void
ctx_on_timer(uv_timer_t *t)
{
	struct action_ctx *ctx = t->data;
	struct action_limit_skips sk;

	if (action_limit_take_skips_due(
	        limit_get(), uv_now(ctx->loop), ACTION_SKIPS_LOG_MS, &sk))
		log_msg(LOG_NOTICE,
		    "actions skipped: %llu over max_running, "
		    "%llu over per_source, %llu over mail_rate",
		    (unsigned long long)sk.over_running,
		    (unsigned long long)sk.over_rate,
		    (unsigned long long)sk.over_mail_rate);
}

static struct action_ctx *
ctx_get(uv_loop_t *loop)
{
	struct action_ctx *ctx;

	for (ctx = t_ctx; ctx != NULL; ctx = ctx->next)
		if (ctx->loop == loop)
			return ctx;
	if ((ctx = calloc(1, sizeof(*ctx))) == NULL)
		return NULL;
	ctx->loop = loop;
	action_procs_init(&ctx->procs, loop);
	uv_timer_init(loop, &ctx->timer);
	ctx->timer.data = ctx;
	uv_timer_start(&ctx->timer, ctx_on_timer, ACTION_SKIPS_LOG_MS,
	    ACTION_SKIPS_LOG_MS);
	uv_unref((uv_handle_t *)&ctx->timer); /* never keeps a loop alive */
	ctx->next = t_ctx;
	t_ctx = ctx;
	return ctx;
}

/* ------------------------------------------------------------------ */
/* Starting commands within the limits. */

enum admit_state {
	ADMIT_UNKNOWN,
	ADMIT_OK,
	ADMIT_REFUSED,
};

/*
 * Take what one command or look-up needs: the connection's per-source
 * token (once per connection's rule run / deny report), for a report mail
 * one token of the process-wide mail rate, and a running slot.  Returns 0,
 * or -1 when skipped (counted by the limiter).
 */
static int
limits_take(struct action_ctx *ctx, const struct acl_request *req,
    enum admit_state *admit, bool mail)
{
	struct action_limit *l = limit_get();
	uint64_t now = uv_now(ctx->loop);

	if (l == NULL)
		return -1;
	if (*admit == ADMIT_UNKNOWN)
		*admit = action_limit_admit(l, &req->client.addr, now)
		    ? ADMIT_OK
		    : ADMIT_REFUSED;
	if (*admit != ADMIT_OK)
		return -1;
	if (mail && !action_limit_admit_mail(l, now))
		return -1;
	return action_limit_take(l) ? 0 : -1;
}

/* environ with NAME=VALUE entries of adds replacing or added. */
static char **
env_build(char *const *adds, size_t nadds)
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
	for (i = 0; env[i] != NULL; i++)
		free(env[i]);
	free(env);
	return NULL;
}

static void
env_free(char **env)
{
	size_t i;

	if (env == NULL)
		return;
	for (i = 0; env[i] != NULL; i++)
		free(env[i]);
	free(env);
}

size_t
action_client_write(int fd, const char *buf, size_t len)
{
	size_t off = 0;
	ssize_t n;

	while (off < len) {
		n = send(fd, buf + off, len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0)
			off += (size_t)n;
		else if (n < 0 && errno == EINTR)
			continue;
		else
			break;
	}
	return off;
}

/* ------------------------------------------------------------------ */
/* A rule's options. */

struct action_run {
	struct action_ctx *ctx;
	struct action_run *next, *prev;
	struct action_conn ac;
	struct acl_request req; /* a copy: ac.req points here */
	struct acl_decision d;
	size_t next_opt, nopts;
	enum admit_state admit;
	struct action_result res;
	bool nomatch;
	bool aborted;
	char **envadd;
	size_t nenvadd;
	struct action_proc *wait; /* aclexec in flight */
	action_rule_cb cb;
	void *arg;
	char *buf; /* ACL_EXPAND_MAX */
};

static void
run_log(
    const struct action_run *r, int prio, const char *what, const char *detail)
{
	log_msg(prio, "conn=%llu actions: %s rule=%s:%u %s",
	    (unsigned long long)r->ac.id, what,
	    r->d.rule ? r->d.rule->file : "-", r->d.rule ? r->d.rule->line : 0,
	    detail ? detail : "");
}

static void
run_abort(struct action_run *r, const char *reason)
{
	r->aborted = true;
	r->res.verdict = ACL_DENY;
	r->res.reason = reason;
}

/*
 * Expand an option value into r->buf.  false (logged) when it cannot be:
 * libwrap exits on an expansion that does not fit, so the client is not
 * served; here the connection is denied (fail closed).
 */
static bool
run_expand(struct action_run *r, const struct acl_option *o)
{
	int rc = acl_expand(
	    o->value ? o->value : "", r->ac.req, r->buf, ACL_EXPAND_MAX);

	if (rc == ACL_DONE)
		return true;
	run_log(r, LOG_WARNING, acl_opt_name(o->kind),
	    rc == -1 ? "expansion too long: denied"
	             : "a fact the expansion needs was not looked up: denied");
	run_abort(r, rc == -1 ? "expansion too long" : "expansion failed");
	return false;
}

static void run_step(struct action_run *r);

static void
run_on_aclexec(void *arg, int exit_status, int term_signal)
{
	struct action_run *r = arg;

	r->wait = NULL;
	if (term_signal != 0) {
		/* Killed (deadline or signal): it said nothing; fail closed. */
		run_abort(r, "aclexec killed");
	} else if (exit_status != 0) {
		/* Any non-zero status, 129-255 too, is its "no match". */
		r->nomatch = true;
	}
	run_step(r);
}

/* Start a shell command for spawn / twist / aclexec. */
static int
run_command(struct action_run *r, const struct acl_option *o, int stdio_fd,
    action_proc_cb cb, struct action_proc **out)
{
	struct action_proc_opts po;
	char **env = NULL;
	int err;

	if (limits_take(r->ctx, r->ac.req, &r->admit, false) != 0)
		return -1;
	memset(&po, 0, sizeof(po));
	po.cmd = r->buf;
	po.stdio_fd = stdio_fd;
	po.umask = r->res.umask;
	po.nice = r->res.nice;
	po.set_uid = r->res.set_uid;
	po.uid = r->res.uid;
	po.set_gid = r->res.set_gid;
	po.gid = r->res.gid;
	po.timeout_ms = o->kind == ACL_OPT_TWIST ? 0 : ACTION_CMD_TIMEOUT_MS;
	po.limit = limit_get();
	if (r->nenvadd > 0) {
		if ((env = env_build(r->envadd, r->nenvadd)) == NULL) {
			action_limit_put(po.limit);
			return -2;
		}
		po.env = env;
	}
	err = action_proc_start(&r->ctx->procs, &po, cb, r, out);
	env_free(env);
	if (err != 0) {
		action_limit_put(po.limit);
		run_log(
		    r, LOG_WARNING, acl_opt_name(o->kind), uv_strerror(err));
		return -2;
	}
	return 0;
}

static void
run_banner(struct action_run *r, const struct acl_option *o)
{
	char path[PATH_MAX], *data = NULL, *out = NULL;
	const char *daemon = r->ac.req->daemon;
	struct stat st;
	size_t len = 0, outlen = 0;
	ssize_t n;
	int fd, rc;

	if (daemon == NULL || strchr(daemon, '/') != NULL ||
	    strcmp(daemon, "..") == 0 || o->value == NULL)
		return;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", o->value, daemon) >=
	    sizeof(path))
		return;
	/* O_NONBLOCK: a FIFO put there must not hang the loop. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0) {
		if (errno != ENOENT)
			run_log(r, LOG_WARNING, "banners", strerror(errno));
		return;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (data = malloc(ACTION_BANNER_MAX)) == NULL) {
		close(fd);
		return;
	}
	while (len < ACTION_BANNER_MAX &&
	    (n = read(fd, data + len, ACTION_BANNER_MAX - len)) > 0)
		len += (size_t)n;
	close(fd);
	rc = action_banner_render(data, len, r->ac.req, &out, &outlen);
	free(data);
	if (rc != ACL_DONE) {
		run_log(r, LOG_WARNING, "banners",
		    rc == -1 ? "out of memory"
		             : "a fact the banner needs was not looked up");
		return;
	}
	if (action_client_write(r->ac.fd, out, outlen) < outlen)
		run_log(r, LOG_WARNING, "banners",
		    "client socket full: banner cut");
	free(out);
}

/* false: setenv(3) would fail (EINVAL), which denies in libwrap. */
static bool
run_setenv(struct action_run *r)
{
	char *p = r->buf, *name, *val, *e, **nv;
	size_t nl;

	/* Name up to the first blank, value the rest; both trimmed. */
	while (*p == ' ' || *p == '\t')
		p++;
	name = p;
	while (*p != '\0' && *p != ' ' && *p != '\t')
		p++;
	nl = (size_t)(p - name);
	while (*p == ' ' || *p == '\t')
		p++;
	val = p;
	e = val + strlen(val);
	while (e > val && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = '\0';
	if (nl == 0 || memchr(name, '=', nl) != NULL)
		return false;
	nv = realloc(r->envadd, (r->nenvadd + 1) * sizeof(*nv));
	if (nv == NULL)
		return false;
	r->envadd = nv;
	if ((nv[r->nenvadd] = malloc(nl + strlen(val) + 2)) == NULL)
		return false;
	memcpy(nv[r->nenvadd], name, nl);
	nv[r->nenvadd][nl] = '=';
	strcpy(nv[r->nenvadd] + nl + 1, val);
	r->nenvadd++;
	return true;
}

static bool
run_user(struct action_run *r, const struct acl_option *o)
{
	char name[256], *dot, pwbuf[4096];
	struct passwd pw, *pwp = NULL;
	struct group gr, *grp = NULL;

	snprintf(name, sizeof(name), "%s", o->value ? o->value : "");
	if (o->kind == ACL_OPT_GROUP) {
		if (getgrnam_r(name, &gr, pwbuf, sizeof(pwbuf), &grp) != 0 ||
		    grp == NULL)
			return false;
		r->res.set_gid = true;
		r->res.gid = grp->gr_gid;
		return true;
	}
	if ((dot = strchr(name, '.')) != NULL)
		*dot++ = '\0';
	if (getpwnam_r(name, &pw, pwbuf, sizeof(pwbuf), &pwp) != 0 ||
	    pwp == NULL)
		return false;
	r->res.set_uid = true;
	r->res.uid = pwp->pw_uid;
	r->res.set_gid = true;
	r->res.gid = pwp->pw_gid;
	if (dot != NULL) {
		if (getgrnam_r(dot, &gr, pwbuf, sizeof(pwbuf), &grp) != 0 ||
		    grp == NULL)
			return false;
		r->res.gid = grp->gr_gid;
	}
	return true;
}

static void
run_sockopt(struct action_run *r, const struct acl_option *o)
{
	int on = 1;

	if (o->kind == ACL_OPT_KEEPALIVE) {
		if (setsockopt(r->ac.fd, SOL_SOCKET, SO_KEEPALIVE, &on,
		        sizeof(on)) != 0)
			run_log(r, LOG_WARNING, "keepalive", strerror(errno));
		return;
	}
	/*
	 * linger N is validated (a bad value denies, as in libwrap) but not
	 * set.  On Linux, SO_LINGER with a timeout changes one thing: close()
	 * then waits until the peer has acknowledged what is queued, even on
	 * a non-blocking socket; without it the kernel delivers the same
	 * bytes after close() returns.  In wrapd that close() would freeze
	 * the worker's every connection for up to N seconds whenever a client
	 * stops reading (wrapd-rules(5), DIFFERENCES FROM LIBWRAP).
	 */
	if (log_enabled(LOG_DEBUG))
		run_log(r, LOG_DEBUG, "linger", "not set: closes never wait");
}

/*
 * An allow or deny keyword (always the last option) decides as libwrap's
 * does: it jumps out with its verdict before a failed aclexec is looked at.
 */
static bool
run_has_keyword(const struct action_run *r)
{
	const struct acl_rule *rule = r->d.rule;
	enum acl_opt_kind k;

	if (rule->nopts == 0 || r->nopts < rule->nopts)
		return false;
	k = rule->opts[rule->nopts - 1].kind;
	return k == ACL_OPT_ALLOW || k == ACL_OPT_DENY;
}

static void
run_finish(struct action_run *r)
{
	if (!r->aborted && r->d.rule->opt_error != NULL && !r->res.twisted) {
		r->res.verdict = ACL_DENY;
		r->res.reason = r->d.rule->opt_error;
	} else if (!r->aborted) {
		if (r->res.twisted) {
			r->res.verdict = ACL_TWIST;
		} else if (r->nomatch && !run_has_keyword(r)) {
			/* Debian's aclexec: the rule did not match after all. */
			if (r->d.table == ACL_TABLE_ALLOW) {
				r->res.rescan = true;
				r->res.verdict = ACL_DENY;
			} else {
				r->res.verdict = ACL_GRANT;
			}
			r->res.reason = "aclexec failed";
		} else if (r->d.verdict == ACL_TWIST) {
			r->res.verdict = ACL_DENY; /* twist did not start */
			r->res.reason = "twist skipped";
		} else {
			r->res.verdict = r->d.verdict;
		}
	}
	if (r->nenvadd > 0 && r->res.verdict == ACL_GRANT)
		r->res.env = env_build(r->envadd, r->nenvadd);
}

static void
run_free(struct action_run *r)
{
	size_t i;

	if (r->prev != NULL)
		r->prev->next = r->next;
	else if (r->ctx != NULL && r->ctx->runs == r)
		r->ctx->runs = r->next;
	if (r->next != NULL)
		r->next->prev = r->prev;
	for (i = 0; i < r->nenvadd; i++)
		free(r->envadd[i]);
	free(r->envadd);
	free(r->buf);
	free(r);
}

/* Run options from r->next_opt until the end or an aclexec to wait for. */
static void
run_step(struct action_run *r)
{
	const struct acl_rule *rule = r->d.rule;
	const struct acl_option *o;
	int rc;

	while (!r->aborted && r->next_opt < r->nopts) {
		o = &rule->opts[r->next_opt++];
		switch (o->kind) {
		case ACL_OPT_ALLOW:
		case ACL_OPT_DENY:
		case ACL_OPT_RFC931: /* the user was looked up before */
			break;
		case ACL_OPT_SPAWN:
			if (run_expand(r, o))
				(void)run_command(r, o, -1, NULL, NULL);
			break;
		case ACL_OPT_ACLEXEC:
			if (!run_expand(r, o))
				break;
			rc = run_command(r, o, -1, run_on_aclexec, &r->wait);
			if (rc != 0) {
				run_abort(r,
				    rc == -1 ? "aclexec skipped"
				             : "aclexec not run");
				break;
			}
			return; /* run_on_aclexec goes on */
		case ACL_OPT_TWIST:
			if (!run_expand(r, o))
				break;
			/* The command reads and writes the socket itself. */
			(void)fcntl(r->ac.fd, F_SETFL,
			    fcntl(r->ac.fd, F_GETFL) & ~O_NONBLOCK);
			if (run_command(r, o, r->ac.fd, NULL, NULL) == 0)
				r->res.twisted = true;
			else
				(void)fcntl(r->ac.fd, F_SETFL,
				    fcntl(r->ac.fd, F_GETFL) | O_NONBLOCK);
			break;
		case ACL_OPT_BANNERS:
			run_banner(r, o);
			break;
		case ACL_OPT_SETENV:
			if (run_expand(r, o) && !run_setenv(r))
				run_abort(r, "setenv failed");
			break;
		case ACL_OPT_UMASK:
			r->res.umask = (int)(o->num & 0777);
			break;
		case ACL_OPT_NICE:
			r->res.nice = (int)o->num; /* acl: 10 by default */
			break;
		case ACL_OPT_USER:
		case ACL_OPT_GROUP:
			if (!run_user(r, o))
				run_abort(r,
				    o->kind == ACL_OPT_USER ? "unknown user"
				                            : "unknown group");
			break;
		case ACL_OPT_KEEPALIVE:
		case ACL_OPT_LINGER:
			run_sockopt(r, o);
			break;
		case ACL_OPT_SEVERITY:
			r->res.severity = o->severity;
			break;
		}
	}
	run_finish(r);
	if (r->cb != NULL) {
		action_rule_cb cb = r->cb;

		r->cb = NULL;
		cb(r->arg, &r->res);
		env_free(r->res.env);
		run_free(r);
	}
}

void
action_env_free(char **env)
{
	env_free(env);
}

void
action_result_free(struct action_result *res)
{
	env_free(res->env);
	res->env = NULL;
}

unsigned
action_rule_needs(
    const struct acl_rule *r, const char *daemon, uint64_t *ident_timeout_ms)
{
	unsigned needs = r->opt_needs;
	char path[PATH_MAX], *data;
	ssize_t n;
	size_t i, len;
	int fd;

	for (i = 0; i < r->nopts; i++) {
		const struct acl_option *o = &r->opts[i];

		if (o->kind == ACL_OPT_RFC931) {
			needs |= ACL_NEEDS_USER;
			if (o->num > 0 && ident_timeout_ms != NULL)
				*ident_timeout_ms = (uint64_t)o->num * 1000u;
		} else if (o->kind == ACL_OPT_BANNERS && o->value != NULL &&
		    daemon != NULL && strchr(daemon, '/') == NULL) {
			if ((size_t)snprintf(path, sizeof(path), "%s/%s",
			        o->value, daemon) >= sizeof(path))
				continue;
			fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
			if (fd < 0)
				continue;
			if ((data = malloc(ACTION_BANNER_MAX)) != NULL) {
				len = 0;
				while (len < ACTION_BANNER_MAX &&
				    (n = read(fd, data + len,
				         ACTION_BANNER_MAX - len)) > 0)
					len += (size_t)n;
				needs |= action_banner_needs(data, len);
				free(data);
			}
			close(fd);
		} else if (o->kind == ACL_OPT_SPAWN ||
		    o->kind == ACL_OPT_TWIST || o->kind == ACL_OPT_ACLEXEC ||
		    o->kind == ACL_OPT_SETENV) {
			/* Cheap, and right even if opt_needs was not filled. */
			needs |= acl_expand_needs(o->value ? o->value : "");
		}
	}
	return needs;
}

int
action_rule_run(const struct action_conn *ac, const struct acl_decision *d,
    struct action_result *res, action_rule_cb cb, void *arg,
    struct action_run **runp)
{
	struct action_ctx *ctx = ctx_get(ac->loop);
	const struct acl_rule *rule = d->rule;
	struct action_run *r = NULL;
	size_t i;

	memset(res, 0, sizeof(*res));
	res->verdict = d->verdict;
	res->severity = -1;
	res->umask = -1;
	/* Commands run as the service's account unless the rule says. */
	res->set_uid = ac->set_uid;
	res->uid = ac->uid;
	res->set_gid = ac->set_gid;
	res->gid = ac->gid;
	if (rule == NULL || rule->nopts == 0)
		return 0;
	if (ctx == NULL || (r = calloc(1, sizeof(*r))) == NULL ||
	    (r->buf = malloc(ACL_EXPAND_MAX)) == NULL) {
		free(r);
		res->verdict = ACL_DENY;
		res->reason = "out of memory";
		return 0;
	}
	r->ctx = ctx;
	r->ac = *ac;
	r->req = *ac->req;
	r->ac.req = &r->req;
	r->d = *d;
	r->res = *res;
	r->nopts = rule->nopts;
	if (rule->opt_error != NULL) {
		/* libwrap ran the options before the bad one, then denied. */
		for (i = 0; i < rule->nopts; i++)
			if (rule->opt_error_col != 0 &&
			    rule->opts[i].col >= rule->opt_error_col)
				break;
		r->nopts = i;
	}
	r->next = ctx->runs;
	if (ctx->runs != NULL)
		ctx->runs->prev = r;
	ctx->runs = r;
	run_step(r);
	if (r->wait == NULL) {
		/* Finished without waiting. */
		*res = r->res;
		r->res.env = NULL;
		run_free(r);
		return 0;
	}
	r->cb = cb;
	r->arg = arg;
	if (runp != NULL)
		*runp = r;
	return 1;
}

void
action_run_cancel(struct action_run *r)
{
	if (r == NULL)
		return;
	action_proc_forget(r->wait);
	r->wait = NULL;
	r->cb = NULL;
	env_free(r->res.env);
	r->res.env = NULL;
	run_free(r);
}

/* ------------------------------------------------------------------ */
/* on_deny: reply, finger, mail. */

struct deny_job {
	struct action_ctx *ctx;
	struct deny_job *next, *prev;
	struct action_finger *finger;
	bool finger_slot;
	enum admit_state admit;
	uint64_t id;
	char *recipient;        /* NULL: no mail */
	struct acl_request req; /* strings below */
	char daemon[ACL_STRING_MAX], service[ACL_STRING_MAX];
	char client_name[ACL_STRING_MAX], user[ACL_STRING_MAX];
	char client_addr[64], server_addr[64];
	char *rule_file;
	unsigned rule_line;
	const char *reason;
	time_t when;
};

static void
job_free(struct deny_job *j)
{
	if (j->prev != NULL)
		j->prev->next = j->next;
	else if (j->ctx->jobs == j)
		j->ctx->jobs = j->next;
	if (j->next != NULL)
		j->next->prev = j->prev;
	if (j->finger_slot)
		action_limit_put(limit_get());
	free(j->recipient);
	free(j->rule_file);
	free(j);
}

static void
job_mail(struct deny_job *j, const char *finger, const char *finger_err)
{
	struct action_report rep;
	char sendmail[PATH_MAX], *msg;
	size_t len;
	int err;

	memset(&rep, 0, sizeof(rep));
	rep.recipient = j->recipient;
	rep.service = j->service;
	rep.daemon = j->daemon;
	rep.verdict = "denied";
	rep.client_addr = j->client_addr;
	rep.client_port = j->req.client.port;
	rep.client_name = j->client_name[0] ? j->client_name : NULL;
	rep.user = j->user[0] ? j->user : NULL;
	rep.server_addr = j->server_addr[0] ? j->server_addr : NULL;
	rep.server_port = j->req.server.port;
	rep.rule_file = j->rule_file;
	rep.rule_line = j->rule_line;
	rep.reason = j->reason;
	rep.when = j->when;
	rep.finger = finger;
	rep.finger_error = finger_err;
	if ((msg = action_mail_compose(&rep, &len)) == NULL)
		return;
	if (limits_take(j->ctx, &j->req, &j->admit, true) != 0) {
		free(msg);
		return;
	}
	sendmail_path(sendmail, sizeof(sendmail));
	err = action_mail_send(&j->ctx->procs, limit_get(), sendmail, msg, len);
	if (err != 0) {
		action_limit_put(limit_get());
		log_warnx("conn=%llu actions: mail: %s: %s",
		    (unsigned long long)j->id, sendmail, uv_strerror(err));
	}
	free(msg);
}

static void
job_on_finger(void *arg, const char *text, const char *err)
{
	struct deny_job *j = arg;
	struct log_buf lb;
	char line[1024];

	j->finger = NULL;
	if (j->finger_slot) {
		action_limit_put(limit_get());
		j->finger_slot = false;
	}
	if (j->recipient != NULL) {
		job_mail(j, text, err);
	} else {
		/* No mail to put it in: the log gets it, escaped. */
		lb.p = line;
		lb.len = 0;
		lb.cap = sizeof(line);
		line[0] = '\0';
		log_buf_printf(&lb, "conn=%llu actions: finger client=%s ",
		    (unsigned long long)j->id, j->client_addr);
		if (text != NULL) {
			log_buf_printf(&lb, "said=");
			log_buf_kv_str(&lb, text);
		} else {
			log_buf_printf(&lb, "error=");
			log_buf_kv_str(&lb, err);
		}
		log_msg(LOG_INFO, "%s", line);
	}
	job_free(j);
}

static void
copy_str(char *dst, size_t sz, const char *src)
{
	snprintf(dst, sz, "%s", src ? src : "");
}

/* Read away what the client sent, so close() sends FIN, not RST. */
static void
client_drain(int fd)
{
	char buf[4096];
	int i;

	for (i = 0; i < 16; i++)
		if (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) <= 0)
			break;
}

static void
sockaddr_of(const struct acl_endpoint *e, struct sockaddr_storage *ss)
{
	(void)acl_addr_to_sockaddr(
	    &e->addr, e->port > 0 ? (unsigned)e->port : 0, 0, ss);
}

void
action_on_deny(const struct action_conn *ac, const struct acl_decision *d)
{
	const struct conf_on_deny *od = ac->on_deny;
	const struct acl_request *req = ac->req;
	struct action_ctx *ctx;
	struct deny_job *j;
	struct sockaddr_storage cl, lo;

	if (od == NULL)
		return;
	if (od->reply != NULL && od->reply_len > 0) {
		if (action_client_write(ac->fd, od->reply, od->reply_len) <
		    od->reply_len)
			log_warnx("conn=%llu actions: reply cut: client "
			          "socket full",
			    (unsigned long long)ac->id);
		client_drain(ac->fd);
	}
	if (!od->finger && od->mail == NULL)
		return;
	if ((ctx = ctx_get(ac->loop)) == NULL ||
	    (j = calloc(1, sizeof(*j))) == NULL)
		return;
	j->ctx = ctx;
	j->id = ac->id;
	j->when = time(NULL);
	copy_str(j->daemon, sizeof(j->daemon), req->daemon);
	copy_str(j->service, sizeof(j->service), ac->service);
	copy_str(j->client_name, sizeof(j->client_name), req->client.name);
	copy_str(j->user, sizeof(j->user), req->user);
	acl_addr_format(
	    &req->client.addr, j->client_addr, sizeof(j->client_addr));
	if (req->server.addr.family != AF_UNSPEC)
		acl_addr_format(
		    &req->server.addr, j->server_addr, sizeof(j->server_addr));
	acl_request_init(&j->req);
	j->req.client.addr = req->client.addr;
	j->req.client.port = req->client.port;
	j->req.server.addr = req->server.addr;
	j->req.server.port = req->server.port;
	if (d != NULL && d->rule != NULL) {
		j->rule_file = strdup(d->rule->file);
		j->rule_line = d->rule->line;
	} else if (d != NULL && d->table_error && d->error_file != NULL) {
		j->rule_file = strdup(d->error_file);
		j->rule_line = d->error_line;
		j->reason = "table error";
	}
	if (od->mail != NULL)
		j->recipient = strdup(od->mail);
	j->next = ctx->jobs;
	if (ctx->jobs != NULL)
		ctx->jobs->prev = j;
	ctx->jobs = j;

	if (!od->finger) {
		job_mail(j, NULL, NULL);
		job_free(j);
		return;
	}
	if (limits_take(ctx, &j->req, &j->admit, false) != 0) {
		if (j->recipient != NULL)
			job_mail(j, NULL, "skipped: over the action limits");
		job_free(j);
		return;
	}
	j->finger_slot = true;
	sockaddr_of(&req->client, &cl);
	sockaddr_of(&req->server, &lo);
	j->finger = action_finger_start(ac->loop, (struct sockaddr *)&cl,
	    lo.ss_family != AF_UNSPEC ? (struct sockaddr *)&lo : NULL,
	    ACTION_FINGER_PORT, "", ACTION_FINGER_TIMEOUT_MS, ACTION_FINGER_MAX,
	    job_on_finger, j);
	if (j->finger == NULL) {
		action_limit_put(limit_get());
		j->finger_slot = false;
		if (j->recipient != NULL)
			job_mail(j, NULL, "could not start the query");
		job_free(j);
	}
}

static void
ctx_on_close(uv_handle_t *h)
{
	free(h->data);
}

void
action_worker_close(uv_loop_t *loop)
{
	struct action_ctx *ctx, **pp;

	for (pp = &t_ctx; (ctx = *pp) != NULL; pp = &ctx->next)
		if (ctx->loop == loop)
			break;
	if (ctx == NULL)
		return;
	*pp = ctx->next;
	/*
	 * Runs belong to their connections, which cancel them when they
	 * close; here they only lose their aclexec (its callback never
	 * comes) and their link to this context.
	 */
	while (ctx->runs != NULL) {
		struct action_run *r = ctx->runs;

		ctx->runs = r->next;
		action_proc_forget(r->wait);
		r->wait = NULL;
		r->ctx = NULL;
		r->next = r->prev = NULL;
	}
	while (ctx->jobs != NULL) {
		action_finger_cancel(ctx->jobs->finger);
		job_free(ctx->jobs);
	}
	action_procs_close(&ctx->procs);
	uv_timer_stop(&ctx->timer);
	uv_close((uv_handle_t *)&ctx->timer, ctx_on_close);
}
