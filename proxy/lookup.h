/*
 * lookup.h - the asynchronous facts a rule can ask for: the verified host
 * name of an address (reverse look-up, then forward confirmation) and the
 * ident user of a TCP connection (RFC 1413).  Both run on a libuv loop, never
 * block it, and always call back exactly once (unless cancelled), with
 * ACL_UNKNOWN / ACL_PARANOID when the answer is not to be had in time.
 */
#ifndef WRAPD_LOOKUP_H
#define WRAPD_LOOKUP_H

#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

struct lookup_name;
struct lookup_ident;

/*
 * How an answer came about.  Only LOOKUP_ANSWERED is an answer in libwrap's
 * sense (a resolver or ident server said so, or failed on its own); the
 * others are placeholders for a question wrapd did not get answered, and a
 * verdict that depends on one must not grant (conn.c fails closed).
 */
enum lookup_status {
	LOOKUP_ANSWERED,  /* the fact, or ACL_UNKNOWN/ACL_PARANOID as libwrap
	                     would have it from the same replies */
	LOOKUP_TIMED_OUT, /* wrapd's deadline passed before the answer */
	LOOKUP_SKIPPED,   /* not asked: no resources, or the client's network
	                     (or all networks) at its cap of look-ups in
	                     flight (see struct lookup_name_caps) */
};

/*
 * name: the verified host name (<= ACL_STRING_MAX-1 bytes, NUL-terminated),
 * or ACL_UNKNOWN, or ACL_PARANOID.  Valid only during the callback.  With a
 * status other than LOOKUP_ANSWERED it is ACL_UNKNOWN or ACL_PARANOID.
 */
typedef void (*lookup_name_cb)(
    void *arg, const char *name, enum lookup_status status);
typedef void (*lookup_ident_cb)(
    void *arg, const char *user, enum lookup_status status);

/*
 * Start the double-reverse look-up of addr (an IPv4-mapped address is looked
 * up as IPv4).  The callback runs on loop once the look-ups finish or
 * timeout_ms passes (0: no deadline).  At the deadline the answer is
 * ACL_UNKNOWN if the reverse look-up had not finished, ACL_PARANOID if the
 * forward one had not.  When addr's network, or all networks, already have
 * as many look-ups in flight as the caps allow (struct lookup_name_caps), none is
 * made and the answer is ACL_UNKNOWN, LOOKUP_SKIPPED, at once.  Returns NULL
 * only when out of memory.
 */
struct lookup_name *lookup_name_start(uv_loop_t *loop,
    const struct sockaddr *addr, uint64_t timeout_ms, lookup_name_cb cb,
    void *arg);
/*
 * Stop caring: the callback will not run; resources are freed later.  Call
 * it only before the callback has run (or from inside it, a no-op): once
 * the callback has returned, l may already be freed.  Same for ident.
 */
void lookup_name_cancel(struct lookup_name *l);

/*
 * Ask the ident server on the client's port 113, connecting from the local
 * address of the accepted connection (port 0), with the query
 * "<client port> , <local port>\r\n".  Reply bounded, deadline timeout_ms
 * for connect and reply together (0: none, like libwrap's "rfc931 0").
 */
struct lookup_ident *lookup_ident_start(uv_loop_t *loop,
    const struct sockaddr *local, const struct sockaddr *client,
    uint64_t timeout_ms, lookup_ident_cb cb, void *arg);
void lookup_ident_cancel(struct lookup_ident *l);

/*
 * As lookup_ident_start(), but asking port `port` instead of 113: for tests,
 * which run their own ident servers on loopback.
 */
struct lookup_ident *lookup_ident_start_port(uv_loop_t *loop,
    const struct sockaddr *local, const struct sockaddr *client, unsigned port,
    uint64_t timeout_ms, lookup_ident_cb cb, void *arg);

/*
 * Name look-ups run on libuv's threadpool (4 threads by default), where one
 * client's slow resolver would hold up every look-up queued behind it.
 * Call this first thing in main, before anything uses the threadpool
 * (libuv reads the variable once, at the first uv_getaddrinfo,
 * uv_queue_work or uv_fs_* request).  It sets UV_THREADPOOL_SIZE to size
 * (0: LOOKUP_THREADPOOL_SIZE) unless the environment already sets it, and
 * returns the size in effect (clamped to 1..LOOKUP_THREADPOOL_MAX as libuv
 * clamps it), which the caps below follow.
 */
#define LOOKUP_THREADPOOL_SIZE 64
#define LOOKUP_THREADPOOL_MAX  1024 /* libuv's own limit */
unsigned lookup_name_init_threadpool(unsigned size);

/*
 * Caps on the resolver requests (getnameinfo, getaddrinfo) that name
 * look-ups have in flight, so that a reverse zone that never answers, for
 * one client network, cannot take the threads the look-ups of other
 * networks need.  A network is the client's IPv4 /24 (one in-addr.arpa
 * zone) or IPv6 /48 (one site); an IPv4-mapped address counts as IPv4, and
 * the look-up of a server's name counts for the server address's network.
 * A request is counted from the moment it is queued until its completion
 * callback runs, even when wrapd has given up on it at the deadline: only
 * then is its thread free.  A look-up that would go over a cap is not made:
 * it answers ACL_UNKNOWN with LOOKUP_SKIPPED, from the loop.
 *
 * From the threadpool size in effect (pool):
 *   slow_io     = (pool + 1) / 2: libuv runs at most that many resolver
 *                 requests at once; more wait in its queue
 *   ceiling     = slow_io - 1 (slow_io when that is 2 or less): all networks
 *                 together, so no look-up ever waits in libuv's queue and
 *                 a slow-I/O thread stays free for anything else
 *   per_network = ceiling / 4 (at least 1): one stuck network leaves three
 *                 quarters of the ceiling to the others
 * With the default pool of 64: 32, 31 and 7.
 */
struct lookup_name_caps {
	unsigned pool;
	unsigned slow_io;
	unsigned ceiling;
	unsigned per_network;
};
#define LOOKUP_CEILING_MAX ((LOOKUP_THREADPOOL_MAX + 1) / 2 - 1)
/* The caps for a pool of `pool` threads (clamped as libuv does). */
void lookup_name_caps_for(unsigned pool, struct lookup_name_caps *caps);
/*
 * The caps in effect: for the size lookup_name_init_threadpool() returned, or,
 * if it was never called, for the size libuv will use.
 */
void lookup_name_caps(struct lookup_name_caps *caps);
/*
 * Read-only counters (for tests and diagnostics): the resolver requests in
 * flight for addr's network, or for all networks when addr is NULL (0 for
 * an address that is not IP).
 */
unsigned lookup_name_inflight(const struct sockaddr *addr);

/*
 * The RFC 1413 reply parser (pure, fuzzed): reply is what the server sent
 * (not NUL-terminated).  On a well-formed USERID reply for the expected
 * ports, copy the user (first word, truncated to usersz-1) and return 0;
 * otherwise return -1.
 */
int lookup_ident_parse_reply(const char *reply, size_t len,
    unsigned client_port, unsigned server_port, char *user, size_t usersz);

#endif /* WRAPD_LOOKUP_H */
