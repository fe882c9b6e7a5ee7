/*
 * lookup_name.c - the verified host name of an address, without blocking the
 * loop: reverse look-up (uv_getnameinfo), forward confirmation of that name
 * (uv_getaddrinfo), then acl_verify_name() decides, so the proxy and
 * `wrapd match` agree on what "unknown" and "paranoid" mean.
 *
 * Deadline: when timeout_ms passes first, the answer is ACL_UNKNOWN if the
 * reverse look-up had not finished (we have no name at all, as when it
 * fails), or ACL_PARANOID if the forward one had not (we have a name we
 * could not confirm, as when the forward look-up fails).
 *
 * Lifetime: a getnameinfo/getaddrinfo request already running on libuv's
 * threadpool cannot be stopped, and its completion callback will still
 * arrive, so the struct stays allocated until every request and the timer
 * have reported back ("pending"); a request still queued is cancelled.
 *
 * Threadpool: each look-up has at most one request (reverse, then forward)
 * on libuv's pool at a time, but a resolver that never answers holds its
 * thread for the resolver's own timeout (resolv.conf timeout x attempts),
 * long after our deadline, and libuv runs at most half the pool's threads
 * on resolver requests ("slow I/O"); the others wait in its queue, in
 * order.  So the proxy enlarges the pool at start-up
 * (lookup_name_init_threadpool()), and every request is counted, per client
 * network and in all, from the moment it is queued until its callback
 * arrives, against caps below libuv's slow-I/O share (struct lookup_name_caps in
 * lookup.h): the clients of a network whose reverse zone is dead hold at
 * most their network's share of threads, and no request ever waits in
 * libuv's queue behind theirs.  A look-up over a cap is not made at all
 * (LOOKUP_SKIPPED): refusing at once is the only answer that neither
 * delays the other networks nor grants anything.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netdb.h>
#include <netinet/in.h>

#include "acl.h"
#include "log.h"
#include "lookup.h"

/*
 * A client network, for the caps: IPv4 /24 is the unit of reverse-zone
 * delegation (one in-addr.arpa zone, so one dead server stalls exactly
 * it); IPv6 /48 is one site, the usual ip6.arpa delegation to a customer,
 * where a finer /64 would give a single site 65,536 networks to spread a
 * flood over.
 */
#define LOOKUP_NET_V4_BYTES 3 /* /24 */
#define LOOKUP_NET_V6_BYTES 6 /* /48 */

#define LOOKUP_LIBUV_POOL_DEFAULT 4 /* without UV_THREADPOOL_SIZE */
#define LOOKUP_WARN_INTERVAL_NS   1000000000ULL

struct lookup_net {
	uint64_t key;      /* lookup_name_net_key() */
	unsigned inflight; /* at least 1: an entry with none is removed */
};

/*
 * The requests in flight, shared by every worker loop (the threadpool is
 * process-wide), under one mutex.  An entry exists only while its network
 * has a request in flight and there are never more than `ceiling` of those,
 * so hostile clients cannot grow the table past LOOKUP_CEILING_MAX entries:
 * a plain array, kept packed, searched linearly (one entry per network with
 * a look-up in flight: 31 at most with the default pool).
 */
static struct {
	pthread_mutex_t mu;
	unsigned pool;  /* threadpool size the caps follow; 0: not known yet */
	unsigned total; /* requests in flight, all networks */
	size_t nnets;
	struct lookup_net nets[LOOKUP_CEILING_MAX];
	/* Look-ups not made since the last warning, for the log. */
	unsigned long skipped_net, skipped_all;
	uint64_t skipped_key; /* the last network found at its cap */
	uint64_t warned_ns;   /* uv_hrtime() of the last warning, 0: none */
} lookup_flight = {.mu = PTHREAD_MUTEX_INITIALIZER};

enum lookup_stage {
	LOOKUP_REVERSE,
	LOOKUP_FORWARD,
};

struct lookup_name {
	lookup_name_cb cb;
	void *arg;
	struct sockaddr_storage addr; /* IPv4-mapped turned into IPv4 */
	uv_getnameinfo_t ni;
	uv_getaddrinfo_t ai;
	uv_timer_t timer;
	enum lookup_stage stage;
	uint64_t net;       /* the client network, lookup_name_net_key() */
	int pending;        /* requests in flight + the timer until closed */
	bool req_busy;      /* ni or ai is in flight (and counted for net) */
	bool done;          /* answered or cancelled */
	const char *result; /* an answer found before the loop ran */
	enum lookup_status result_status;
	char name[ACL_STRING_MAX];
};

/* UV_THREADPOOL_SIZE as libuv takes it: 0 counts as 1, at most 1024. */
static unsigned
lookup_name_pool_clamp(unsigned long n)
{
	if (n < 1)
		return 1;
	return n > LOOKUP_THREADPOOL_MAX ? LOOKUP_THREADPOOL_MAX : (unsigned)n;
}

