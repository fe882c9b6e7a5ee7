/*
 * deliver_backend.c - the non-blocking connect to a TCP or UNIX backend.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "deliver.h"
#include "log.h"
#include "server.h"
#include "snapshot.h"
#include "transparent.h"
#include "worker.h"

static void
deliver_backend_failed(struct conn *c, int err)
{
	const struct conf_service *cs = c->snap->svc[c->svc].conf;

	log_warnx("conn=%llu service=%s backend %s: %s",
	    (unsigned long long)c->id, cs->name, cs->backend, strerror(err));
	conn_abort(c,
	    err == ECONNREFUSED || err == ENOENT ? "backend-refused"
	                                         : "backend-failed");
}

/*
 * PROXY protocol (haproxy's proxy-protocol.txt), v1 text or v2 binary, so
 * a backend that understands it sees the real client instead of loopback.
 * Written before any payload on a fresh socket, so it fits in the send
 * buffer at once; a short write is treated as a failed connection.
 */
static size_t
deliver_backend_proxy_header(const struct conn *c, enum conf_proxy_protocol v,
    unsigned char *buf, size_t sz)
{
	static const unsigned char sig[12] = {0x0d, 0x0a, 0x0d, 0x0a, 0x00,
	    0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a};
	const struct conn_addr *cl = &c->client, *sv = &c->server;
	char a[64], b[64];
	size_t alen, n;
	int r;

	if (cl->a.family != sv->a.family ||
	    (cl->a.family != AF_INET && cl->a.family != AF_INET6)) {
		if (v == CONF_PROXY_PROTOCOL_V1) {
			r = snprintf((char *)buf, sz, "PROXY UNKNOWN\r\n");
			return r > 0 ? (size_t)r : 0;
		}
		memcpy(buf, sig, 12);
		buf[12] = 0x20; /* v2, LOCAL */
		buf[13] = 0x00; /* UNSPEC */
		buf[14] = buf[15] = 0;
		return 16;
	}
	if (v == CONF_PROXY_PROTOCOL_V1) {
		acl_addr_format(&cl->a, a, sizeof(a));
		acl_addr_format(&sv->a, b, sizeof(b));
		r = snprintf((char *)buf, sz, "PROXY %s %s %s %u %u\r\n",
		    cl->a.family == AF_INET ? "TCP4" : "TCP6", a, b,
		    (unsigned)cl->port, (unsigned)sv->port);
		return r > 0 && (size_t)r < sz ? (size_t)r : 0;
	}
	alen = cl->a.family == AF_INET ? 4 : 16;
	memcpy(buf, sig, 12);
	buf[12] = 0x21;                                  /* v2, PROXY */
	buf[13] = cl->a.family == AF_INET ? 0x11 : 0x21; /* TCP over v4/v6 */
	n = 2 * alen + 4;
	buf[14] = (unsigned char)(n >> 8);
	buf[15] = (unsigned char)n;
	memcpy(buf + 16, cl->a.bytes, alen);
	memcpy(buf + 16 + alen, sv->a.bytes, alen);
	buf[16 + 2 * alen] = (unsigned char)(cl->port >> 8);
	buf[17 + 2 * alen] = (unsigned char)cl->port;
	buf[18 + 2 * alen] = (unsigned char)(sv->port >> 8);
	buf[19 + 2 * alen] = (unsigned char)sv->port;
	return 16 + n;
}

/* Connected: send the PROXY header if asked, then relay. */
static void
deliver_backend_ready(struct conn *c)
{
	const struct conf_service *cs = c->snap->svc[c->svc].conf;
	unsigned char hdr[128];
	size_t n;
	ssize_t w;

	/* An FTP data connection (dest_port) carries no header. */
	if (cs->proxy_protocol != CONF_PROXY_PROTOCOL_NONE &&
	    c->dest_port == 0) {
		n = deliver_backend_proxy_header(
		    c, cs->proxy_protocol, hdr, sizeof(hdr));
		do
			w = send(c->fd[1], hdr, n, MSG_NOSIGNAL);
		while (w < 0 && errno == EINTR);
		if (n == 0 || w != (ssize_t)n) {
			deliver_backend_failed(c, w < 0 ? errno : EIO);
			return;
		}
	}
	conn_backend_connected(c);
}

