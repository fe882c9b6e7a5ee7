/*
 * server.c - the control loop: start-up, signals, reload, drain.
 *
 * Startup: conf -> inherited sockets -> snapshot (binds the listeners) ->
 * privilege drop -> worker threads -> READY=1.  Then the main thread only
 * waits for signals:
 *
 *   SIGHUP   reload.  The new conf and rules are built off to the side by
 *            snapshot_build(); on any error the old snapshot stays and the
 *            errors are logged.  A listener whose kind and text did not
 *            change keeps its sockets; new ones are bound, removed ones are
 *            closed once no worker polls them.  Connections in flight keep
 *            the snapshot they were accepted under.
 *   SIGTERM  drain: stop accepting, let connections finish, and after
 *   SIGINT   drain_ms close what is left; exit 0.  A second signal closes
 *            everything at once.
 *   SIGUSR1  the status in the log (control.c, status.c), as the control
 *            socket's `wrapd status` gives it.
 *
 * The workers (worker.c) serve the connections; this file only starts
 * them and sends them messages.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "action_limit.h"
#include "action_loop.h"
#include "action_proc.h"
#include "conn.h"
#include "control.h"
#include "log.h"
#include "metrics.h"
#include "metrics_server.h"
#include "privdrop.h"
#include "sdnotify.h"
#include "server.h"
#include "transparent.h"
#include "worker.h"

#define SERVER_MAX_WORKERS  256
/*
 * Descriptors a connection may hold: its two sockets, and a pipe per
 * direction while bytes are in flight (relay.c copies instead when there
 * is none, so only the sockets are a hard need).
 */
#define SERVER_FDS_PER_CONN 2
/* Descriptors for everything else: loops, listeners, look-ups, actions. */
#define SERVER_FDS_RESERVE  64

static void server_check_nofile(const struct wrapd_conf *conf);
static void server_limit_configure(
    struct action_limit *l, const struct conf_actions *ca);

uint64_t
server_next_id(struct server *srv)
{
	return atomic_fetch_add(&srv->next_id, 1);
}


void
server_broadcast(struct server *srv, unsigned msg)
{
	unsigned i;

	for (i = 0; i < srv->nworkers; i++)
		if (srv->workers[i].started)
			worker_send(&srv->workers[i], msg);
}

/* ------------------------------------------------------------------ */
/* Control loop. */

static void
server_done_cb(uv_async_t *h)
{
	struct server *srv = h->data;

	if (atomic_exchange(&srv->single_done, 0) && !srv->stopping) {
		/* inetd nowait / Accept=yes: the one connection is over. */
		srv->stopping = true;
		server_broadcast(srv, WORKER_MSG_STOP);
	}
	if (atomic_load(&srv->nrunning) == 0) {
		uv_close((uv_handle_t *)&srv->done, NULL);
		uv_close((uv_handle_t *)&srv->sighup, NULL);
		uv_close((uv_handle_t *)&srv->sigterm, NULL);
		uv_close((uv_handle_t *)&srv->sigint, NULL);
		uv_close((uv_handle_t *)&srv->drain_timer, NULL);
		control_close(srv);
		metrics_server_close(srv);
	}
}

static void
server_drain_timeout(uv_timer_t *t)
{
	struct server *srv = t->data;

	log_warnx("drain: deadline reached; closing the remaining "
	          "connections");
	server_broadcast(srv, WORKER_MSG_FORCE);
}

/* Shut the bound listeners of snap that keep is not using (all if NULL). */
static void
server_shutdown_listeners(
    const struct snapshot *snap, const struct snapshot *keep)
{
	size_t i, j;

	for (i = 0; i < snap->nbind; i++) {
		for (j = 0; keep != NULL && j < keep->nbind; j++)
			if (keep->bind[j].ls == snap->bind[i].ls)
				break;
		if (keep == NULL || j == keep->nbind)
			listener_shutdown(snap->bind[i].ls);
	}
}

static void
server_stop(struct server *srv, const char *why)
{
	if (srv->stopping) {
		log_warnx("%s again: closing every connection now", why);
		server_broadcast(srv, WORKER_MSG_FORCE);
		return;
	}
	srv->stopping = true;
	log_info("%s: no new connections; draining (up to %llu ms)", why,
	    (unsigned long long)srv->opts.drain_ms);
	sdnotify("STOPPING=1");
	server_broadcast(srv, WORKER_MSG_STOP);
	server_shutdown_listeners(srv->snap, NULL);
	uv_timer_start(
	    &srv->drain_timer, server_drain_timeout, srv->opts.drain_ms, 0);
}

