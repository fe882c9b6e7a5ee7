/*
 * backend.h - delivering a granted connection: a TCP or UNIX backend
 * (backend.c) or a program run inetd-style with the socket as its standard
 * input, output and error (exec_delivery.c).
 */
#ifndef WRAPD_BACKEND_H
#define WRAPD_BACKEND_H

struct conn;

/* Start a non-blocking connect; relaying starts once it is up. */
void backend_connect(struct conn *c);
/* Spawn the service's program on the connection. */
void exec_deliver(struct conn *c);

#endif /* WRAPD_BACKEND_H */
