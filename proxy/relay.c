/*
 * relay.c - splice both directions of a connection, with half-close.
 *
 * Direction d carries bytes from side d to side 1-d (0: client -> backend,
 * 1: backend -> client).  A direction is in one of three conditions:
 *   idle      waiting for its source to become readable;
 *   blocked   bytes read from its source wait for its destination to be
 *             writable (its source is not polled: that is the
 *             backpressure); they are in its pipe, or in a small heap
 *             "spill" when they came by the copy path, or they are the
 *             urgent byte at the source's mark (see relay_urgent);
 *   finished  its source said EOF and the EOF was passed on with
 *             shutdown(SHUT_WR), while the other direction goes on.
 *
 * How it ends (closer.h): when both directions are finished, the sockets
 * are closed (FIN: each peer really ended).  When a side fails (a reset, a
 * write error), what the other side sent before is still delivered and
 * the other side is then reset (conn_abort), so a cut stream never looks
 * like a complete one.
 *
 * Nothing read is ever dropped for want of a resource: without a pipe (out
 * of descriptors) a direction copies through a stack buffer instead, and
 * what its destination does not take goes to the spill.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "ftp.h"
#include "log.h"
#include "relay.h"
#include "server.h"
#include "worker.h"

/* Splices per readable event and direction, so one busy connection cannot
 * starve the others on its loop. */
#define RELAY_BUDGET     8
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
/* At most one "no pipe" warning per worker in this many milliseconds. */
#define RELAY_NOPIPE_LOG_MS 10000

/* Bytes the copy path read and its destination did not take yet. */
struct relay_spill {
	uint32_t len, off;
	char data[];
};

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
relay_spill_free(struct conn_dir *d)
{
	free(d->spill);
	d->spill = NULL;
}

/* Does the direction hold bytes (or an urgent byte) for its destination? */
static bool
relay_blocked(const struct conn_dir *d)
{
	return d->pending > 0 || d->spill != NULL || d->urgent;
}

/* Any byte moved is activity, for the idle timeout. */
static void
relay_moved(struct conn *c)
{
	c->last_ms = uv_now(&c->w->loop);
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
	int d;

	for (d = 0; d < 2; d++) {
		relay_drop_pipe(c, &c->dir[d]);
		relay_spill_free(&c->dir[d]);
		c->dir[d].urgent = false;
	}
}

/*
 * A pipe for direction dir, or -1 when none can be had (out of
 * descriptors): the caller then copies instead, which is slower but loses
 * nothing.  Said in the log, at most every RELAY_NOPIPE_LOG_MS.
 */
static int
relay_pipe_take(struct conn *c, struct conn_dir *dir)
{
	struct worker *w = c->w;
	uint64_t now = uv_now(&w->loop);
	int rc = relay_pipe_get(&w->pool, &dir->prd, &dir->pwr);

	if (rc == 0)
		return 0;
	dir->prd = dir->pwr = -1;
	if (w->nopipe_logged_ms == 0 ||
	    now - w->nopipe_logged_ms >= RELAY_NOPIPE_LOG_MS) {
		w->nopipe_logged_ms = now;
		log_warnx("worker %u: no pipe for splice (%s): copying instead",
		    w->idx, strerror(-rc));
	}
	return -1;
}