void
lookup_name_caps_for(unsigned pool, struct lookup_name_caps *caps)
{
	caps->pool = lookup_name_pool_clamp(pool);
	/* libuv's slow_work_thread_threshold(). */
	caps->slow_io = (caps->pool + 1) / 2;
	/*
	 * One slow-I/O thread held back, except in a pool so small that
	 * holding one back would leave room for a single look-up, which one
	 * stuck network could then take from everyone.
	 */
	caps->ceiling = caps->slow_io > 2 ? caps->slow_io - 1 : caps->slow_io;
	caps->per_network = caps->ceiling >= 4 ? caps->ceiling / 4 : 1;
}

/* The pool size the caps follow; call with the mutex held. */
static unsigned
lookup_name_pool_locked(void)
{
	if (lookup_flight.pool == 0) {
		/* lookup_name_init_threadpool() was not called: libuv's choice. */
		const char *v = getenv("UV_THREADPOOL_SIZE");

		lookup_flight.pool = v == NULL
		    ? LOOKUP_LIBUV_POOL_DEFAULT
		    : lookup_name_pool_clamp(strtoul(v, NULL, 10));
	}
	return lookup_flight.pool;
}

void
lookup_name_caps(struct lookup_name_caps *caps)
{
	pthread_mutex_lock(&lookup_flight.mu);
	lookup_name_caps_for(lookup_name_pool_locked(), caps);
	pthread_mutex_unlock(&lookup_flight.mu);
}

/* The network of an IPv4 or IPv6 address: family, then the prefix bytes. */
static uint64_t
lookup_name_net_key(const struct sockaddr_storage *ss)
{
	const unsigned char *p;
	uint64_t key = ss->ss_family;
	size_t i, n;

	if (ss->ss_family == AF_INET) {
		p = (const unsigned char *)&((const struct sockaddr_in *)ss)
		        ->sin_addr;
		n = LOOKUP_NET_V4_BYTES;
	} else {
		p = ((const struct sockaddr_in6 *)ss)->sin6_addr.s6_addr;
		n = LOOKUP_NET_V6_BYTES;
	}
	for (i = 0; i < n; i++)
		key = key << 8 | p[i];
	return key;
}

/* "192.0.2.0/24" or "2001:db8:1::/48", for the log. */
static void
lookup_name_net_text(uint64_t key, char *buf, size_t size)
{
	if (key >> 8 * LOOKUP_NET_V6_BYTES == AF_INET6)
		snprintf(buf, size, "%x:%x:%x::/48",
		    (unsigned)(key >> 32 & 0xffff),
		    (unsigned)(key >> 16 & 0xffff), (unsigned)(key & 0xffff));
	else
		snprintf(buf, size, "%u.%u.%u.0/24",
		    (unsigned)(key >> 16 & 0xff), (unsigned)(key >> 8 & 0xff),
		    (unsigned)(key & 0xff));
}

/* Call with the mutex held. */
static struct lookup_net *
lookup_name_net_find(uint64_t key)
{
	size_t i;

	for (i = 0; i < lookup_flight.nnets; i++)
		if (lookup_flight.nets[i].key == key)
			return &lookup_flight.nets[i];
	return NULL;
}

/* What the warning about look-ups not made says. */
struct lookup_skips {
	unsigned long net, all;
	char last[64]; /* the last network found at its cap */
};

/*
 * Count a look-up not made.  Returns true, with the counts since the last
 * warning taken into *out, when a warning is due: one a second at most (and
 * a burst's tail waits for the next skip).  Call with the mutex held.
 */
static bool
lookup_name_flight_skip_locked(
    uint64_t key, bool at_ceiling, struct lookup_skips *out)
{
	uint64_t now = uv_hrtime();

	if (at_ceiling)
		lookup_flight.skipped_all++;
	else {
		lookup_flight.skipped_net++;
		lookup_flight.skipped_key = key;
	}
	if (lookup_flight.warned_ns != 0 &&
	    now - lookup_flight.warned_ns < LOOKUP_WARN_INTERVAL_NS)
		return false;
	lookup_flight.warned_ns = now;
	out->net = lookup_flight.skipped_net;
	out->all = lookup_flight.skipped_all;
	snprintf(out->last, sizeof(out->last), "-");
	if (out->net > 0)
		lookup_name_net_text(
		    lookup_flight.skipped_key, out->last, sizeof(out->last));
	lookup_flight.skipped_net = lookup_flight.skipped_all = 0;
	return true;
}

/*
 * Count one more request for network `key`.  Returns false, counting
 * nothing, when that network or all networks are at their cap.
 */