static struct snapshot_env
server_env(struct server *srv, const struct snapshot *old)
{
	struct snapshot_env env;

	memset(&env, 0, sizeof(env));
	env.old = old;
	env.workers = srv->nworkers;
	env.sd = srv->sd;
	env.nsd = srv->nsd;
	env.sd_ls = srv->sd_ls;
	env.stdin_ls = srv->stdin_ls;
	env.gen = ++srv->gen;
	env.owner = srv->opts.owner;
	return env;
}

static void
server_reload(struct server *srv)
{
	struct wrapd_conf *conf;
	struct snapshot *snap, *old;
	struct snapshot_env env;
	char msg[96];
	struct timespec ts;

	if (srv->stopping)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)ts.tv_sec * 1000000ull +
	        (unsigned long long)ts.tv_nsec / 1000);
	sdnotify(msg);
	log_info("reload: reading %s",
	    srv->opts.config_path ? srv->opts.config_path : "the rules");
	conf = srv->opts.make_conf(srv->opts.make_arg, true);
	if (conf == NULL) {
		log_errx("reload: configuration has errors; keeping the "
		         "running configuration");
		metrics_reload(srv->metrics, METRICS_RELOAD_FAILED);
		goto out;
	}
	if (conf->workers != srv->conf_workers)
		log_warnx("reload: workers changes need a restart; ignored");
	server_check_nofile(conf);
	if ((conf->user == NULL) != (srv->snap->conf->user == NULL) ||
	    (conf->user != NULL &&
	        strcmp(conf->user, srv->snap->conf->user) != 0))
		log_warnx("reload: user changes need a restart; ignored");
	control_reload(srv, conf);
	tzset(); /* access_times: a changed /etc/localtime takes effect */
	env = server_env(srv, srv->snap);
	if ((snap = snapshot_build(conf, &env)) == NULL) {
		log_errx("reload: failed; keeping the running configuration "
		         "and rules");
		metrics_reload(srv->metrics, METRICS_RELOAD_FAILED);
		goto out;
	}
	uv_mutex_lock(&srv->lock);
	old = srv->snap;
	srv->snap = snap;
	uv_mutex_unlock(&srv->lock);
	server_limit_configure(srv->limit, &snap->conf->actions);
	server_broadcast(srv, WORKER_MSG_SNAPSHOT);
	/* Removed listeners stop taking connections now, not when the
	 * last connection accepted under the old snapshot ends. */
	server_shutdown_listeners(old, snap);
	snapshot_unref(old);
	/* After the rest took: a metrics address that cannot be bound
	 * keeps the old one (logged), and refuses nothing else. */
	metrics_server_reload(srv, snap->conf->metrics);
	metrics_reload(srv->metrics, METRICS_RELOAD_OK);
	log_info(
	    "reload: done (generation %llu)", (unsigned long long)snap->gen);
out:
	sdnotify("READY=1");
}

static void
server_signal_cb(uv_signal_t *h, int signum)
{
	struct server *srv = h->data;

	if (signum == SIGHUP)
		server_reload(srv);
	else
		server_stop(srv, signum == SIGTERM ? "SIGTERM" : "SIGINT");
}

/* actions.max_running, per_source, mail_rate: at start and each reload. */
static void
server_limit_configure(struct action_limit *l, const struct conf_actions *ca)
{
	action_limit_configure(
	    l, ca->max_running, ca->per_source_count, ca->per_source_secs);
	action_limit_set_mail_rate(l, ca->mail_rate_count, ca->mail_rate_secs);
}

/* ------------------------------------------------------------------ */
/* Startup. */

/*
 * Use every descriptor the hard limit allows (the soft limit is often
 * 1024), and say so when the services' max_connections cannot all be met:
 * past the limit, accepting backs off (wl_accept_cb) until some close.
 */
static void
server_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
		log_warn("cannot raise the descriptor limit to %llu",
		    (unsigned long long)rl.rlim_max);
}

static void
server_check_nofile(const struct wrapd_conf *conf)
{
	unsigned long long need = SERVER_FDS_RESERVE;
	struct rlimit rl;
	size_t i;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
		return;
	for (i = 0; i < conf->nservices; i++)
		need += (unsigned long long)conf->services[i].max_connections *
		    SERVER_FDS_PER_CONN;
	if (need > rl.rlim_cur)
		log_warnx("the services' max_connections need about %llu file "
		          "descriptors, the limit is %llu: past about %llu "
		          "connections, new ones wait (raise LimitNOFILE= or "
		          "ulimit -n)",
		    need, (unsigned long long)rl.rlim_cur,
		    rl.rlim_cur > SERVER_FDS_RESERVE
		        ? ((unsigned long long)rl.rlim_cur -
		              SERVER_FDS_RESERVE) /
		            SERVER_FDS_PER_CONN
		        : 0ULL);
}