/* The connection is over: FIN if every side really ended, else resets. */
static void
relay_end(struct conn *c)
{
	if (c->why != NULL)
		conn_abort(c, c->why);
	else
		conn_close(c, "eof");
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
		/* POLLPRI: urgent data arrived (relay_urgent). */
		if (!out->eof && !relay_blocked(out))
			want |= UV_READABLE | UV_PRIORITIZED;
		if (relay_blocked(in))
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

/*
 * Side s cannot take bytes any more (its peer reset, or a write failed):
 * what was meant for it is dropped, and nothing more is read for it.  The
 * other direction -- bytes the kernel already received from s -- still
 * drains to the far side; the connection then ends with a reset of that
 * side.  Returns -1 if the connection was closed.
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
	relay_spill_free(to);
	to->urgent = false;
	to->eof = to->shut = true;
	from->gone = true;
	if (from->eof && !relay_blocked(from)) {
		relay_end(c);
		return -1;
	}
	return 0;
}

static bool
relay_at_mark(int fd)
{
	int at = 0;

	return ioctl(fd, SIOCATMARK, &at) == 0 && at != 0;
}

/*
 * The source of direction d stands at its urgent mark (TCP urgent data:
 * Telnet's Interrupt Process, FTP's ABOR "synch").  splice() stops there
 * and never passes it, so the byte is taken here: peeked (the sockets are
 * SO_OOBINLINE, so the urgent byte is in the stream), sent on as urgent
 * data so the daemon gets the notification it would get without wrapd,
 * and only then consumed.  If the destination cannot take it now, the
 * direction waits for it (dir->urgent).  Returns 0, or -1 when the
 * connection was closed.
 */
static int
relay_urgent(struct conn *c, int d)
{
	struct conn_dir *dir = &c->dir[d];
	int src = conn_fd(c, d), dst = conn_fd(c, 1 - d);
	ssize_t n, w;
	char b;

	dir->urgent = false;
	do
		n = recv(src, &b, 1, MSG_PEEK | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return 0; /* not there yet, or an end the read path will see */
	do
		w = send(dst, &b, 1, MSG_OOB | MSG_DONTWAIT | MSG_NOSIGNAL);
	while (w < 0 && errno == EINTR);
	if (w < 0 && errno == EOPNOTSUPP) {
		/* A UNIX backend without out-of-band data: in line, then. */
		do
			w = send(dst, &b, 1, MSG_DONTWAIT | MSG_NOSIGNAL);
		while (w < 0 && errno == EINTR);
	}
	if (w < 0 && errno == EAGAIN) {
		dir->urgent = true;
		return 0;
	}
	if (w != 1)
		return relay_side_dead(
		    c, 1 - d, relay_why(1 - d, w < 0 ? errno : EPIPE, true));
	do
		n = recv(src, &b, 1, MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	conn_metrics_bytes(c, d, 1);
	relay_moved(c);
	if (c->ftp != NULL)
		ftp_urgent(c, d, (uint8_t)b); /* keep its line state right */
	return 0;
}

/*
 * Write what direction d holds -- its spill, then its pipe -- to its
 * destination.  1: all of it; 0: stop here (the destination is full, or it
 * failed and relay_side_dead() took over); -1: the connection was closed.
 */
static int
relay_deliver(struct conn *c, int d)
{
	struct conn_dir *dir = &c->dir[d];
	struct relay_spill *sp;
	int dst = conn_fd(c, 1 - d);
	ssize_t n;

	while ((sp = dir->spill) != NULL || dir->pending > 0) {
		if (sp != NULL)
			n = send(dst, sp->data + sp->off, sp->len - sp->off,
			    MSG_DONTWAIT | MSG_NOSIGNAL);
		else
			n = splice(dir->prd, NULL, dst, NULL, dir->pending,
			    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n > 0) {
			if (sp == NULL)
				dir->pending -= (uint32_t)n;
			else if ((sp->off += (uint32_t)n) == sp->len)
				relay_spill_free(dir);
			conn_metrics_bytes(c, d, (uint64_t)n);
			relay_moved(c);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		return relay_side_dead(
		    c, 1 - d, relay_why(1 - d, n < 0 ? errno : EPIPE, true));
	}
	return 1;
}

/*
 * Deliver what direction d holds, then pass an EOF on.  Returns 0, or -1
 * when the connection was closed.
 */
static int
relay_flush(struct conn *c, int d)
{
	struct conn_dir *dir = &c->dir[d];
	int dst = conn_fd(c, 1 - d), rc;

	if ((rc = relay_deliver(c, d)) <= 0)
		return rc;
	if (dir->prd >= 0) {
		relay_pipe_put(&c->w->pool, dir->prd, dir->pwr);
		dir->prd = dir->pwr = -1;
	}
	if (dir->urgent) {
		if (relay_urgent(c, d) < 0)
			return -1;
		if (dir->urgent)
			return 0;
	}
	if (dir->eof && dir->gone) {
		/* Everything the failed side sent is delivered: done. */
		relay_end(c);
		return -1;
	}
	if (dir->eof && !dir->shut) {
		/* Half-close: pass the EOF on; the other way keeps flowing. */
		(void)shutdown(dst, SHUT_WR);
		dir->shut = true;
	}
	if (dir->shut && c->dir[1 - d].shut && !relay_blocked(&c->dir[1 - d])) {
		relay_end(c);
		return -1;
	}
	return 0;
}

/*
 * Read from the source of d into a small buffer on the stack and send it
 * on.  Used for the first read of an idle direction, where most reads are
 * small (a request, a reply, the EOF) and this is cheaper than splicing
 * through a pipe (bench/PROFILE-NOTES.md), and for every read when no
 * pipe can be had.  What the destination does not take at once is parked
 * in the direction's spill, so nothing read is ever lost.  Returns 1 when
 * this event is done with the direction, 0 when the buffer came back full
 * (more is likely queued), -1 when the connection was closed.
 */
static int
relay_copy(struct conn *c, int d)
{
	struct conn_dir *dir = &c->dir[d];
	int dst = conn_fd(c, 1 - d);
	char raw[RELAY_COPY_SIZE];
	uint8_t fbuf[FTP_OUT_MAX];
	char *buf = raw;
	const char *why;
	struct relay_spill *sp;
	ssize_t n, w, got;
	size_t off = 0;

	do
		n = recv(conn_fd(c, d), raw,
		    c->ftp != NULL ? FTP_READ_MAX : sizeof(raw), MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	got = n;
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
	relay_moved(c);
	if (c->ftp != NULL) {
		/* An FTP control connection: by line (ftp.c). */
		n = ftp_filter(c, d, (uint8_t *)raw, (size_t)got, fbuf, &why);
		if (n < 0) {
			conn_abort(c, why);
			return -1;
		}
		buf = (char *)fbuf;
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
	conn_metrics_bytes(c, d, off);
	if (off < (size_t)n) {
		sp = malloc(sizeof(*sp) + ((size_t)n - off));
		if (sp == NULL) {
			conn_abort(c, "out-of-memory");
			return -1;
		}
		sp->len = (uint32_t)((size_t)n - off);
		sp->off = 0;
		memcpy(sp->data, buf + off, sp->len);
		dir->spill = sp;
		return 1;
	}
	if (c->ftp != NULL)
		return got < FTP_READ_MAX ? 1 : 0;
	return n < (ssize_t)sizeof(raw) ? 1 : 0;
}

/*
 * Move what the source of d has, within RELAY_BUDGET reads.  urgent: the
 * poll said urgent data is pending, so look for its mark before reading.
 */
static int
relay_pump(struct conn *c, int d, bool urgent)
{
	struct conn_dir *dir = &c->dir[d];
	int src = conn_fd(c, d);
	ssize_t n;
	int i, rc;

	for (i = 0; i < RELAY_BUDGET && !relay_blocked(dir) && !dir->eof; i++) {
		if (urgent && relay_at_mark(src)) {
			if (relay_urgent(c, d) < 0)
				return -1;
			continue;
		}
		/* An FTP control connection is always copied (ftp.c). */
		if (dir->prd < 0 &&
		    (c->ftp != NULL ||
		        (i == 0 && dir->bytes < RELAY_COPY_MAX) ||
		        relay_pipe_take(c, dir) < 0)) {
			if ((rc = relay_copy(c, d)) < 0)
				return -1;
			if (rc > 0)
				break;
			continue;
		}
		n = splice(src, NULL, dir->pwr, NULL, RELAY_PIPE_SIZE,
		    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n > 0) {
			dir->pending = (uint32_t)n;
			relay_moved(c);
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
		/*
		 * splice() stops at an urgent mark: it says EAGAIN there (or
		 * 0 once a FIN is queued behind it), which is neither.
		 */
		if ((n == 0 || errno == EAGAIN) && relay_at_mark(src)) {
			if (relay_urgent(c, d) < 0)
				return -1;
			continue;
		}
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
	/* Drain first: writing frees room the read can then use. */
	if ((events & UV_WRITABLE) && relay_blocked(&c->dir[1 - side]) &&
	    relay_flush(c, 1 - side) < 0)
		return;
	if ((events & (UV_READABLE | UV_DISCONNECT | UV_PRIORITIZED)) &&
	    relay_pump(c, side, (events & UV_PRIORITIZED) != 0) < 0)
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
	if (relay_pump(c, side, false) < 0)
		return;
	relay_update(c);
}

/*
 * The kernel's struct tcp_info goes on past the fields glibc declares
 * (<linux/tcp.h> cannot be included beside <netinet/tcp.h>, which uv.h
 * pulls in).  The kernel only ever appends to it, so the layout is ABI:
 * tcpi_bytes_acked (Linux 4.1) follows the two pacing rates.
 */
struct relay_tcp_info {
	struct tcp_info base; /* up to tcpi_total_retrans */
	uint64_t pacing_rate, max_pacing_rate;
	uint64_t bytes_acked;
};
_Static_assert(offsetof(struct relay_tcp_info, bytes_acked) == 120,
    "tcpi_bytes_acked sits at offset 120 of the kernel's struct tcp_info");

int
relay_inject(struct conn *c, int d, const char *p, size_t n)
{
	struct conn_dir *dir = &c->dir[d];
	struct relay_spill *sp, *old = dir->spill;
	size_t left = old != NULL ? old->len - old->off : 0;
	ssize_t w = 0;

	if (dir->shut || n == 0)
		return 0; /* the destination is gone or done */
	if (old == NULL && dir->pending == 0) {
		do
			w = send(conn_fd(c, 1 - d), p, n,
			    MSG_DONTWAIT | MSG_NOSIGNAL);
		while (w < 0 && errno == EINTR);
		if (w < 0)
			w = 0; /* full, or an error the poll will report */
		conn_metrics_bytes(c, d, (uint64_t)w);
		if ((size_t)w == n)
			return 0;
	}
	sp = malloc(sizeof(*sp) + left + (n - (size_t)w));
	if (sp == NULL)
		return -1;
	if (left > 0)
		memcpy(sp->data, old->data + old->off, left);
	memcpy(sp->data + left, p + w, n - (size_t)w);
	sp->len = (uint32_t)(left + n - (size_t)w);
	sp->off = 0;
	free(old);
	dir->spill = sp;
	return 0;
}

bool
relay_peers_moved(struct conn *c)
{
	struct relay_tcp_info ti;
	socklen_t len;
	uint32_t acked = 0;
	bool moved;
	int s;

	for (s = 0; s < 2; s++) {
		len = sizeof(ti);
		if (getsockopt(
		        conn_fd(c, s), IPPROTO_TCP, TCP_INFO, &ti, &len) == 0 &&
		    len >= sizeof(ti))
			acked += (uint32_t)ti.bytes_acked;
	}
	moved = acked != c->acked_seen;
	c->acked_seen = acked;
	return moved;
}

void
relay_start(struct conn *c)
{
	int one = 1;

	c->ev[0] = c->ev[1] = -1; /* force the first uv_poll_start */
	relay_moved(c);
	/*
	 * Urgent data stays in the stream (relay_urgent forwards it as
	 * urgent), so splice and recv never skip or lose the byte.  Only
	 * relayed sockets: a program that gets the socket itself (exec,
	 * twist) sees it as the kernel made it.
	 */
	(void)setsockopt(
	    conn_fd(c, 0), SOL_SOCKET, SO_OOBINLINE, &one, sizeof(one));
	(void)setsockopt(
	    conn_fd(c, 1), SOL_SOCKET, SO_OOBINLINE, &one, sizeof(one));
	/*
	 * Most clients speak first, and their first bytes have usually
	 * arrived while we decided and connected: move them now rather than
	 * one loop turn later.  When nothing is there this costs one recv()
	 * that says EAGAIN.
	 */
	if (relay_pump(c, 0, false) < 0)
		return;
	relay_update(c);
}