static void
deliver_backend_connect_cb(uv_poll_t *h, int status, int events)
{
	struct conn *c = h->data;
	int err = 0;
	socklen_t len = sizeof(err);

	(void)events;
	/* A failed connect shows as POLLERR, which libuv reports as
	 * UV_EBADF: the real error is in SO_ERROR either way. */
	if (getsockopt(c->fd[1], SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	else if (err == 0 && status < 0)
		err = -status;
	if (err != 0) {
		deliver_backend_failed(c, err);
		return;
	}
	uv_poll_stop(h);
	deliver_backend_ready(c);
}

/*
 * A backend on loopback has usually finished the handshake before
 * connect() returns EINPROGRESS (the SYN and SYN-ACK are processed in the
 * same system call).  One poll() with no timeout finds out, and saves
 * starting, waking and stopping the watcher (four system calls and one
 * loop turn per connection).  Returns 1 when it settled the connection.
 */
static int
deliver_backend_connected_now(struct conn *c, int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLOUT};
	int err = 0;
	socklen_t len = sizeof(err);

	if (poll(&p, 1, 0) != 1)
		return 0;
	if (p.revents & (POLLERR | POLLHUP | POLLNVAL)) {
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		deliver_backend_failed(c, err != 0 ? err : ECONNRESET);
		return 1;
	}
	if ((p.revents & POLLOUT) == 0)
		return 0;
	deliver_backend_ready(c);
	return 1;
}

/* Start the connect timeout, once: retries do not restart it. */
static void
deliver_backend_connecting(struct conn *c)
{
	if (c->state == CONN_CONNECTING)
		return;
	c->deadline_ms =
	    uv_now(&c->w->loop) + c->snap->svc[c->svc].conf->connect_timeout_ms;
	conn_set_state(c, CONN_CONNECTING);
}

/*
 * Where this connection goes: the service's backend, at the FTP data port
 * for a data connection; in transparent mode on the loopback of the
 * client's family.
 */
static socklen_t
deliver_backend_target(const struct conn *c, struct sockaddr_storage *dst)
{
	const struct snap_svc *sv = &c->snap->svc[c->svc];
	socklen_t len = sv->blen;

	memcpy(dst, &sv->baddr, sv->blen);
	if (sv->conf->transparent)
		len = transparent_target(
		    &sv->baddr, sv->blen, c->client.a.family, dst);
	if (c->dest_port != 0)
		acl_sockaddr_set_port(dst, c->dest_port);
	return len;
}

void
deliver_backend_connect(struct conn *c)
{
	const struct snap_svc *sv = &c->snap->svc[c->svc];
	struct sockaddr_storage dst;
	socklen_t dlen = deliver_backend_target(c, &dst);
	int fd, one = 1, rc, err;

	fd = socket(
	    dst.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 &&
	    (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
	        errno == ENOMEM)) {
		/*
		 * Out of descriptors for now: the client waits (the sweep
		 * tries again, conn_sweep) until one is free or the connect
		 * timeout passes, as a full backlog would make it wait.
		 */
		deliver_backend_connecting(c);
		return;
	}
	if (fd < 0) {
		deliver_backend_failed(c, errno);
		return;
	}
	if (sv->baddr.ss_family != AF_UNIX)
		(void)setsockopt(
		    fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (sv->conf->transparent &&
	    (err = transparent_bind(fd, &c->client)) != 0) {
		close(fd);
		log_warnx("conn=%llu service=%s transparent: cannot connect "
		          "from the client's address: %s",
		    (unsigned long long)c->id, sv->conf->name, strerror(err));
		deliver_backend_failed(c, err);
		return;
	}
	if (uv_poll_init(&c->w->loop, &c->side[1], fd) != 0) {
		close(fd);
		deliver_backend_failed(c, EBADF);
		return;
	}
	c->side[1].data = c;
	c->fd[1] = fd;
	c->backend_open = true;
	do
		rc = connect(fd, (const struct sockaddr *)&dst, dlen);
	while (rc < 0 && errno == EINTR);
	if (rc == 0) {
		deliver_backend_ready(c);
		return;
	}
	if (errno != EINPROGRESS) {
		/* UNIX sockets say EAGAIN when the backlog is full. */
		deliver_backend_failed(c, errno);
		return;
	}
	if (deliver_backend_connected_now(c, fd))
		return;
	deliver_backend_connecting(c);
	uv_poll_start(&c->side[1], UV_WRITABLE, deliver_backend_connect_cb);
}
