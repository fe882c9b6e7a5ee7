/*
 * admit.c - bans, per_source.rate and per_source.connections at accept;
 * denials counted for the bans; their summaries in the log.
 *
 * Fail closed: a refusal only ever hits the source that earned it (a
 * source is an IPv4 address or an IPv6 /64, source.h), and never the
 * service.  A ban table that is full forgets the denials of the least
 * recently denied source first, and lifts a ban only when it holds
 * nothing but bans (the one with the least time left); each is counted
 * and said in the log (ban.h).  A rate table that is full can forget a
 * source's debt early (action_limit.c): it may let a source in a little
 * more often than its rate, never refuse one that kept to it.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "action_limit.h"
#include "admit.h"
#include "conn.h"
#include "log.h"
#include "snapshot.h"
#include "worker.h"

/* Bans ended, logged one by one per sweep; the rest in one line. */
#define ADMIT_EXPIRED_LOG 32

struct admit_state {
	struct ban_table *bans;
	struct action_limit *rate; /* per_source.rate; max_running unused */
	atomic_uint_least64_t rate_gen; /* snapshot that configured rate */
	atomic_uint_least64_t refused_conns, refused_rate;
	/* Since the last summary. */
	atomic_uint_least64_t pend_rate, pend_ban;
	pthread_mutex_t mu; /* the fields below, and configuring rate */
	struct acl_addr last_rate, last_ban;
	uint64_t logged_evicted_bans, logged_evicted_tracks;
};

struct admit_state *
admit_state_new(void)
{
	struct admit_state *as = calloc(1, sizeof(*as));

	if (as == NULL)
		return NULL;
	as->bans = ban_table_new();
	as->rate = action_limit_new(0, 0, 0, 0);
	if (as->bans == NULL || as->rate == NULL) {
		ban_table_free(as->bans);
		action_limit_free(as->rate);
		free(as);
		return NULL;
	}
	atomic_init(&as->rate_gen, 0);
	atomic_init(&as->refused_conns, 0);
	atomic_init(&as->refused_rate, 0);
	atomic_init(&as->pend_rate, 0);
	atomic_init(&as->pend_ban, 0);
	pthread_mutex_init(&as->mu, NULL);
	return as;
}

void
admit_state_free(struct admit_state *as)
{
	if (as == NULL)
		return;
	ban_table_free(as->bans);
	action_limit_free(as->rate);
	pthread_mutex_destroy(&as->mu);
	free(as);
}

struct ban_table *
admit_bans(struct admit_state *as)
{
	return as->bans;
}

/*
 * The rate of the newest snapshot that has one: a worker still on an older
 * snapshot during a reload must not set the old rate back (a change of
 * rate starts every source afresh; the same rate keeps their debts).
 */
static void
admit_rate_configure(struct admit_state *as, const struct snapshot *snap,
    const struct conf_service *cs)
{
	if (snap->gen <= atomic_load(&as->rate_gen))
		return;
	pthread_mutex_lock(&as->mu);
	if (snap->gen > atomic_load(&as->rate_gen)) {
		atomic_store(&as->rate_gen, snap->gen);
		action_limit_configure(as->rate, 0, cs->per_source_rate_count,
		    cs->per_source_rate_secs);
	}
	pthread_mutex_unlock(&as->mu);
}

static void
admit_params(const struct conf_service *cs, struct ban_params *p)
{
	p->after = cs->ban.after;
	p->within_ms = cs->ban.within_ms;
	p->for_ms = cs->ban.for_ms;
	p->max = cs->ban.max_sources;
}

static void
admit_fmt_ms(uint64_t ms, char *buf, size_t sz)
{
	if (ms % 1000 == 0)
		snprintf(buf, sz, "%llus", (unsigned long long)(ms / 1000));
	else
		snprintf(buf, sz, "%llums", (unsigned long long)ms);
}

/* One denial of a's source; log the ban it sets. */
static void
admit_strike(const struct snap_svc *sv, const struct acl_addr *a, uint64_t now,
    const char *what)
{
	const struct conf_service *cs = sv->conf;
	struct ban_params p;
	struct ban_event ev;
	char src[80], dur[32], win[32];

	admit_params(cs, &p);
	if (!ban_strike(sv->st->admit->bans, a, &p, now, &ev))
		return;
	source_key_format(&ev.key, src, sizeof(src));
	admit_fmt_ms(cs->ban.for_ms, dur, sizeof(dur));
	admit_fmt_ms(cs->ban.within_ms, win, sizeof(win));
	log_warnx("service %s: banned %s for %s after %u denials within %s; "
	          "the last: %s",
	    cs->name, src, dur, ev.denials, win, what);
}

/* A refusal of a's source, counted for the summary of the sweep. */
static void
admit_refused(struct admit_state *as, atomic_uint_least64_t *pend,
    struct acl_addr *last, const struct acl_addr *a)
{
	atomic_fetch_add(pend, 1);
	pthread_mutex_lock(&as->mu);
	*last = *a;
	pthread_mutex_unlock(&as->mu);
}

/*
 * Behind a load balancer (accept_proxy_from) every connection comes from
 * the balancer: it is counted against max_connections only, never banned
 * or rated as a source; its clients are admitted once their PROXY header
 * names them (admit_client, from accept_proxy.c).
 */
bool
admit_accept(struct conn *c)
{
	const struct snap_svc *sv = conn_svc(c);

	if (sv->conf->nproxy_from > 0)
		return source_counts_take(
		    sv->st->sources, &c->client.a, sv->conf->max_connections);
	return admit_client(c);
}

