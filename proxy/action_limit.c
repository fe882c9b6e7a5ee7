/*
 * action_limit.c - the action limiter: an atomic count of running commands
 * and a per-source rate kept as a GCRA (the "virtual scheduling" form of a
 * token bucket) in a bounded, set-associative table.
 *
 * Why GCRA: one 64-bit "theoretical arrival time" per source is the whole
 * state of a token bucket of capacity rate_count refilled at
 * rate_count/rate_secs, with no floating point and no refill timer.
 *
 * The report mails of on_deny have one more GCRA of their own, process-wide
 * (actions.mail_rate): the per-source table keys IPv6 by /64, and a sender
 * with many /64s would otherwise get one postmaster mail per /64.
 *
 * Why a set-associative table: memory is fixed whatever the number of
 * sources.  A source (source.h: an IPv4 address or an IPv6 /64) hashes
 * (source_hash(), with a per-process random key, so a client
 * cannot aim at a set) to a set of ACTION_LIMIT_WAYS slots; a new source
 * takes a slot whose bucket has refilled completely (such a slot carries no
 * information), or else the slot closest to refilling.  A flood from many
 * addresses can therefore forget a source's debt early, never make a source
 * wait longer than its own rate says.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "action_limit.h"
#include "source.h"

#define ACTION_LIMIT_WAYS 4

struct limit_slot {
	struct source_key key; /* source.h: IPv4 address or IPv6 /64 */
	bool used;
	uint64_t tat_us; /* theoretical arrival time of the next event */
};

struct action_limit {
	atomic_uint max_running;
	atomic_uint_least64_t last_skips_ms;
	atomic_uint running;
	atomic_uint_least64_t skip_running, skip_rate, skip_mail;

	bool rate_on;
	uint64_t interval_us; /* one token every interval_us */
	uint64_t burst_us;    /* how far ahead tat may run: capacity - 1 */
	pthread_mutex_t mu;   /* guards the table */
	struct limit_slot *slots;
	size_t nsets; /* power of two */
	uint64_t seed[2];
	/* The mail rate (guarded by mu too); mail_interval_us 0: none. */
	uint64_t mail_interval_us, mail_burst_us, mail_tat_us;
};

/*
 * One GCRA event at now on the bucket whose next arrival is *tat: true
 * (and *tat moved on) if the bucket has a token, false if not.
 */
static bool
action_limit_gcra(
    uint64_t *tat, uint64_t now, uint64_t interval_us, uint64_t burst_us)
{
	uint64_t t = *tat > now ? *tat : now;

	if (t - now > burst_us)
		return false;
	*tat = t + interval_us;
	return true;
}

/* interval and burst of a rate of count per secs (count, secs > 0). */
static void
action_limit_rate_params(
    unsigned count, unsigned secs, uint64_t *interval_us, uint64_t *burst_us)
{
	*interval_us = (uint64_t)secs * 1000000u / count;
	if (*interval_us == 0)
		*interval_us = 1;
	*burst_us = *interval_us * (count - 1);
}

static void
action_limit_set_rate(
    struct action_limit *l, unsigned rate_count, unsigned rate_secs)
{
	l->rate_on = rate_count > 0 && rate_secs > 0;
	if (!l->rate_on)
		return;
	action_limit_rate_params(
	    rate_count, rate_secs, &l->interval_us, &l->burst_us);
}

struct action_limit *
action_limit_new(unsigned max_running, unsigned rate_count, unsigned rate_secs,
    size_t table_slots)
{
	struct action_limit *l;
	size_t sets;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return NULL;
	atomic_init(&l->max_running, max_running);
	atomic_init(&l->last_skips_ms, 0);
	atomic_init(&l->running, 0);
	atomic_init(&l->skip_running, 0);
	atomic_init(&l->skip_rate, 0);
	atomic_init(&l->skip_mail, 0);
	action_limit_set_rate(l, rate_count, rate_secs);
	if (l->rate_on) {
		if (table_slots == 0)
			table_slots = ACTION_LIMIT_TABLE_DEFAULT;
		sets = 1;
		while (sets * ACTION_LIMIT_WAYS < table_slots)
			sets <<= 1;
		l->nsets = sets;
		l->slots = calloc(sets * ACTION_LIMIT_WAYS, sizeof(*l->slots));
		if (l->slots == NULL) {
			free(l);
			return NULL;
		}
		source_seed(l->seed);
	}
	pthread_mutex_init(&l->mu, NULL);
	return l;
}

void
action_limit_free(struct action_limit *l)
{
	if (l == NULL)
		return;
	pthread_mutex_destroy(&l->mu);
	free(l->slots);
	free(l);
}

bool
action_limit_admit(
    struct action_limit *l, const struct acl_addr *src, uint64_t now_ms)
{
	struct source_key key;
	struct limit_slot *set, *s = NULL, *victim;
	uint64_t now = now_ms * 1000u;
	bool ok;
	size_t i;

