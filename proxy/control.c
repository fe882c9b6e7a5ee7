/*
 * control.c - the control socket's server and SIGUSR1 (control.h).
 *
 * Each client gets one request and one response, then the connection is
 * closed.  Everything from a client is hostile: at most CONTROL_REQ_MAX
 * bytes are read (control_proto_request checks each), the whole exchange
 * has CONTROL_CLIENT_MS, at most CONTROL_CLIENTS_MAX clients are served at
 * once (others are closed at once), and a client that is not root (or the
 * user who started wrapd) gets "error not authorised" and nothing else.
 */
#include <errno.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "conf_trust.h"
#include "control.h"
#include "control_proto.h"
#include "log.h"
#include "server.h"
#include "status.h"

#define CONTROL_BACKLOG      16
#define CONTROL_LOG_EVERY_MS 1000 /* refused clients: one line at most */

struct control_client {
	struct control_client *next, *prev;
	struct control *ctl;
	uv_pipe_t pipe;
	uv_timer_t timer;
	uv_write_t wr;
	char req[CONTROL_REQ_MAX];
	size_t len;
	struct control_buf out;
	int open_handles;
	bool waiting; /* for a status round */
	bool closing;
};

struct control {
	struct server *srv;
	uv_pipe_t listen;
	uv_signal_t sigusr1;
	bool listening;
	bool log_waiting; /* SIGUSR1: a status round for the log */
	char *path;
	dev_t dev;
	ino_t ino;
	struct control_client *clients;
	size_t nclients;
	uint64_t refused_log_ms;
	int open_handles;
	bool closed; /* control_close() ran: free with the last handle */
};

/* ------------------------------------------------------------------ */
/* Binding, as root, before the privilege drop. */

/* The socket's directory: made 0700 if missing, and trusted (conf_trust.h). */
static int
control_bind_dir(const char *path, uid_t owner)
{
	char *copy = strdup(path), why[512];
	const char *dir;
	int rc = 0;

	if (copy == NULL)
		return -1;
	dir = dirname(copy);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		log_warn("control socket %s: cannot make %s; running without "
		         "it",
		    path, dir);
		rc = -1;
	} else if (conf_trust_path(dir, owner, why, sizeof(why)) < 0) {
		log_warnx(
		    "control socket %s: %s; running without it", path, why);
		rc = -1;
	}
	free(copy);
	return rc;
}

/*
 * A socket file left at path: remove it if nobody answers on it (a wrapd
 * that was killed); leave it to a live wrapd, and leave anything that is
 * not a socket alone.
 */
static int
control_bind_stale(const char *path, const struct sockaddr_un *sun)
{
	struct stat st;
	int fd, rc;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISSOCK(st.st_mode)) {
		log_warnx("control socket %s: exists and is not a socket; "
		          "running without one",
		    path);
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	rc = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	close(fd);
	if (rc == 0) {
		log_warnx("control socket %s: in use by another wrapd; running "
		          "without one (set `control` to another path)",
		    path);
		return -1;
	}
	if (errno != ECONNREFUSED || unlink(path) < 0) {
		log_warn("control socket %s: cannot replace it; running "
		         "without one",
		    path);
		return -1;
	}
	return 0;
}