static bool
lookup_name_flight_take(uint64_t key)
{
	struct lookup_name_caps caps;
	struct lookup_skips skips;
	struct lookup_net *n;
	bool at_ceiling, warn;

	pthread_mutex_lock(&lookup_flight.mu);
	lookup_name_caps_for(lookup_name_pool_locked(), &caps);
	n = lookup_name_net_find(key);
	at_ceiling = lookup_flight.total >= caps.ceiling;
	if (at_ceiling || (n != NULL && n->inflight >= caps.per_network)) {
		warn = lookup_name_flight_skip_locked(key, at_ceiling, &skips);
		pthread_mutex_unlock(&lookup_flight.mu);
		if (warn)
			log_warnx("name look-ups not made, too many in flight: "
			          "%lu from networks at their cap of %u (last "
			          "%s), %lu at the ceiling of %u for all",
			    skips.net, caps.per_network, skips.last, skips.all,
			    caps.ceiling);
		return false;
	}
	/* nnets <= total < ceiling <= LOOKUP_CEILING_MAX: there is room. */
	if (n == NULL) {
		n = &lookup_flight.nets[lookup_flight.nnets++];
		n->key = key;
		n->inflight = 0;
	}
	n->inflight++;
	lookup_flight.total++;
	pthread_mutex_unlock(&lookup_flight.mu);
	return true;
}

/* A request of network `key` has called back: its thread is free. */
static void
lookup_name_flight_put(uint64_t key)
{
	struct lookup_net *n;

	pthread_mutex_lock(&lookup_flight.mu);
	if ((n = lookup_name_net_find(key)) != NULL) {
		lookup_flight.total--;
		if (--n->inflight == 0)
			*n = lookup_flight.nets[--lookup_flight.nnets];
	}
	pthread_mutex_unlock(&lookup_flight.mu);
}

unsigned
lookup_name_inflight(const struct sockaddr *addr)
{
	struct sockaddr_storage ss;
	struct lookup_net *n;
	unsigned count;

	if (addr != NULL && acl_sockaddr_unmap(&ss, addr) != 0)
		return 0;
	pthread_mutex_lock(&lookup_flight.mu);
	if (addr == NULL)
		count = lookup_flight.total;
	else
		count =
		    (n = lookup_name_net_find(lookup_name_net_key(&ss))) != NULL
		    ? n->inflight
		    : 0;
	pthread_mutex_unlock(&lookup_flight.mu);
	return count;
}

static void
lookup_name_unref(struct lookup_name *l)
{
	if (--l->pending == 0)
		free(l);
}

static void
lookup_name_timer_closed(uv_handle_t *h)
{
	lookup_name_unref(h->data);
}

/*
 * Stop caring about the outstanding request: a queued one is taken off the
 * threadpool queue (its callback then reports UV_ECANCELED); a running one
 * finishes in its own time.
 */
static void
lookup_name_abandon(struct lookup_name *l)
{
	l->done = true;
	if (l->req_busy) {
		if (l->stage == LOOKUP_REVERSE)
			uv_cancel((uv_req_t *)&l->ni);
		else
			uv_cancel((uv_req_t *)&l->ai);
	}
	if (!uv_is_closing((uv_handle_t *)&l->timer))
		uv_close((uv_handle_t *)&l->timer, lookup_name_timer_closed);
}

static void
lookup_name_finish(
    struct lookup_name *l, const char *name, enum lookup_status status)
{
	if (l->done)
		return;
	lookup_name_abandon(l);
	l->cb(l->arg, name, status);
}

static void
lookup_name_timer_cb(uv_timer_t *t)
{
	struct lookup_name *l = t->data;

	if (l->result != NULL)
		lookup_name_finish(l, l->result, l->result_status);
	else
		lookup_name_finish(l,
		    l->stage == LOOKUP_REVERSE ? ACL_UNKNOWN : ACL_PARANOID,
		    LOOKUP_TIMED_OUT);
}

static void
lookup_name_forward_cb(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
	struct lookup_name *l = req->data;

	l->req_busy = false;
	/* Before the callback, which may start the next look-up. */
	lookup_name_flight_put(l->net);
	if (!l->done) {
		const char *name = acl_verify_name((struct sockaddr *)&l->addr,
		    l->name, status == 0 ? res : NULL);

		lookup_name_finish(l, name, LOOKUP_ANSWERED);
	}
	if (res != NULL)
		uv_freeaddrinfo(res);
	lookup_name_unref(l);
}

/*
 * Ask for the addresses of the name the reverse look-up gave.  Returns 0
 * when the request is queued.
 */
static int
lookup_name_forward_start(
    struct lookup_name *l, uv_loop_t *loop, const char *host)
{
	struct addrinfo hints;