/*
 * The metrics endpoint's socket: its descriptor, -1 when there is none
 * (not asked for, or serving one inherited connection), -2 when it
 * cannot be bound (logged).
 */
static int
server_bind_metrics(struct server *srv)
{
	const char *spec = srv->snap->conf->metrics;
	int fd;

	if (spec == NULL)
		return -1;
	if (srv->single) {
		log_debug("metrics: not served for one inherited connection");
		return -1;
	}
	if ((fd = metrics_server_bind(spec)) < 0) {
		log_errx("metrics %s: cannot listen: %s; not starting", spec,
		    strerror(-fd));
		return -2;
	}
	return fd;
}

static bool
server_conf_uses(const struct wrapd_conf *c, enum conf_listen_kind k)
{
	size_t i, j;

	for (i = 0; i < c->nservices; i++)
		for (j = 0; j < c->services[i].nlisten; j++)
			if (c->services[i].listen[j].kind == k)
				return true;
	return false;
}

static int
server_inherit(struct server *srv, const struct wrapd_conf *conf)
{
	char err[256], key[64], text[128];
	int i, k;

	if (server_conf_uses(conf, CONF_LISTEN_SYSTEMD)) {
		srv->nsd = listener_systemd_fds(&srv->sd, err, sizeof(err));
		if (srv->nsd < 0) {
			log_errx("%s", err);
			return -1;
		}
		srv->sd_ls = calloc((size_t)srv->nsd + 1, sizeof(*srv->sd_ls));
		if (srv->sd_ls == NULL)
			return -1;
		for (i = 0; i < srv->nsd; i++) {
			snprintf(key, sizeof(key), "systemd %d", srv->sd[i].fd);
			snprintf(text, sizeof(text), "systemd:%s(fd %d)",
			    srv->sd[i].name, srv->sd[i].fd);
			srv->sd_ls[i] =
			    listener_wrap_fd(CONF_LISTEN_SYSTEMD, key, text,
			        srv->sd[i].fd, srv->sd[i].connected, true);
			if (srv->sd_ls[i] == NULL)
				return -1;
			if (srv->sd[i].connected)
				srv->single = true;
		}
	}
	if (server_conf_uses(conf, CONF_LISTEN_STDIN)) {
		if ((k = listener_stdin_kind(err, sizeof(err))) < 0) {
			log_errx("%s", err);
			return -1;
		}
		srv->stdin_ls = listener_wrap_fd(CONF_LISTEN_STDIN, "stdin",
		    "stdin", STDIN_FILENO, k == 2, k == 1);
		if (srv->stdin_ls == NULL)
			return -1;
		if (k == 2)
			srv->single = true;
	}
	return 0;
}

static void
server_cleanup(struct server *srv)
{
	int i;

	if (srv->workers != NULL)
		free(srv->workers);
	snapshot_unref(srv->snap);
	for (i = 0; srv->sd_ls != NULL && i < srv->nsd; i++)
		listener_unref(srv->sd_ls[i]);
	free(srv->sd_ls);
	listener_systemd_free(srv->sd, srv->nsd);
	listener_unref(srv->stdin_ls);
	action_limit_free(srv->limit);
	metrics_free(srv->metrics);
}

