/*
 * relay.c - splice both directions of a connection, with half-close.
 *
 * Direction d carries bytes from side d to side 1-d (0: client -> backend,
 * 1: backend -> client).  A direction is in one of three conditions:
 *   idle      no pipe, waiting for its source to become readable;
 *   blocked   bytes in its pipe, waiting for its destination to be writable
 *             (its source is not polled: that is the backpressure);
 *   finished  its source said EOF and the EOF was passed on with
 *             shutdown(SHUT_WR), while the other direction goes on.
 * The connection ends when both are finished, or on the first error.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "relay.h"
#include "server.h"

/* Splices per readable event and direction, so one busy connection cannot
 * starve the others on its loop. */
#define RELAY_BUDGET 8
/* A read shorter than this is taken to have drained the socket. */
#define RELAY_SHORT_READ (64 * 1024)
/*
 * The stack buffer of an idle direction's first read (relay_copy).  At
 * most two pages, so what the destination does not take always fits in an
 * empty pipe: even a user past fs.pipe-user-pages-soft gets two buffers.
 */
#ifndef RELAY_COPY_SIZE
#define RELAY_COPY_SIZE (8 * 1024)
#endif
/*
 * A direction that has carried this much is a bulk stream: it splices from
 * the first byte of every event, as an extra small copy and send at the
 * start of each pipe cycle only costs it (bench/PROFILE-NOTES.md).
 */
#ifndef RELAY_COPY_MAX
#define RELAY_COPY_MAX (4 * 1024 * 1024)
#endif

void
relay_pool_init(struct relay_pool *p)
{
	p->v = NULL;
	p->n = p->cap = 0;
}

void
relay_pool_free(struct relay_pool *p)
{
	size_t i;

	for (i = 0; i < p->n; i++) {
		close(p->v[i][0]);
		close(p->v[i][1]);
	}
	free(p->v);
	relay_pool_init(p);
}

int
relay_pipe_get(struct relay_pool *p, int *rfd, int *wfd)
{
	int fds[2];

	if (p->n > 0) {
		p->n--;
		*rfd = p->v[p->n][0];
		*wfd = p->v[p->n][1];
		return 0;
	}
	if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0)
		return -errno;
	/* Bigger pipes mean fewer splices per byte; failure is harmless. */
	(void)fcntl(fds[1], F_SETPIPE_SZ, RELAY_PIPE_SIZE);
	*rfd = fds[0];
	*wfd = fds[1];
	return 0;
}

void
relay_pipe_put(struct relay_pool *p, int rfd, int wfd)
{
	int(*nv)[2];

	if (p->n == p->cap && p->cap < RELAY_POOL_MAX) {
		size_t ncap = p->cap ? p->cap * 2 : 4;

		if (ncap > RELAY_POOL_MAX)
			ncap = RELAY_POOL_MAX;
		if ((nv = realloc(p->v, ncap * sizeof(*nv))) != NULL) {
			p->v = nv;
			p->cap = ncap;
		}
	}
	if (p->n < p->cap) {
		p->v[p->n][0] = rfd;
		p->v[p->n][1] = wfd;
		p->n++;
		return;
	}
	close(rfd);
	close(wfd);
}

static void
relay_drop_pipe(struct conn *c, struct conn_dir *d)
{
	if (d->prd < 0)
		return;
	if (d->pending == 0)
		relay_pipe_put(&c->w->pool, d->prd, d->pwr);
	else {
		/* Stale bytes: the pipe cannot go back to the pool. */
		close(d->prd);
		close(d->pwr);
	}
	d->prd = d->pwr = -1;
	d->pending = 0;
}

void
relay_release(struct conn *c)
{
	relay_drop_pipe(c, &c->dir[0]);
	relay_drop_pipe(c, &c->dir[1]);
}

static void relay_poll_cb(uv_poll_t *h, int status, int events);

/* Poll each side for exactly what its two directions are waiting for. */
static void
relay_update(struct conn *c)
{
	int s, want;

	if (c->state != CONN_RELAYING)
		return;
	for (s = 0; s < 2; s++) {
		const struct conn_dir *out = &c->dir[s];    /* s is source */
		const struct conn_dir *in = &c->dir[1 - s]; /* s is dest */

		want = 0;
		if (!out->eof && out->pending == 0)
			want |= UV_READABLE;
		if (in->pending > 0)
			want |= UV_WRITABLE;
		if (want == c->ev[s])
			continue;
		c->ev[s] = want;
		if (want == 0)
			uv_poll_stop(&c->side[s]);
		else
			uv_poll_start(&c->side[s], want, relay_poll_cb);
	}
}