	/*
	 * A name from DNS may hold any byte; it is kept as a C string (cut at
	 * a NUL) and cut to 127 bytes *before* the forward check, as libwrap
	 * does (a long name then normally fails to confirm: "paranoid", the
	 * same answer libwrap gives; see tests/lookup).  cli_resolve.c does
	 * the same.  Sanitising for shells is acl_expand's job.
	 */
	acl_request_copy_string(l->name, sizeof(l->name), host);

	/* The forward look-up in the same family, as libwrap does it. */
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = l->addr.ss_family;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_CANONNAME;
	l->stage = LOOKUP_FORWARD;
	l->ai.data = l;
	if (uv_getaddrinfo(loop, &l->ai, lookup_name_forward_cb, l->name, NULL,
	        &hints) != 0)
		return -1;
	l->req_busy = true;
	return 0;
}

static void
lookup_name_reverse_cb(
    uv_getnameinfo_t *req, int status, const char *host, const char *service)
{
	struct lookup_name *l = req->data;
	const char *answer = ACL_UNKNOWN;
	enum lookup_status how = LOOKUP_ANSWERED;

	(void)service;
	l->req_busy = false;
	if (!l->done && status == 0 && host != NULL) {
		/*
		 * The network's count and the reference pass to the forward
		 * request: the name came from the client's reverse zone, so a
		 * stuck forward zone is charged to the client's network too.
		 */
		if (lookup_name_forward_start(l, req->loop, host) == 0)
			return;
		/* The forward question could not be asked (no resources). */
		answer = ACL_PARANOID;
		how = LOOKUP_SKIPPED;
	} else if (!l->done)
		answer =
		    acl_verify_name((struct sockaddr *)&l->addr, NULL, NULL);
	/* Before the callback, which may start the next look-up. */
	lookup_name_flight_put(l->net);
	lookup_name_finish(l, answer, how);
	lookup_name_unref(l);
}

/* Queue the reverse look-up; returns 0 when it is queued. */
static int
lookup_name_reverse_start(
    struct lookup_name *l, uv_loop_t *loop, uint64_t timeout_ms)
{
	if (uv_getnameinfo(loop, &l->ni, lookup_name_reverse_cb,
	        (struct sockaddr *)&l->addr, NI_NAMEREQD) != 0)
		return -1;
	l->result = NULL;
	l->pending++;
	l->req_busy = true;
	if (timeout_ms > 0)
		uv_timer_start(&l->timer, lookup_name_timer_cb, timeout_ms, 0);
	return 0;
}

struct lookup_name *
lookup_name_start(uv_loop_t *loop, const struct sockaddr *addr,
    uint64_t timeout_ms, lookup_name_cb cb, void *arg)
{
	struct lookup_name *l;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return NULL;
	l->cb = cb;
	l->arg = arg;
	l->stage = LOOKUP_REVERSE;
	uv_timer_init(loop, &l->timer);
	l->timer.data = l;
	l->pending = 1;
	l->ni.data = l;
	/*
	 * When no look-up can be started, the answer still comes from the
	 * loop, never from inside this call, where the caller has not stored
	 * l yet.  Not an IP address: no name, as libwrap would say.
	 */
	l->result = ACL_UNKNOWN;
	l->result_status = LOOKUP_ANSWERED;
	if (acl_sockaddr_unmap(&l->addr, addr) == 0) {
		/*
		 * Skipped when the network (or all) is at its cap, or when
		 * the question cannot be queued (no resources).
		 */
		l->result_status = LOOKUP_SKIPPED;
		l->net = lookup_name_net_key(&l->addr);
		if (lookup_name_flight_take(l->net)) {
			if (lookup_name_reverse_start(l, loop, timeout_ms) == 0)
				return l;
			lookup_name_flight_put(l->net);
		}
	}
	uv_timer_start(&l->timer, lookup_name_timer_cb, 0, 0);
	return l;
}

void
lookup_name_cancel(struct lookup_name *l)
{
	if (l == NULL || l->done)
		return;
	lookup_name_abandon(l);
}

unsigned
lookup_name_init_threadpool(unsigned size)
{
	const char *cur = getenv("UV_THREADPOOL_SIZE");
	char buf[16];
	unsigned n;

	/* An administrator's explicit setting wins (libuv clamps it). */
	if (cur != NULL && *cur != '\0')
		n = lookup_name_pool_clamp(strtoul(cur, NULL, 10));
	else {
		n = lookup_name_pool_clamp(
		    size == 0 ? LOOKUP_THREADPOOL_SIZE : size);
		snprintf(buf, sizeof(buf), "%u", n);
		setenv("UV_THREADPOOL_SIZE", buf, 1);
	}
	/* The caps follow the size libuv will use. */
	pthread_mutex_lock(&lookup_flight.mu);
	lookup_flight.pool = n;
	pthread_mutex_unlock(&lookup_flight.mu);
	return n;
}
