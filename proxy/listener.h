/*
 * listener.h - listening sockets: bound addresses (one SO_REUSEPORT socket
 * per worker) and sockets inherited from systemd or inetd.
 *
 * A struct lsock is shared by the snapshots that use it (refcounted, atomic)
 * so a reload that keeps a listener keeps its sockets open: nothing already
 * queued in the kernel's accept backlog is lost.
 */
#ifndef WRAPD_LISTENER_H
#define WRAPD_LISTENER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "conf.h"

struct lsock {
	atomic_uint refs;
	enum conf_listen_kind kind;
	char *key;  /* identity across reloads: kind + text as written */
	char *text; /* for logs */
	/*
	 * ADDR: one socket per worker (nfds == workers), each bound with
	 * SO_REUSEPORT so the kernel spreads connections over the workers
	 * with no shared accept lock.  Inherited sockets cannot be cloned:
	 * nfds == 1 and every worker polls that one socket (a non-blocking
	 * accept that loses the race just sees EAGAIN).
	 */
	int *fds;
	unsigned nfds;
	bool connected; /* an inherited, already accepted connection */
	bool owned;     /* close the fds when the last reference goes */
};

/*
 * Bind host:port nfds times with SO_REUSEPORT (after checking nobody else
 * holds the port).  "::" is bound dual-stack (IPV6_V6ONLY off), unless
 * v6only_any: then an IPv4 address on the same port is bound beside it,
 * and the dual-stack socket would take that port from it.  On error
 * returns NULL and fills err.
 */
struct lsock *listener_open_addr(const struct conf_listen *l, unsigned nfds,
    bool v6only_any, char *err, size_t errsz);
/* The identity of an address listener across reloads (lsock.key). */
void listener_addr_key(
    const struct conf_listen *l, bool v6only_any, char *buf, size_t sz);

/* Wrap an inherited fd (systemd fd >= 3, or stdin). */
struct lsock *listener_wrap_fd(enum conf_listen_kind kind, const char *key,
    const char *text, int fd, bool connected, bool owned);

/*
 * Stop the kernel accepting on a bound listener now (shutdown(SHUT_RD) of a
 * listening socket resets its backlog and refuses new connections), even
 * though some thread may still poll it: the fd stays valid until the last
 * reference goes, so its number cannot be reused under a poller.
 * Inherited sockets are left alone: systemd or inetd own them.
 */
void listener_shutdown(struct lsock *ls);

struct lsock *listener_ref(struct lsock *ls);
void listener_unref(struct lsock *ls);

/* The sockets systemd passed (LISTEN_FDS), read once at startup. */
struct inherited_fd {
	int fd;
	char *name;     /* LISTEN_FDNAMES entry, or "unknown" */
	bool connected; /* Accept=yes style: a connection, not a listener */
};

/*
 * Read and unset LISTEN_PID / LISTEN_FDS / LISTEN_FDNAMES.  Returns the
 * number of fds (0 when not socket-activated or LISTEN_PID is not us), or
 * -1 with err filled in.  Every fd gets FD_CLOEXEC and O_NONBLOCK.
 */
int listener_systemd_fds(struct inherited_fd **out, char *err, size_t errsz);
void listener_systemd_free(struct inherited_fd *v, int n);

/*
 * What fd 0 is: 1 = a listening stream socket (inetd wait), 2 = a connected
 * stream socket (inetd nowait), -1 = neither (err filled in).
 */
int listener_stdin_kind(char *err, size_t errsz);

#endif /* WRAPD_LISTENER_H */
