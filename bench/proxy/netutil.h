/*
 * netutil.h - the few helpers the benchmark's load generator and backend
 * share: IPv4 address parsing, the fd limit, a monotonic clock.
 */
#ifndef WRAPD_BENCH_NETUTIL_H
#define WRAPD_BENCH_NETUTIL_H

#include <netinet/in.h>
#include <stdint.h>

/* "A.B.C.D:PORT" -> sa; 0 or -1.  IPv4 only: the bench is loopback only. */
int netutil_parse_addr(const char *s, struct sockaddr_in *sa);
/* Raise the soft RLIMIT_NOFILE to the hard limit; returns the new soft limit. */
long netutil_raise_nofile(void);
/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t netutil_now_ns(void);

#endif /* WRAPD_BENCH_NETUTIL_H */