	source_key_of(src, &key);
	pthread_mutex_lock(&l->mu);
	if (!l->rate_on || l->slots == NULL) {
		pthread_mutex_unlock(&l->mu);
		return true;
	}
	set = &l->slots[(source_hash(&key, l->seed) & (l->nsets - 1)) *
	    ACTION_LIMIT_WAYS];
	victim = &set[0];
	for (i = 0; i < ACTION_LIMIT_WAYS; i++) {
		if (set[i].used &&
		    memcmp(&set[i].key, &key, sizeof(key)) == 0) {
			s = &set[i];
			break;
		}
		if (!set[i].used)
			victim = &set[i];
		else if (victim->used && set[i].tat_us < victim->tat_us)
			victim = &set[i];
	}
	if (s == NULL) {
		s = victim;
		s->key = key;
		s->used = true;
		s->tat_us = now;
	}
	ok = action_limit_gcra(&s->tat_us, now, l->interval_us, l->burst_us);
	pthread_mutex_unlock(&l->mu);
	if (!ok)
		atomic_fetch_add(&l->skip_rate, 1);
	return ok;
}

bool
action_limit_admit_mail(struct action_limit *l, uint64_t now_ms)
{
	bool ok = true;

	pthread_mutex_lock(&l->mu);
	if (l->mail_interval_us != 0)
		ok = action_limit_gcra(&l->mail_tat_us, now_ms * 1000u,
		    l->mail_interval_us, l->mail_burst_us);
	pthread_mutex_unlock(&l->mu);
	if (!ok)
		atomic_fetch_add(&l->skip_mail, 1);
	return ok;
}

void
action_limit_set_mail_rate(
    struct action_limit *l, unsigned rate_count, unsigned rate_secs)
{
	uint64_t interval = 0, burst = 0;

	if (rate_count > 0 && rate_secs > 0)
		action_limit_rate_params(
		    rate_count, rate_secs, &interval, &burst);
	pthread_mutex_lock(&l->mu);
	if (interval != l->mail_interval_us || burst != l->mail_burst_us) {
		l->mail_interval_us = interval;
		l->mail_burst_us = burst;
		l->mail_tat_us = 0; /* a changed rate starts afresh */
	}
	pthread_mutex_unlock(&l->mu);
}

bool
action_limit_take(struct action_limit *l)
{
	unsigned cur = atomic_load(&l->running);

	do {
		if (cur >= atomic_load(&l->max_running)) {
			atomic_fetch_add(&l->skip_running, 1);
			return false;
		}
	} while (!atomic_compare_exchange_weak(&l->running, &cur, cur + 1));
	return true;
}

void
action_limit_put(struct action_limit *l)
{
	atomic_fetch_sub(&l->running, 1);
}

unsigned
action_limit_running(const struct action_limit *l)
{
	return atomic_load(&l->running);
}

void
action_limit_take_skips(struct action_limit *l, struct action_limit_skips *out)
{
	out->over_running = atomic_exchange(&l->skip_running, 0);
	out->over_rate = atomic_exchange(&l->skip_rate, 0);
	out->over_mail_rate = atomic_exchange(&l->skip_mail, 0);
}

bool
action_limit_take_skips_due(struct action_limit *l, uint64_t now_ms,
    uint64_t interval_ms, struct action_limit_skips *out)
{
	uint_least64_t last = atomic_load(&l->last_skips_ms);

	if (now_ms < last + interval_ms)
		return false;
	if (!atomic_compare_exchange_strong(&l->last_skips_ms, &last, now_ms))
		return false; /* another worker took them just now */
	action_limit_take_skips(l, out);
	return out->over_running > 0 || out->over_rate > 0 ||
	    out->over_mail_rate > 0;
}

void
action_limit_configure(struct action_limit *l, unsigned max_running,
    unsigned rate_count, unsigned rate_secs)
{
	uint64_t old_interval, old_burst;
	bool old_on;

	atomic_store(&l->max_running, max_running);
	pthread_mutex_lock(&l->mu);
	old_on = l->rate_on;
	old_interval = l->interval_us;
	old_burst = l->burst_us;
	action_limit_set_rate(l, rate_count, rate_secs);
	if (l->rate_on && l->slots == NULL) {
		l->nsets = ACTION_LIMIT_TABLE_DEFAULT / ACTION_LIMIT_WAYS;
		l->slots =
		    calloc(l->nsets * ACTION_LIMIT_WAYS, sizeof(*l->slots));
		if (l->slots != NULL)
			source_seed(l->seed);
	} else if (l->slots != NULL &&
	    (old_on != l->rate_on || old_interval != l->interval_us ||
	        old_burst != l->burst_us)) {
		memset(l->slots, 0,
		    l->nsets * ACTION_LIMIT_WAYS * sizeof(*l->slots));
	}
	pthread_mutex_unlock(&l->mu);
}