int
control_bind(const char *path, uid_t owner)
{
	struct sockaddr_un sun;
	mode_t old;
	int fd, rc;

	if (path == NULL)
		return -1;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		return -1; /* conf__check_control refuses it */
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if (control_bind_dir(path, owner) < 0 ||
	    control_bind_stale(path, &sun) < 0)
		return -1;
	if ((fd = socket(
	         AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0) {
		log_warn("control socket %s", path);
		return -1;
	}
	/* Mode 0600 from the start: no moment in which others may connect.
	 * Still single-threaded (no worker yet): the umask is ours alone. */
	old = umask(0177);
	rc = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (rc < 0 || listen(fd, CONTROL_BACKLOG) < 0) {
		log_warn("control socket %s: cannot listen; running without "
		         "it",
		    path);
		close(fd);
		return -1;
	}
	return fd;
}

/* ------------------------------------------------------------------ */
/* Clients. */

/* The last handle of ctl or of its clients has closed: free it.  (libuv
 * calls close callbacks in no order we may rely on.) */
static void
control_free_if_done(struct control *ctl)
{
	if (ctl->open_handles > 0 || ctl->nclients > 0)
		return;
	free(ctl->path);
	free(ctl);
}

static void
control_client_closed(uv_handle_t *h)
{
	struct control_client *cl = h->data;
	struct control *ctl = cl->ctl;

	if (--cl->open_handles > 0)
		return;
	if (cl->prev != NULL)
		cl->prev->next = cl->next;
	else
		ctl->clients = cl->next;
	if (cl->next != NULL)
		cl->next->prev = cl->prev;
	ctl->nclients--;
	control_proto_buf_free(&cl->out);
	free(cl);
	if (ctl->closed)
		control_free_if_done(ctl);
}

static void
control_client_close(struct control_client *cl)
{
	if (cl->closing)
		return;
	cl->closing = true;
	if (cl->waiting)
		status_cancel(cl->ctl->srv->status, cl);
	cl->waiting = false;
	uv_close((uv_handle_t *)&cl->pipe, control_client_closed);
	uv_close((uv_handle_t *)&cl->timer, control_client_closed);
}

static void
control_client_written(uv_write_t *wr, int status)
{
	(void)status;
	control_client_close(wr->data);
}

/* Send cl->out (or, if building it failed, an error), then close. */
static void
control_client_send(struct control_client *cl)
{
	static char oom[] = "error out of memory\n";
	uv_buf_t buf;

	if (cl->closing)
		return;
	uv_read_stop((uv_stream_t *)&cl->pipe);
	buf = cl->out.failed || cl->out.p == NULL
	    ? uv_buf_init(oom, sizeof(oom) - 1)
	    : uv_buf_init(cl->out.p, (unsigned)cl->out.len);
	cl->wr.data = cl;
	if (uv_write(&cl->wr, (uv_stream_t *)&cl->pipe, &buf, 1,
	        control_client_written) != 0)
		control_client_close(cl);
}

static void
control_client_error(struct control_client *cl, const char *why)
{
	control_proto_buf_free(&cl->out);
	cl->out.failed = false;
	control_proto_buf_add(&cl->out, "error ", 6);
	control_proto_buf_add(&cl->out, why, strlen(why));
	control_proto_buf_end(&cl->out);
	control_client_send(cl);
}

static void
control_client_hello(struct control_buf *b)
{
	control_proto_buf_add(
	    b, CONTROL_PROTO_HELLO "\n", sizeof(CONTROL_PROTO_HELLO));
}

static void
control_client_status_done(void *arg, const struct control_buf *records)
{
	struct control_client *cl = arg;

	cl->waiting = false;
	control_client_hello(&cl->out);
	if (records->failed)
		cl->out.failed = true;
	else
		control_proto_buf_add(&cl->out, records->p, records->len);
	control_proto_buf_add(&cl->out, "end\n", 4);
	control_client_send(cl);
}

static void
control_client_request(struct control_client *cl, enum control_cmd cmd)
{
	struct control *ctl = cl->ctl;

	uv_read_stop((uv_stream_t *)&cl->pipe);
	if (cmd == CONTROL_CMD_BANS) {
		control_client_hello(&cl->out);
		status_bans(ctl->srv, &cl->out);
		control_proto_buf_add(&cl->out, "end\n", 4);
		control_client_send(cl);
		return;
	}
	if (status_request(ctl->srv->status, control_client_status_done, cl) <
	    0) {
		control_client_error(cl, "busy");
		return;
	}
	cl->waiting = true;
}

static void
control_client_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct control_client *cl = h->data;

	(void)hint;
	buf->base = cl->req + cl->len;
	buf->len = sizeof(cl->req) - cl->len;
}

static void
control_client_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct control_client *cl = s->data;
	enum control_cmd cmd;
	const char *why = NULL;
	int rc;

	(void)buf;
	if (nread < 0) {
		control_client_close(cl); /* gone before asking: nothing due */
		return;
	}
	cl->len += (size_t)nread;
	rc = control_proto_request(cl->req, cl->len, &cmd, &why);
	if (rc < 0)
		control_client_error(cl, why);
	else if (rc > 0)
		control_client_request(cl, cmd);
}

static void
control_client_timeout(uv_timer_t *t)
{
	control_client_close(t->data);
}

/* May this client use the socket?  Root, or the user who started wrapd. */
static bool
control_client_allowed(struct control_client *cl)
{
	struct control *ctl = cl->ctl;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	uv_os_fd_t fd;
	uint64_t now;

	if (uv_fileno((uv_handle_t *)&cl->pipe, &fd) == 0 &&
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 &&
	    (cred.uid == 0 || cred.uid == ctl->srv->opts.owner))
		return true;
	now = uv_now(ctl->srv->loop);
	if (ctl->refused_log_ms == 0 ||
	    now >= ctl->refused_log_ms + CONTROL_LOG_EVERY_MS) {
		ctl->refused_log_ms = now;
		log_warnx("control socket: refused a client of uid %ld: only "
		          "root may use it",
		    len == sizeof(cred) ? (long)cred.uid : -1L);
	}
	return false;
}

