/*
 * closer.h - ending a connection's sockets without blocking the loop and
 * without lying to the peer.
 *
 * A socket ends one of two ways:
 *   closer_fin()    its peer really ended, or wrapd ends it on purpose
 *                   (a deny): a plain close(), so the kernel sends what is
 *                   queued and then FIN.  wrapd never sets SO_LINGER with a
 *                   timeout, so this close() cannot block.
 *   closer_reset()  an error, a reset of the other side, a timeout: the
 *                   peer must learn that the stream is cut, so it gets a
 *                   RST (SO_LINGER {1, 0}), but only once the bytes wrapd
 *                   already wrote to the socket are acknowledged (a RST
 *                   throws away the send queue), or after CLOSER_GRACE_MS
 *                   when the peer does not take them.
 * The sockets waiting for their acknowledgement are checked on a timer of
 * the worker's loop; a UNIX socket has no RST and is closed at once (its
 * peer sees EOF).
 */
#ifndef WRAPD_CLOSER_H
#define WRAPD_CLOSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

/* How long a reset waits for the peer to acknowledge what it was sent. */
#define CLOSER_GRACE_MS 10000
/* How often the waiting sockets are looked at. */
#define CLOSER_POLL_MS  20

struct closer_wait {
	int fd;
	uint64_t until; /* uv_now() value */
};

struct closer {
	uv_loop_t *loop;
	uv_timer_t timer;
	struct closer_wait *v;
	size_t n, cap;
	bool ticking;
	bool closed; /* the loop is ending: reset at once */
};

void closer_init(struct closer *cl, uv_loop_t *loop);
/* Close fd now (FIN after what is queued). */
void closer_fin(struct closer *cl, int fd);
/* Reset fd once what was written to it is acknowledged (see above). */
void closer_reset(struct closer *cl, int fd);
/*
 * The loop is ending: reset every waiting socket now and close the timer
 * (the loop must run once more).  Later closer_reset() calls reset at once.
 */
void closer_close(struct closer *cl);

#endif /* WRAPD_CLOSER_H */
