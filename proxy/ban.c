/*
 * ban.c - the ban table: a map of sources (source_map of source.h: chained,
 * with a per-process random key so clients cannot aim at a chain) and two
 * lists through the same entries:
 *
 *   tracks  sources with denials counted, least recently denied first:
 *           the first to go when the table is full;
 *   bans    bans in force, soonest to end first: expiry pops the head,
 *           and a table of bans alone gives up the head (the ban with
 *           the least time left) for a new source.
 *
 * "after denials within `within`" is counted from a source's first denial:
 * when `within` has passed since then, the count starts over at the next
 * denial.  It is exact for what it says (N denials less than `within`
 * after the first of them ban) and needs two numbers per source, where a
 * sliding window would need the time of each denial.
 *
 * Bans that end are kept in a small ring until the caller takes them for
 * its log (ban_expired); past BAN_EXPIRED_KEEP they are only counted.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ban.h"

#define BAN_EXPIRED_KEEP 64

struct ban_entry {
	struct source_node node;       /* first: the map's (key, chain) */
	struct ban_entry *prev, *next; /* tracks or bans */
	uint64_t first_ms;             /* first denial of the count */
	uint64_t last_ms;              /* last denial */
	uint64_t stale_ms; /* a tracker: when its count means nothing */
	uint64_t set_ms;   /* a ban: when it was set */
	uint64_t until_ms; /* a ban: when it ends; 0: a tracker */
	uint64_t refused;
	unsigned denials;
};

struct ban_queue {
	struct ban_entry *head, *tail;
	size_t n;
};

struct ban_table {
	struct source_map map; /* and its lock for the fields below */
	struct ban_queue tracks, bans;
	struct ban_event gone[BAN_EXPIRED_KEEP];
	size_t ngone;
	uint64_t gone_lost;
	struct ban_stats st;
};

static void
ban_queue_remove(struct ban_queue *q, struct ban_entry *e)
{
	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		q->head = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	else
		q->tail = e->prev;
	e->prev = e->next = NULL;
	q->n--;
}

/* Insert e after `after` (NULL: at the head). */
static void
ban_queue_insert(
    struct ban_queue *q, struct ban_entry *after, struct ban_entry *e)
{
	e->prev = after;
	e->next = after != NULL ? after->next : q->head;
	if (e->next != NULL)
		e->next->prev = e;
	else
		q->tail = e;
	if (after != NULL)
		after->next = e;
	else
		q->head = e;
	q->n++;
}

/* A ban into q->bans, kept in order of until_ms (usually at the tail). */
static void
ban_queue_insert_ban(struct ban_queue *q, struct ban_entry *e)
{
	struct ban_entry *after = q->tail;

	while (after != NULL && after->until_ms > e->until_ms)
		after = after->prev;
	ban_queue_insert(q, after, e);
}

struct ban_table *
ban_table_new(void)
{
	struct ban_table *t = calloc(1, sizeof(*t));

	if (t != NULL && source_map_init(&t->map) < 0) {
		free(t);
		t = NULL;
	}
	return t;
}

void
ban_table_free(struct ban_table *t)
{
	if (t != NULL)
		source_map_free(&t->map);
	free(t);
}

/* Take e out of the table and free it. */
static void
ban_drop(struct ban_table *t, struct ban_entry *e)
{
	struct source_node **slot;

	(void)source_map_find(&t->map, &e->node.key, &slot);
	source_map_remove(&t->map, slot);
	ban_queue_remove(e->until_ms != 0 ? &t->bans : &t->tracks, e);
	free(e);
}

static void
ban_event_of(const struct ban_entry *e, struct ban_event *ev)
{
	ev->key = e->node.key;
	ev->set_ms = e->set_ms;
	ev->until_ms = e->until_ms;
	ev->denials = e->denials;
	ev->refused = e->refused;
}

/* End the bans due by now (kept for ban_expired), and drop stale trackers
 * at the head of tracks (they carry nothing: not an eviction). */
static void
ban_expire(struct ban_table *t, uint64_t now)
{
	struct ban_entry *e;

	while ((e = t->bans.head) != NULL && e->until_ms <= now) {
		if (t->ngone < BAN_EXPIRED_KEEP)
			ban_event_of(e, &t->gone[t->ngone++]);
		else
			t->gone_lost++;
		t->st.expired++;
		ban_drop(t, e);
	}
	while ((e = t->tracks.head) != NULL && e->stale_ms <= now)
		ban_drop(t, e);
}

/* Room for one more entry under max: a tracker goes first, a ban last. */
static void
ban_make_room(struct ban_table *t, size_t max, uint64_t now)
{
	struct ban_entry *e;

	while (t->tracks.n + t->bans.n >= max) {
		if ((e = t->tracks.head) != NULL) {
			if (e->stale_ms > now)
				t->st.evicted_tracks++;
		} else {
			e = t->bans.head;
			t->st.evicted_bans++;
		}
		ban_drop(t, e);
	}
}

