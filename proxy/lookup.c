/*
 * lookup.c - the verified host name of an address, without blocking the
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
 * Threadpool: each look-up holds at most one pool thread at a time, but a
 * resolver that never answers holds it for the resolver's own timeout
 * (resolv.conf timeout x attempts), long after our deadline.  With libuv's
 * default 4 threads a few such clients stall everyone's look-ups, so the
 * proxy enlarges the pool at start-up (lookup_init_threadpool()).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netdb.h>
#include <netinet/in.h>

#include "acl.h"
#include "lookup.h"

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
	int pending;        /* requests in flight + the timer until closed */
	bool req_busy;      /* ni or ai is in flight */
	bool done;          /* answered or cancelled */
	const char *result; /* an answer found before the loop ran */
	enum lookup_status result_status;
	char name[ACL_STRING_MAX];
};

static void
lookup_unref(struct lookup_name *l)
{
	if (--l->pending == 0)
		free(l);
}

static void
lookup_timer_closed(uv_handle_t *h)
{
	lookup_unref(h->data);
}

/*
 * Stop caring about the outstanding request: a queued one is taken off the
 * threadpool queue (its callback then reports UV_ECANCELED); a running one
 * finishes in its own time.
 */
static void
lookup_abandon(struct lookup_name *l)
{
	l->done = true;
	if (l->req_busy) {
		if (l->stage == LOOKUP_REVERSE)
			uv_cancel((uv_req_t *)&l->ni);
		else
			uv_cancel((uv_req_t *)&l->ai);
	}
	if (!uv_is_closing((uv_handle_t *)&l->timer))
		uv_close((uv_handle_t *)&l->timer, lookup_timer_closed);
}

static void
lookup_finish(
    struct lookup_name *l, const char *name, enum lookup_status status)
{
	if (l->done)
		return;
	lookup_abandon(l);
	l->cb(l->arg, name, status);
}

static void
lookup_timer_cb(uv_timer_t *t)
{
	struct lookup_name *l = t->data;

	if (l->result != NULL)
		lookup_finish(l, l->result, l->result_status);
	else
		lookup_finish(l,
		    l->stage == LOOKUP_REVERSE ? ACL_UNKNOWN : ACL_PARANOID,
		    LOOKUP_TIMED_OUT);
}

static void
lookup_forward_cb(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
	struct lookup_name *l = req->data;

	l->req_busy = false;
	if (!l->done) {
		const char *name = acl_verify_name((struct sockaddr *)&l->addr,
		    l->name, status == 0 ? res : NULL);

		lookup_finish(l, name, LOOKUP_ANSWERED);
	}
	if (res != NULL)
		uv_freeaddrinfo(res);
	lookup_unref(l);
}

static void
lookup_reverse_cb(
    uv_getnameinfo_t *req, int status, const char *host, const char *service)
{
	struct lookup_name *l = req->data;
	struct addrinfo hints;

	(void)service;
	l->req_busy = false;
	if (l->done) {
		lookup_unref(l);
		return;
	}
	if (status != 0 || host == NULL) {
		lookup_finish(l,
		    acl_verify_name((struct sockaddr *)&l->addr, NULL, NULL),
		    LOOKUP_ANSWERED);
		lookup_unref(l);
		return;
	}
	/*
	 * A name from DNS may hold any byte; it is kept as a C string (cut at
	 * a NUL) and cut to 127 bytes *before* the forward check, as libwrap
	 * does (a long name then normally fails to confirm: "paranoid", the
	 * same answer libwrap gives; see tests/lookup).  cli_resolve.c does
	 * the same.  Sanitising for shells is acl_expand's job.
	 */
	acl_string_copy(l->name, sizeof(l->name), host);

	/* The forward look-up in the same family, as libwrap does it. */
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = l->addr.ss_family;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_CANONNAME;
	l->stage = LOOKUP_FORWARD;
	l->ai.data = l;
	if (uv_getaddrinfo(req->loop, &l->ai, lookup_forward_cb, l->name, NULL,
	        &hints) == 0) {
		l->req_busy = true;
		return; /* the reference passes to the forward request */
	}
	/* The forward question could not be asked (no resources). */
	lookup_finish(l, ACL_PARANOID, LOOKUP_SKIPPED);
	lookup_unref(l);
}

int
lookup_addr_unmap(struct sockaddr_storage *ss, const struct sockaddr *sa)
{
	memset(ss, 0, sizeof(*ss));
	if (sa == NULL)
		return -1;
	if (sa->sa_family == AF_INET) {
		memcpy(ss, sa, sizeof(struct sockaddr_in));
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

			s4->sin_family = AF_INET;
			s4->sin_port = s6->sin6_port;
			memcpy(&s4->sin_addr, &s6->sin6_addr.s6_addr[12], 4);
		} else
			memcpy(ss, sa, sizeof(*s6));
		return 0;
	}
	return -1;
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
	if (lookup_addr_unmap(&l->addr, addr) == 0) {
		if (uv_getnameinfo(loop, &l->ni, lookup_reverse_cb,
		        (struct sockaddr *)&l->addr, NI_NAMEREQD) == 0) {
			l->result = NULL;
			l->pending++;
			l->req_busy = true;
			if (timeout_ms > 0)
				uv_timer_start(
				    &l->timer, lookup_timer_cb, timeout_ms, 0);
			return l;
		}
		l->result_status = LOOKUP_SKIPPED; /* no resources */
	}
	uv_timer_start(&l->timer, lookup_timer_cb, 0, 0);
	return l;
}

void
lookup_name_cancel(struct lookup_name *l)
{
	if (l == NULL || l->done)
		return;
	lookup_abandon(l);
}

unsigned
lookup_init_threadpool(unsigned size)
{
	const char *cur = getenv("UV_THREADPOOL_SIZE");
	char buf[16];

	/* An administrator's explicit setting wins (libuv clamps it). */
	if (cur != NULL && *cur != '\0') {
		unsigned long n = strtoul(cur, NULL, 10);

		return n < 1 ? 1 : n > 1024 ? 1024 : (unsigned)n;
	}
	if (size == 0)
		size = LOOKUP_THREADPOOL_SIZE;
	snprintf(buf, sizeof(buf), "%u", size);
	setenv("UV_THREADPOOL_SIZE", buf, 1);
	return size;
}
