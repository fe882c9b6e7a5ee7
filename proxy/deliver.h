/*
 * deliver.h - handing a granted connection to the real daemon: a TCP or
 * UNIX backend (deliver_backend.c: connect, optional PROXY header, then
 * relay.c moves the bytes) or a program run inetd-style with the socket as
 * its standard input, output and error (deliver_exec.c).
 */
#ifndef WRAPD_DELIVER_H
#define WRAPD_DELIVER_H

struct conn;

/*
 * Start a non-blocking connect; relaying starts once it is up.  Called
 * again by the sweep for a connection that found no descriptor.
 */
void deliver_backend_connect(struct conn *c);
/* Spawn the service's program on the connection. */
void deliver_exec(struct conn *c);

#endif /* WRAPD_DELIVER_H */