int
server_run(struct server_opts *o)
{
	struct server srv;
	struct wrapd_conf *conf;
	struct snapshot_env env;
	unsigned i, n;
	int ctl_fd, metrics_fd;

	memset(&srv, 0, sizeof(srv));
	srv.opts = *o;
	atomic_init(&srv.next_id, 1);
	atomic_init(&srv.nrunning, 0);
	atomic_init(&srv.single_done, 0);
	signal(SIGPIPE, SIG_IGN); /* splice into a reset socket */
	signal(SIGUSR1, SIG_IGN); /* until control.c logs the status on it */
	sdnotify_init();

	if ((conf = o->make_conf(o->make_arg, false)) == NULL)
		return 1;
	srv.conf_workers = conf->workers;
	server_raise_nofile();
	server_check_nofile(conf);
	if (server_inherit(&srv, conf) < 0) {
		conf_free(conf);
		server_cleanup(&srv);
		return 1;
	}
	/*
	 * One process per connection (inetd nowait, Accept=yes): the pid is
	 * the connection's id, unique among the processes running at once.
	 */
	if (srv.single)
		atomic_store(&srv.next_id, (uint_fast64_t)getpid());
	n = o->workers_override ? o->workers_override : conf->workers;
	if (n == 0)
		n = uv_available_parallelism();
	if (n > SERVER_MAX_WORKERS)
		n = SERVER_MAX_WORKERS;
	if (srv.single)
		n = 1; /* one connection needs one loop */
	srv.nworkers = n;
	if ((srv.metrics = metrics_new(n)) == NULL) {
		log_errx("out of memory");
		conf_free(conf);
		server_cleanup(&srv);
		return 1;
	}

	env = server_env(&srv, NULL);
	/*
	 * As strict as a reload: a restart must not put live the rules a
	 * reload would have refused.
	 */
	if ((srv.snap = snapshot_build(conf, &env)) == NULL) {
		log_errx("not starting: the errors above must be fixed first");
		server_cleanup(&srv);
		return 1;
	}
	/*
	 * Whatever our parent left open without O_CLOEXEC (a shell's saved
	 * fds, a supervisor's pipe) must not reach the commands and daemons
	 * we start.
	 */
	if (action_proc_seal_fds() < 0)
		log_warn("actions: cannot list /proc/self/fd");
	if ((srv.limit = action_limit_new(0, 0, 0, 0)) == NULL) {
		log_errx("out of memory");
		server_cleanup(&srv);
		return 1;
	}
	server_limit_configure(srv.limit, &srv.snap->conf->actions);
	/* As root: /run/wrapd and the socket (one connection: none). */
	ctl_fd =
	    srv.single ? -1 : control_bind(srv.snap->conf->control, o->owner);
	/* As root too (any port); asked for, so a failure stops the start. */
	if ((metrics_fd = server_bind_metrics(&srv)) < -1) {
		if (ctl_fd >= 0)
			close(ctl_fd);
		server_cleanup(&srv);
		return 1;
	}
	if (srv.snap->conf->user != NULL &&
	    privdrop(srv.snap->conf->user, transparent_wanted(srv.snap->conf)) <
	        0) {
		server_cleanup(&srv);
		return 1;
	}

	uv_mutex_init(&srv.lock);
	uv_mutex_init(&srv.msg_lock);
	srv.loop = uv_default_loop();
	uv_signal_init(srv.loop, &srv.sighup);
	uv_signal_init(srv.loop, &srv.sigterm);
	uv_signal_init(srv.loop, &srv.sigint);
	srv.sighup.data = srv.sigterm.data = srv.sigint.data = &srv;
	uv_signal_start(&srv.sighup, server_signal_cb, SIGHUP);
	uv_signal_start(&srv.sigterm, server_signal_cb, SIGTERM);
	uv_signal_start(&srv.sigint, server_signal_cb, SIGINT);
	uv_timer_init(srv.loop, &srv.drain_timer);
	srv.drain_timer.data = &srv;
	uv_async_init(srv.loop, &srv.done, server_done_cb);
	srv.done.data = &srv;

	if (control_start(&srv, ctl_fd, srv.snap->conf->control) < 0 ||
	    (!srv.single &&
	        metrics_server_start(
	            &srv, metrics_fd, srv.snap->conf->metrics) < 0)) {
		log_errx("out of memory");
		return 1;
	}
	if ((srv.workers = calloc(n, sizeof(*srv.workers))) == NULL) {
		log_errx("out of memory");
		return 1;
	}
	for (i = 0; i < n; i++) {
		if (worker_init(&srv, &srv.workers[i], i) < 0) {
			log_errx("worker %u: cannot create its loop", i);
			return 1;
		}
	}
	for (i = 0; i < n; i++) {
		atomic_fetch_add(&srv.nrunning, 1);
		if (uv_thread_create(&srv.workers[i].thread, worker_main,
		        &srv.workers[i]) != 0) {
			log_errx("worker %u: cannot start its thread", i);
			return 1;
		}
		srv.workers[i].started = true;
	}
	/* inetd nowait / Accept=yes: one connection, so one line for it. */
	log_msg(srv.single ? LOG_DEBUG : LOG_INFO,
	    "wrapd %s ready: %zu service(s), %zu listener(s), %u "
	    "worker(s)",
	    WRAPD_VERSION, srv.snap->nsvc, srv.snap->nbind, n);
	sdnotify("READY=1");

	uv_run(srv.loop, UV_RUN_DEFAULT);

	for (i = 0; i < n; i++)
		uv_thread_join(&srv.workers[i].thread);
	log_msg(srv.single ? LOG_DEBUG : LOG_INFO, "stopped");
	uv_loop_close(srv.loop);
	uv_mutex_destroy(&srv.lock);
	uv_mutex_destroy(&srv.msg_lock);
	server_cleanup(&srv);
	return srv.exit_code;
}