static const char *
relay_why(int side, int err, bool writing)
{
	if (err == ECONNRESET || err == EPIPE)
		return side == 0 ? "client-reset" : "backend-reset";
	if (writing)
		return side == 0 ? "client-write-error" : "backend-write-error";
	return side == 0 ? "client-read-error" : "backend-read-error";
}

static int relay_flush(struct conn *c, int d);

/*
 * Side s cannot take bytes any more (its peer reset, or a write failed):
 * what was meant for it is dropped, and nothing more is read for it.  The
 * other direction -- bytes the kernel already received from s -- still
 * drains to the far side; the connection closes once that is done.
 * Returns -1 if the connection was closed.
 */
static int
relay_side_dead(struct conn *c, int s, const char *why)
{
	struct conn_dir *to = &c->dir[1 - s]; /* towards s */
	struct conn_dir *from = &c->dir[s];   /* out of s */

	if (c->why == NULL)
		c->why = why;
	if (to->prd >= 0) {
		close(to->prd);
		close(to->pwr);
		to->prd = to->pwr = -1;
	}
	to->pending = 0;
	to->eof = to->shut = true;
	from->gone = true;
	if (from->eof && from->pending == 0) {
		conn_close(c, c->why);
		return -1;
	}
	return 0;
}

/* Returns 0, or -1 when the connection was closed. */
static int
relay_flush(struct conn *c, int d)
{
	struct conn_dir *dir = &c->dir[d];
	int dst = conn_fd(c, 1 - d);
	ssize_t n;

	while (dir->pending > 0) {
		n = splice(dir->prd, NULL, dst, NULL, dir->pending,
		    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n > 0) {
			dir->pending -= (uint32_t)n;
			dir->bytes += (uint64_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		return relay_side_dead(c, 1 - d,
		    relay_why(1 - d, n < 0 ? errno : EPIPE, true));
	}
	if (dir->prd >= 0) {
		relay_pipe_put(&c->w->pool, dir->prd, dir->pwr);
		dir->prd = dir->pwr = -1;
	}
	c->last_ms = uv_now(&c->w->loop);
	if (dir->eof && dir->gone) {
		/* Everything the failed side sent is delivered: done. */
		conn_close(c, c->why != NULL ? c->why : "eof");
		return -1;
	}
	if (dir->eof && !dir->shut) {
		/* Half-close: pass the EOF on; the other way keeps flowing. */
		(void)shutdown(dst, SHUT_WR);
		dir->shut = true;
	}
	if (dir->shut && c->dir[1 - d].shut && c->dir[1 - d].pending == 0) {
		conn_close(c, c->why != NULL ? c->why : "eof");
		return -1;
	}
	return 0;
}

/*
 * The first read of an idle direction: recv() into a small buffer on the
 * stack and send() it on.  Most reads of an idle direction are small (a
 * request, a reply, the EOF), and for those this is cheaper than splicing
 * through a pipe (no pipe buffers, no page references), measured in
 * bench/PROFILE-NOTES.md.  What the destination does not take at once is
 * parked in a pipe, so the backpressure and the flush path are the
 * splice path's.  Returns 1 when this event is done with the direction,
 * 0 when the buffer came back full (more is likely queued: splice it), -1
 * when the connection was closed.
 */
static int
relay_copy(struct conn *c, int d)
{
	struct conn_dir *dir = &c->dir[d];
	int dst = conn_fd(c, 1 - d), rc;
	char buf[RELAY_COPY_SIZE];
	ssize_t n, w;
	size_t off = 0;

	do
		n = recv(conn_fd(c, d), buf, sizeof(buf), MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN)
		return 1;
	if (n <= 0) {
		if (n < 0) {
			/* A reset, after everything queued before it. */
			dir->gone = true;
			if (c->why == NULL)
				c->why = relay_why(d, errno, false);
		}
		dir->eof = true;
		return relay_flush(c, d) < 0 ? -1 : 1;
	}
	while (off < (size_t)n) {
		w = send(dst, buf + off, (size_t)n - off,
		    MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w > 0) {
			off += (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			break;
		/* What was read for the dead side is dropped with it. */
		return relay_side_dead(c, 1 - d,
		           relay_why(1 - d, w < 0 ? errno : EPIPE, true)) < 0
		    ? -1
		    : 1;
	}
	dir->bytes += off;
	c->last_ms = uv_now(&c->w->loop);
	if (off < (size_t)n) {
		/* The rest fits in an empty pipe (RELAY_COPY_SIZE). */
		if ((rc = relay_pipe_get(&c->w->pool, &dir->prd, &dir->pwr)) <
		    0) {
			errno = -rc;
			conn_close(c, "no-pipe");
			return -1;
		}
		do
			w = write(dir->pwr, buf + off, (size_t)n - off);
		while (w < 0 && errno == EINTR);
		if (w != (ssize_t)((size_t)n - off)) {
			conn_close(c, "no-pipe");
			return -1;
		}
		dir->pending = (uint32_t)w;
		return 1;
	}
	return n < (ssize_t)sizeof(buf) ? 1 : 0;
}

static int
relay_pump(struct conn *c, int d)
{
	struct conn_dir *dir = &c->dir[d];
	int src = conn_fd(c, d);
	ssize_t n;
	int i, rc;

	for (i = 0; i < RELAY_BUDGET && dir->pending == 0 && !dir->eof; i++) {
		if (i == 0 && dir->prd < 0 && dir->bytes < RELAY_COPY_MAX) {
			if ((rc = relay_copy(c, d)) < 0)
				return -1;
			if (rc > 0)
				break;
			continue;
		}
		if (dir->prd < 0 &&
		    (rc = relay_pipe_get(&c->w->pool, &dir->prd, &dir->pwr)) <
		        0) {
			errno = -rc;
			conn_close(c, "no-pipe");
			return -1;
		}
		n = splice(src, NULL, dir->pwr, NULL, RELAY_PIPE_SIZE,
		    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n > 0) {
			dir->pending = (uint32_t)n;
			if (relay_flush(c, d) < 0)
				return -1;
			/*
			 * A short read almost always emptied the socket: do
			 * not spend a system call to hear EAGAIN (the poll is
			 * level-triggered, so anything left wakes us again).
			 * This is what keeps request/response latency down.
			 */
			if (n < RELAY_SHORT_READ)
				break;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n < 0) {
			/*
			 * A reset: the kernel hands out what it had queued
			 * before reporting it, so nothing more will come.
			 */
			dir->gone = true;
			if (c->why == NULL)
				c->why = relay_why(d, errno, false);
		}
		dir->eof = true;
		return relay_flush(c, d);
	}
	/* An idle direction holds no pipe. */
	if (dir->pending == 0 && dir->prd >= 0) {
		relay_pipe_put(&c->w->pool, dir->prd, dir->pwr);
		dir->prd = dir->pwr = -1;
	}
	return 0;
}

void
relay_on_event(struct conn *c, int side, int events)
{
	/* Drain first: writing frees pipe space the read can then use. */
	if ((events & UV_WRITABLE) && c->dir[1 - side].pending > 0 &&
	    relay_flush(c, 1 - side) < 0)
		return;
	if ((events & (UV_READABLE | UV_DISCONNECT)) &&
	    relay_pump(c, side) < 0)
		return;
	relay_update(c);
}

static void
relay_poll_cb(uv_poll_t *h, int status, int events)
{
	struct conn *c = h->data;
	int side = h == &c->side[0] ? 0 : 1;
	int err = 0;
	socklen_t len = sizeof(err);

	if (status == 0) {
		relay_on_event(c, side, events);
		return;
	}
	/*
	 * libuv reports POLLERR as UV_EBADF and stops the handle.  The
	 * socket has a pending error, a reset most of the time; reading the
	 * error clears it, after which the socket still yields the bytes
	 * its kernel received before the reset, then EOF.  Those bytes were
	 * acknowledged to the sender, so they are delivered before closing.
	 */
	(void)getsockopt(conn_fd(c, side), SOL_SOCKET, SO_ERROR, &err, &len);
	c->ev[side] = -1; /* stopped by libuv: restart in relay_update */
	if (relay_side_dead(c, side, relay_why(side, err, false)) < 0)
		return;
	if (relay_pump(c, side) < 0)
		return;
	relay_update(c);
}

void
relay_start(struct conn *c)
{
	c->ev[0] = c->ev[1] = -1; /* force the first uv_poll_start */
	c->last_ms = uv_now(&c->w->loop);
	/*
	 * Most clients speak first, and their first bytes have usually
	 * arrived while we decided and connected: move them now rather than
	 * one loop turn later.  When nothing is there this costs one recv()
	 * that says EAGAIN.
	 */
	if (relay_pump(c, 0) < 0)
		return;
	relay_update(c);
}
