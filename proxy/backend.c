/*
 * backend.c - the non-blocking connect to a TCP or UNIX backend.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backend.h"
#include "conn.h"
#include "log.h"
#include "server.h"
#include "snapshot.h"

static void
backend_failed(struct conn *c, int err)
{
	const struct conf_service *cs = c->snap->svc[c->svc].conf;

	log_warnx("conn=%llu service=%s backend %s: %s",
	    (unsigned long long)c->id, cs->name, cs->backend, strerror(err));
	conn_close(c, err == ECONNREFUSED || err == ENOENT ?
		"backend-refused" :
		"backend-failed");
}

static void
backend_connect_cb(uv_poll_t *h, int status, int events)
{
	struct conn *c = h->data;
	int err = 0;
	socklen_t len = sizeof(err);

	(void)events;
	if (status < 0)
		err = -status;
	else if (getsockopt(c->fd[1], SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err != 0) {
		backend_failed(c, err);
		return;
	}
	uv_poll_stop(h);
	conn_backend_connected(c);
}

void
backend_connect(struct conn *c)
{
	const struct snap_svc *sv = &c->snap->svc[c->svc];
	int fd, one = 1, rc;

	fd = socket(sv->baddr.ss_family,
	    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		backend_failed(c, errno);
		return;
	}
	if (sv->baddr.ss_family != AF_UNIX)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
	if (uv_poll_init(&c->w->loop, &c->side[1], fd) != 0) {
		close(fd);
		backend_failed(c, EBADF);
		return;
	}
	c->side[1].data = c;
	c->fd[1] = fd;
	c->backend_open = true;
	do
		rc = connect(fd, (const struct sockaddr *)&sv->baddr, sv->blen);
	while (rc < 0 && errno == EINTR);
	if (rc == 0) {
		conn_backend_connected(c);
		return;
	}
	if (errno != EINPROGRESS) {
		/* UNIX sockets say EAGAIN when the backlog is full. */
		backend_failed(c, errno);
		return;
	}
	c->deadline_ms = uv_now(&c->w->loop) + sv->conf->connect_timeout_ms;
	conn_set_state(c, CONN_CONNECTING);
	uv_poll_start(&c->side[1], UV_WRITABLE, backend_connect_cb);
}
