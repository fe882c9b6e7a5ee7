/*
 * accept_proxy.h - the PROXY header a load balancer sends first, read
 * before the decision stage for the services with accept_proxy_from
 * (accept_proxy.c).
 */
#ifndef WRAPD_ACCEPT_PROXY_H
#define WRAPD_ACCEPT_PROXY_H

#include <stdint.h>

struct conn;

/*
 * A connection of a service with accept_proxy_from was accepted: refuse
 * it unless its peer is listed, else read the header (state CONN_HEADER)
 * and then decide on the client it names (decide_start).
 */
void accept_proxy_start(struct conn *c);
/* The sweep: refuse a header not complete by its deadline. */
void accept_proxy_sweep(struct conn *c, uint64_t now);

#endif /* WRAPD_ACCEPT_PROXY_H */
