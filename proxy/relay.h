/*
 * relay.h - the data path: splice(2) from one socket into a pipe and from
 * the pipe into the other socket, so bulk payload never enters user space.
 * Only the first read of an idle direction goes through a small stack
 * buffer (recv/send): requests, replies and EOFs are cheaper that way
 * (bench/PROFILE-NOTES.md), and the buffer is gone when the call returns.
 *
 * Pipes come from a small per-loop pool and are held by a direction only
 * while it has bytes in flight; an idle connection holds no pipe and no
 * buffer.  Backpressure is the pipe: a direction with bytes still in its
 * pipe stops reading its source until the destination drains them, so a
 * connection never buffers more than two pipes' worth.
 */
#ifndef WRAPD_RELAY_H
#define WRAPD_RELAY_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Capacity asked of each pipe (F_SETPIPE_SZ); the kernel may give less
 * (fs.pipe-max-size, or an unprivileged user past fs.pipe-user-pages-soft
 * keeps the 64 KiB default).  1 MiB moves a bulk stream with about a
 * quarter less CPU than 256 KiB (fewer splice calls and skb operations,
 * measured); it is also the most a busy direction holds in the kernel.
 */
#ifndef RELAY_PIPE_SIZE /* -D for experiments (bench/PROFILE-NOTES.md) */
#define RELAY_PIPE_SIZE (1024 * 1024)
#endif
/* Empty pipes kept per loop for reuse. */
#define RELAY_POOL_MAX 32

struct relay_pool {
	int (*v)[2];
	size_t n, cap;
};

struct conn;

void relay_pool_init(struct relay_pool *p);
void relay_pool_free(struct relay_pool *p);
/* Take an empty pipe: 0, or -errno. */
int relay_pipe_get(struct relay_pool *p, int *rfd, int *wfd);
/* Give back an empty pipe (or close it if the pool is full). */
void relay_pipe_put(struct relay_pool *p, int rfd, int wfd);

/* Both sockets are connected: start moving bytes. */
void relay_start(struct conn *c);
/* A poll event on side (0 client, 1 backend). */
void relay_on_event(struct conn *c, int side, int events);
/*
 * Bytes of wrapd's own for the destination of direction d, after what the
 * direction already holds (the FTP helper's replies; only for a
 * connection on the copy path).  0, or -1 (no memory).
 */
int relay_inject(struct conn *c, int d, const char *p, size_t n);
/* Give back or close the pipes of a closing connection. */
void relay_release(struct conn *c);
/*
 * Have the peers acknowledged bytes since the last call?  wrapd sees its
 * own reads and writes; a slow reader that drains, byte by byte, what the
 * kernel already holds for it moves data too, and is not idle.
 */
bool relay_peers_moved(struct conn *c);

#endif /* WRAPD_RELAY_H */