static bool
ban_key(const struct acl_addr *a, struct source_key *k)
{
	if (a->family != AF_INET && a->family != AF_INET6)
		return false;
	source_key_of(a, k);
	return true;
}

bool
ban_check(struct ban_table *t, const struct acl_addr *a, uint64_t now_ms)
{
	struct source_node **slot;
	struct source_key k;
	struct ban_entry *e;
	bool banned = false;

	if (!ban_key(a, &k))
		return false;
	pthread_mutex_lock(&t->map.mu);
	ban_expire(t, now_ms);
	if ((e = source_map_find(&t->map, &k, &slot)) != NULL &&
	    e->until_ms != 0) {
		banned = true;
		e->refused++;
		t->st.refused++;
	}
	pthread_mutex_unlock(&t->map.mu);
	return banned;
}

/* The tracker of k, new at the tail of tracks if need be; NULL: no memory. */
static struct ban_entry *
ban_track(struct ban_table *t, const struct source_key *k,
    const struct ban_params *p, uint64_t now)
{
	struct source_node **slot;
	struct ban_entry *e = source_map_find(&t->map, k, &slot);

	if (e != NULL) {
		ban_queue_remove(&t->tracks, e);
		ban_queue_insert(&t->tracks, t->tracks.tail, e);
		return e;
	}
	ban_make_room(t, p->max > 0 ? p->max : 1, now);
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return NULL;
	e->node.key = *k;
	e->first_ms = now;
	/* make_room may have changed the chain */
	(void)source_map_find(&t->map, k, &slot);
	source_map_insert(&t->map, slot, &e->node);
	ban_queue_insert(&t->tracks, t->tracks.tail, e);
	return e;
}

bool
ban_strike(struct ban_table *t, const struct acl_addr *a,
    const struct ban_params *p, uint64_t now_ms, struct ban_event *ev)
{
	struct source_node **slot;
	struct source_key k;
	struct ban_entry *e;
	bool set = false;

	if (p->after == 0 || !ban_key(a, &k))
		return false;
	pthread_mutex_lock(&t->map.mu);
	ban_expire(t, now_ms);
	e = source_map_find(&t->map, &k, &slot);
	if (e != NULL && e->until_ms != 0)
		goto out; /* banned already: decided before the ban was set */
	t->st.denials++;
	/* Cannot track it (no memory): its denials still deny. */
	if ((e = ban_track(t, &k, p, now_ms)) == NULL)
		goto out;
	/* Workers' clocks are read at slightly different times. */
	if (e->denials > 0 && now_ms > e->first_ms &&
	    now_ms - e->first_ms >= p->within_ms) {
		e->first_ms = now_ms;
		e->denials = 0;
	}
	e->denials++;
	e->last_ms = now_ms;
	e->stale_ms = e->first_ms + p->within_ms;
	if (e->denials < p->after)
		goto out;
	ban_queue_remove(&t->tracks, e);
	e->set_ms = now_ms;
	e->until_ms = now_ms + (p->for_ms > 0 ? p->for_ms : 1);
	ban_queue_insert_ban(&t->bans, e);
	t->st.set++;
	ban_event_of(e, ev);
	set = true;
out:
	pthread_mutex_unlock(&t->map.mu);
	return set;
}

size_t
ban_expired(struct ban_table *t, uint64_t now_ms, struct ban_event *ev,
    size_t n, uint64_t *lost)
{
	size_t k;

	pthread_mutex_lock(&t->map.mu);
	ban_expire(t, now_ms);
	k = t->ngone < n ? t->ngone : n;
	memcpy(ev, t->gone, k * sizeof(*ev));
	memmove(t->gone, t->gone + k, (t->ngone - k) * sizeof(*ev));
	t->ngone -= k;
	*lost = t->gone_lost;
	t->gone_lost = 0;
	pthread_mutex_unlock(&t->map.mu);
	return k;
}

void
ban_list(struct ban_table *t, uint64_t now_ms, ban_list_fn *fn, void *arg)
{
	struct ban_event ev;
	struct ban_entry *e;

	pthread_mutex_lock(&t->map.mu);
	ban_expire(t, now_ms);
	for (e = t->bans.head; e != NULL; e = e->next) {
		ban_event_of(e, &ev);
		fn(arg, &ev);
	}
	pthread_mutex_unlock(&t->map.mu);
}

void
ban_stats(struct ban_table *t, struct ban_stats *out)
{
	pthread_mutex_lock(&t->map.mu);
	*out = t->st;
	out->banned = t->bans.n;
	out->tracked = t->tracks.n;
	pthread_mutex_unlock(&t->map.mu);
}