bool
admit_client(struct conn *c)
{
	const struct snap_svc *sv = conn_svc(c);
	const struct conf_service *cs = sv->conf;
	struct admit_state *as = sv->st->admit;
	const struct acl_addr *a = &c->client.a;
	uint64_t now = uv_now(&c->w->loop);
	bool rated = false;

	if (ban_check(as->bans, a, now)) {
		admit_refused(as, &as->pend_ban, &as->last_ban, a);
		return false;
	}
	/* A client without an IP address (a UNIX socket) is no source:
	 * never limited, as per_source.connections does not count it. */
	if (cs->per_source_rate_count > 0 &&
	    (a->family == AF_INET || a->family == AF_INET6)) {
		admit_rate_configure(as, c->snap, cs);
		rated = true;
	}
	if (rated && !action_limit_admit(as->rate, a, now)) {
		atomic_fetch_add(&as->refused_rate, 1);
		admit_refused(as, &as->pend_rate, &as->last_rate, a);
		admit_strike(sv, a, now, "over per_source.rate");
		return false;
	}
	if (!source_counts_take(
	        sv->st->sources, a, cs->per_source_connections)) {
		/* Logged in summary by worker.c, as before bans. */
		atomic_fetch_add(&as->refused_conns, 1);
		admit_strike(sv, a, now, "over per_source.connections");
		return false;
	}
	return true;
}

void
admit_denied(struct conn *c, const char *reason)
{
	if (reason != NULL || c->rule == NULL || c->failed_closed ||
	    c->deny_why != NULL)
		return;
	admit_strike(conn_svc(c), &c->client.a, uv_now(&c->w->loop),
	    "denied by the rules");
}

void
admit_stats(struct admit_state *as, struct admit_stats *out)
{
	out->refused_connections = atomic_load(&as->refused_conns);
	out->refused_rate = atomic_load(&as->refused_rate);
	ban_stats(as->bans, &out->ban);
}

/* "the last from 192.0.2.7" */
static void
admit_last(
    struct admit_state *as, const struct acl_addr *last, char *buf, size_t sz)
{
	struct source_key k;
	struct acl_addr a;

	pthread_mutex_lock(&as->mu);
	a = *last;
	pthread_mutex_unlock(&as->mu);
	source_key_of(&a, &k);
	source_key_format(&k, buf, sz);
}

static void
admit_log_refusals(const struct conf_service *cs, struct admit_state *as)
{
	char last[80];
	uint64_t n;

	if ((n = atomic_exchange(&as->pend_rate, 0)) > 0) {
		admit_last(as, &as->last_rate, last, sizeof(last));
		log_warnx("service %s: refused %llu connection(s) over "
		          "per_source.rate (%u per %us), the last from %s",
		    cs->name, (unsigned long long)n, cs->per_source_rate_count,
		    cs->per_source_rate_secs, last);
	}
	if ((n = atomic_exchange(&as->pend_ban, 0)) > 0) {
		admit_last(as, &as->last_ban, last, sizeof(last));
		log_warnx("service %s: refused %llu connection(s) from banned "
		          "sources, the last from %s",
		    cs->name, (unsigned long long)n, last);
	}
}

static void
admit_log_expired(
    const struct conf_service *cs, struct admit_state *as, uint64_t now)
{
	struct ban_event ev[ADMIT_EXPIRED_LOG];
	char src[80], dur[32];
	uint64_t lost;
	size_t n, i;

	n = ban_expired(as->bans, now, ev, ADMIT_EXPIRED_LOG, &lost);
	for (i = 0; i < n; i++) {
		source_key_format(&ev[i].key, src, sizeof(src));
		admit_fmt_ms(ev[i].until_ms - ev[i].set_ms, dur, sizeof(dur));
		log_info("service %s: ban of %s expired after %s; %llu "
		         "connection(s) refused meanwhile",
		    cs->name, src, dur, (unsigned long long)ev[i].refused);
	}
	if (lost > 0)
		log_info("service %s: %llu more ban(s) expired", cs->name,
		    (unsigned long long)lost);
}

static void
admit_log_evictions(const struct conf_service *cs, struct admit_state *as)
{
	struct ban_stats st;
	uint64_t bans, tracks;

	ban_stats(as->bans, &st);
	pthread_mutex_lock(&as->mu);
	bans = st.evicted_bans - as->logged_evicted_bans;
	tracks = st.evicted_tracks - as->logged_evicted_tracks;
	as->logged_evicted_bans = st.evicted_bans;
	as->logged_evicted_tracks = st.evicted_tracks;
	pthread_mutex_unlock(&as->mu);
	if (bans > 0 || tracks > 0)
		log_warnx("service %s: the ban table is full (ban.max_sources "
		          "%u): forgot the denials of %llu source(s) and "
		          "lifted %llu ban(s) before their time",
		    cs->name, cs->ban.max_sources, (unsigned long long)tracks,
		    (unsigned long long)bans);
}

void
admit_sweep(struct worker *w)
{
	uint64_t now = uv_now(&w->loop);
	size_t i;

	for (i = 0; w->snap != NULL && i < w->snap->nsvc; i++) {
		const struct snap_svc *sv = &w->snap->svc[i];

		admit_log_refusals(sv->conf, sv->st->admit);
		admit_log_expired(sv->conf, sv->st->admit, now);
		admit_log_evictions(sv->conf, sv->st->admit);
	}
}