static void
control_connection(uv_stream_t *server, int status)
{
	struct control *ctl = server->data;
	struct control_client *cl;

	if (status < 0 || (cl = calloc(1, sizeof(*cl))) == NULL)
		return;
	cl->ctl = ctl;
	uv_pipe_init(ctl->srv->loop, &cl->pipe, 0);
	uv_timer_init(ctl->srv->loop, &cl->timer);
	cl->pipe.data = cl->timer.data = cl;
	cl->open_handles = 2;
	cl->next = ctl->clients;
	if (cl->next != NULL)
		cl->next->prev = cl;
	ctl->clients = cl;
	ctl->nclients++;
	if (uv_accept(server, (uv_stream_t *)&cl->pipe) != 0 ||
	    ctl->nclients > CONTROL_CLIENTS_MAX) {
		control_client_close(cl);
		return;
	}
	uv_timer_start(
	    &cl->timer, control_client_timeout, CONTROL_CLIENT_MS, 0);
	if (!control_client_allowed(cl)) {
		control_client_error(cl, "not authorised");
		return;
	}
	if (uv_read_start((uv_stream_t *)&cl->pipe, control_client_alloc,
	        control_client_read) != 0)
		control_client_close(cl);
}

/* ------------------------------------------------------------------ */
/* SIGUSR1: the status in the log. */

static void
control_log_status(void *arg, const struct control_buf *records)
{
	struct control *ctl = arg;
	const char *p, *nl;

	ctl->log_waiting = false;
	if (records->failed || records->p == NULL) {
		log_warnx("status: out of memory");
		return;
	}
	/* Every record but the connections one by one ("conns" counts them). */
	for (p = records->p; (nl = strchr(p, '\n')) != NULL; p = nl + 1)
		if (strncmp(p, "conn ", 5) != 0)
			log_info("status: %.*s", (int)(nl - p), p);
}

static void
control_sigusr1(uv_signal_t *h, int signum)
{
	struct control *ctl = h->data;

	(void)signum;
	if (ctl->log_waiting)
		return; /* one round at a time is enough */
	if (status_request(ctl->srv->status, control_log_status, ctl) == 0)
		ctl->log_waiting = true;
}

/* ------------------------------------------------------------------ */

int
control_start(struct server *srv, int fd, const char *path)
{
	struct control *ctl = calloc(1, sizeof(*ctl));
	struct stat st;

	if (ctl == NULL || (srv->status = status_new(srv)) == NULL) {
		free(ctl);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	ctl->srv = srv;
	srv->control = ctl;
	uv_signal_init(srv->loop, &ctl->sigusr1);
	ctl->sigusr1.data = ctl;
	uv_signal_start(&ctl->sigusr1, control_sigusr1, SIGUSR1);
	ctl->open_handles = 1;
	if (fd < 0)
		return 0;
	if ((ctl->path = strdup(path)) == NULL || stat(path, &st) < 0) {
		free(ctl->path);
		ctl->path = NULL;
		close(fd);
		return 0;
	}
	ctl->dev = st.st_dev;
	ctl->ino = st.st_ino;
	uv_pipe_init(srv->loop, &ctl->listen, 0);
	ctl->listen.data = ctl;
	ctl->open_handles++;
	ctl->listening = true;
	if (uv_pipe_open(&ctl->listen, fd) != 0 ||
	    uv_listen((uv_stream_t *)&ctl->listen, CONTROL_BACKLOG,
	        control_connection) != 0) {
		log_warnx("control socket %s: cannot serve it", path);
		return 0;
	}
	log_info("control socket %s (wrapd bans, wrapd status)", path);
	return 0;
}

void
control_reload(struct server *srv, const struct wrapd_conf *conf)
{
	const struct control *ctl = srv->control;
	const char *was = ctl != NULL ? ctl->path : NULL;

	/* A socket that could not be bound at start stays unbound too. */
	if (ctl == NULL || was == NULL)
		return;
	if (conf->control == NULL || strcmp(conf->control, was) != 0)
		log_warnx("reload: control changes need a restart; ignored");
}

static void
control_closed(uv_handle_t *h)
{
	struct control *ctl = h->data;

	ctl->open_handles--;
	control_free_if_done(ctl);
}

void
control_close(struct server *srv)
{
	struct control *ctl = srv->control;
	struct control_client *cl, *next;
	struct stat st;

	if (ctl == NULL)
		return;
	srv->control = NULL;
	ctl->closed = true;
	for (cl = ctl->clients; cl != NULL; cl = next) {
		next = cl->next;
		control_client_close(cl);
	}
	status_close(srv->status);
	srv->status = NULL;
	uv_close((uv_handle_t *)&ctl->sigusr1, control_closed);
	/* libuv puts back the default action, which kills: ignore instead. */
	signal(SIGUSR1, SIG_IGN);
	if (ctl->listening) {
		uv_close((uv_handle_t *)&ctl->listen, control_closed);
		/* Only our own socket (after a drop to `user` we may not). */
		if (stat(ctl->path, &st) == 0 && st.st_dev == ctl->dev &&
		    st.st_ino == ctl->ino)
			(void)unlink(ctl->path);
	}
}
