/*
 * control.h - the control socket (`wrapd bans`, `wrapd status`) and
 * SIGUSR1 (the status in the log), on the control loop.
 *
 * The socket is a UNIX stream socket at the configuration's `control`
 * path (CONF_DEFAULT_CONTROL; none in quick mode without --control),
 * bound while wrapd is still root: its directory is made mode 0700 if it
 * is missing and must be one that only root (or wrapd's owner) can
 * change (conf_trust.h); the socket is mode 0600.  Each client's
 * credentials (SO_PEERCRED) are checked as well: only root, or the user
 * who started wrapd, is served.  The protocol is control_proto.h's.
 *
 * The socket serves observation only: without it (in use by another
 * wrapd, a directory others could change, not root) wrapd logs why and
 * runs on, deciding connections exactly the same way.
 */
#ifndef WRAPD_CONTROL_H
#define WRAPD_CONTROL_H

#include <sys/types.h>

struct server;
struct wrapd_conf;

#define CONTROL_CLIENTS_MAX 8    /* served at once; more are closed */
#define CONTROL_CLIENT_MS   5000 /* a client's whole exchange */

/*
 * Bind the control socket at path for a wrapd started by owner (before the
 * privilege drop): its descriptor, or -1 (logged; run without it).
 */
int control_bind(const char *path, uid_t owner);
/*
 * On the control loop, before the workers start: serve fd (-1: none),
 * bound at path, and SIGUSR1.  -1 when out of memory.
 */
int control_start(struct server *srv, int fd, const char *path);
/* A reload: a changed `control` needs a restart (logged). */
void control_reload(struct server *srv, const struct wrapd_conf *conf);
/* The workers are done: close everything, remove the socket. */
void control_close(struct server *srv);

#endif /* WRAPD_CONTROL_H */
