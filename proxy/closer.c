/*
 * closer.c - FIN now, or RST once the peer has what it was sent.
 */
#include <errno.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "closer.h"

void
closer_init(struct closer *cl, uv_loop_t *loop)
{
	cl->loop = loop;
	cl->v = NULL;
	cl->n = cl->cap = 0;
	cl->ticking = false;
	cl->closed = false;
	uv_timer_init(loop, &cl->timer);
	cl->timer.data = cl;
	/* Waiting sockets alone must not keep a finished worker alive. */
	uv_unref((uv_handle_t *)&cl->timer);
}

void
closer_fin(struct closer *cl, int fd)
{
	(void)cl;
	close(fd);
}

static void
closer_rst_now(int fd)
{
	struct linger lg = {1, 0};

	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

/*
 * 1: reset it now (nothing unacknowledged, or the connection is already
 * gone), 0: wait.  A socket that is not TCP has no reset: close it.
 */
static int
closer_ready(int fd, bool *tcp)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	int dom = 0, unacked = 0;
	socklen_t dlen = sizeof(dom);

	*tcp = getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &dom, &dlen) == 0 &&
	    (dom == AF_INET || dom == AF_INET6);
	if (!*tcp)
		return 1;
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0 ||
	    ti.tcpi_state == TCP_CLOSE || ti.tcpi_state == TCP_LISTEN)
		return 1;
	/* SIOCOUTQ: bytes written and not yet acknowledged by the peer. */
	if (ioctl(fd, SIOCOUTQ, &unacked) != 0)
		return 1;
	return unacked == 0;
}

static void closer_tick(uv_timer_t *t);

static void
closer_arm(struct closer *cl)
{
	if (cl->ticking || cl->n == 0)
		return;
	cl->ticking = true;
	uv_timer_start(&cl->timer, closer_tick, CLOSER_POLL_MS, CLOSER_POLL_MS);
}

static void
closer_tick(uv_timer_t *t)
{
	struct closer *cl = t->data;
	uint64_t now = uv_now(cl->loop);
	size_t i = 0;
	bool tcp;

	while (i < cl->n) {
		struct closer_wait *e = &cl->v[i];

		if (closer_ready(e->fd, &tcp) || now >= e->until) {
			if (tcp)
				closer_rst_now(e->fd);
			else
				close(e->fd);
			cl->v[i] = cl->v[--cl->n];
			continue;
		}
		i++;
	}
	if (cl->n == 0) {
		uv_timer_stop(&cl->timer);
		cl->ticking = false;
	}
}

void
closer_reset(struct closer *cl, int fd)
{
	struct closer_wait *nv;
	bool tcp;

	if (closer_ready(fd, &tcp) || cl->closed) {
		if (tcp)
			closer_rst_now(fd);
		else
			close(fd);
		return;
	}
	if (cl->n == cl->cap) {
		size_t ncap = cl->cap ? cl->cap * 2 : 8;

		if ((nv = realloc(cl->v, ncap * sizeof(*nv))) == NULL) {
			/* No room to wait: the reset is still owed. */
			closer_rst_now(fd);
			return;
		}
		cl->v = nv;
		cl->cap = ncap;
	}
	cl->v[cl->n].fd = fd;
	cl->v[cl->n].until = uv_now(cl->loop) + CLOSER_GRACE_MS;
	cl->n++;
	closer_arm(cl);
}

void
closer_close(struct closer *cl)
{
	size_t i;

	if (cl->closed)
		return;
	cl->closed = true;
	for (i = 0; i < cl->n; i++)
		closer_rst_now(cl->v[i].fd);
	free(cl->v);
	cl->v = NULL;
	cl->n = cl->cap = 0;
	uv_timer_stop(&cl->timer);
	uv_close((uv_handle_t *)&cl->timer, NULL);
}
