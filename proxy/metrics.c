/*
 * metrics.c - the counters of the Prometheus endpoint (metrics.h): the
 * per-worker slots, the table of rule matches, and the sums a scrape
 * reads.
 *
 * The rule table is an open-addressing hash of METRICS_RULES_MAX slots,
 * written by the worker threads without a lock: a rule's first match
 * claims a free slot by compare-and-swap of its 64-bit key (a hash of
 * service, table, file and line), then publishes the labels with a
 * release store; later matches find the key and add to its count.  A
 * scrape reads a slot's labels with an acquire load and skips a slot
 * whose labels are not out yet (the match that claimed it is still
 * between the two stores, or was out of memory: that series is not
 * shown).  Two positions whose 64-bit keys collide would share a series;
 * with a few thousand positions the odds are about 1 in 10^12.
 */
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

/* One worker's process-wide counts. */
struct metrics_slot {
	alignas(METRICS_LINE)
	    metrics_counter lookups[METRICS_NLOOKUP][METRICS_NOUTCOME];
	metrics_counter buckets[METRICS_NLOOKUP][METRICS_NBUCKETS + 1];
	metrics_counter lookup_ms[METRICS_NLOOKUP];
	metrics_counter actions[METRICS_NACTION][2];
};

/* The labels of a rule series, immutable once published. */
struct metrics_rule_label {
	char *service;
	char *file;
	unsigned line;
	unsigned table;
};

struct metrics_rule {
	_Atomic uint64_t key; /* 0: free */
	metrics_counter hits;
	_Atomic(struct metrics_rule_label *) label;
};

struct metrics {
	struct metrics_slot *slot;
	unsigned nslots;
	metrics_counter reloads[METRICS_NRELOAD];
	metrics_counter rules_unlisted;
	struct metrics_rule rules[METRICS_RULES_MAX];
};

_Static_assert((METRICS_RULES_MAX & (METRICS_RULES_MAX - 1)) == 0,
    "METRICS_RULES_MAX is a power of two");

/* Prometheus's default buckets, with 1 ms and 10 s added: look-ups on a
 * LAN answer in a millisecond, and a deadline may be minutes. */
const uint64_t metrics_bucket_ms[METRICS_NBUCKETS] = {
    1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000};

/*
 * n slots of size bytes, each on its own cache lines (aligned_alloc wants
 * the size a multiple of the alignment: sizeof of a type aligned to
 * METRICS_LINE is).  Zeroed: an atomic of all-zero bytes is 0 here.
 */
static void *
metrics_slots_new(size_t n, size_t size)
{
	void *p;

	if (n == 0)
		n = 1;
	if ((p = aligned_alloc(METRICS_LINE, n * size)) != NULL)
		memset(p, 0, n * size);
	return p;
}

int
metrics_svc_init(struct metrics_svc *ms, unsigned workers)
{
	ms->nslots = workers > 0 ? workers : 1;
	ms->slot = metrics_slots_new(ms->nslots, sizeof(*ms->slot));
	return ms->slot != NULL ? 0 : -1;
}

void
metrics_svc_free(struct metrics_svc *ms)
{
	free(ms->slot);
	ms->slot = NULL;
	ms->nslots = 0;
}

struct metrics *
metrics_new(unsigned workers)
{
	struct metrics *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return NULL;
	m->nslots = workers > 0 ? workers : 1;
	if ((m->slot = metrics_slots_new(m->nslots, sizeof(*m->slot))) ==
	    NULL) {
		free(m);
		return NULL;
	}
	return m;
}

void
metrics_free(struct metrics *m)
{
	struct metrics_rule_label *l;
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < METRICS_RULES_MAX; i++)
		if ((l = atomic_load(&m->rules[i].label)) != NULL) {
			free(l->service);
			free(l->file);
			free(l);
		}
	free(m->slot);
	free(m);
}

static struct metrics_slot *
metrics_slot(struct metrics *m, unsigned worker)
{
	return &m->slot[worker < m->nslots ? worker : 0];
}

void
metrics_lookup(struct metrics *m, unsigned worker, enum metrics_lookup kind,
    enum metrics_outcome outcome, uint64_t ms)
{
	struct metrics_slot *s;
	size_t b;

	if (m == NULL)
		return;
	s = metrics_slot(m, worker);
	metrics_count(&s->lookups[kind][outcome], 1);
	if (outcome == METRICS_SKIPPED)
		return;
	for (b = 0; b < METRICS_NBUCKETS && ms > metrics_bucket_ms[b]; b++)
		;
	metrics_count(&s->buckets[kind][b], 1);
	metrics_count(&s->lookup_ms[kind], ms);
}

void
metrics_action(
    struct metrics *m, unsigned worker, enum metrics_action a, bool run)
{
	if (m != NULL)
		metrics_count(
		    &metrics_slot(m, worker)->actions[a][run ? 0 : 1], 1);
}

void
metrics_reload(struct metrics *m, enum metrics_reload outcome)
{
	if (m != NULL)
		metrics_count(&m->reloads[outcome], 1);
}

/* ------------------------------------------------------------------ */
/* Rule matches. */

static uint64_t
metrics_fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ s[i]) * 0x100000001b3ULL;
	return h;
}

/* The key of a position: never 0 (a free slot). */
static uint64_t
metrics_rule_key(
    const char *service, unsigned table, const char *file, unsigned line)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	h = metrics_fnv(h, service, strlen(service) + 1);
	h = metrics_fnv(h, &table, sizeof(table));
	h = metrics_fnv(h, file, strlen(file) + 1);
	h = metrics_fnv(h, &line, sizeof(line));
	/* MurmurHash3's finaliser: the low bits pick the slot. */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h != 0 ? h : 1;
}

static struct metrics_rule_label *
metrics_rule_label_new(
    const char *service, unsigned table, const char *file, unsigned line)
{
	struct metrics_rule_label *l = calloc(1, sizeof(*l));

	if (l == NULL)
		return NULL;
	l->service = strdup(service);
	l->file = strdup(file);
	l->line = line;
	l->table = table;
	if (l->service == NULL || l->file == NULL) {
		free(l->service);
		free(l->file);
		free(l);
		return NULL;
	}
	return l;
}

void
metrics_rule_hit(struct metrics *m, const char *service, unsigned table,
    const char *file, unsigned line)
{
	uint64_t key, k;
	struct metrics_rule *r;
	size_t i;

	if (m == NULL)
		return;
	key = metrics_rule_key(service, table, file, line);
	for (i = 0; i < METRICS_RULES_PROBE; i++) {
		r = &m->rules[(key + i) & (METRICS_RULES_MAX - 1)];
		k = atomic_load_explicit(&r->key, memory_order_acquire);
		if (k == 0) {
			/* Free: claim it, or learn who did (k). */
			if (atomic_compare_exchange_strong_explicit(&r->key, &k,
			        key, memory_order_acq_rel,
			        memory_order_acquire)) {
				atomic_store_explicit(&r->label,
				    metrics_rule_label_new(
				        service, table, file, line),
				    memory_order_release);
				k = key;
			}
		}
		if (k == key) {
			metrics_count(&r->hits, 1);
			return;
		}
	}
	metrics_count(&m->rules_unlisted, 1);
}

/* ------------------------------------------------------------------ */
/* Sums, for a scrape. */

static uint64_t
metrics_load(const metrics_counter *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

/* dst[i] += the counters src[i], for n of them. */
static void
metrics_sum(uint64_t *dst, const metrics_counter *src, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		dst[i] += metrics_load(&src[i]);
}

#define METRICS_SUM(dst, src)                                                  \
	metrics_sum((uint64_t *)(dst), (const metrics_counter *)(src),         \
	    sizeof(dst) / sizeof(uint64_t))

_Static_assert(sizeof(metrics_counter) == sizeof(uint64_t),
    "the sums read counters as arrays of the same shape");

void
metrics_read(const struct metrics *m, struct metrics_totals *t)
{
	const struct metrics_slot *s;
	unsigned i;

	memset(t, 0, sizeof(*t));
	for (i = 0; i < m->nslots; i++) {
		s = &m->slot[i];
		METRICS_SUM(t->lookups, s->lookups);
		METRICS_SUM(t->buckets, s->buckets);
		METRICS_SUM(t->lookup_ms, s->lookup_ms);
		METRICS_SUM(t->actions, s->actions);
	}
	METRICS_SUM(t->reloads, m->reloads);
	t->rules_unlisted = metrics_load(&m->rules_unlisted);
}

void
metrics_svc_read(const struct metrics_svc *ms, struct metrics_svc_totals *t)
{
	const struct metrics_svc_slot *s;
	unsigned i;

	memset(t, 0, sizeof(*t));
	for (i = 0; i < ms->nslots; i++) {
		s = &ms->slot[i];
		METRICS_SUM(t->conns, s->conns);
		METRICS_SUM(t->bytes, s->bytes);
		METRICS_SUM(t->pauses, s->pauses);
	}
}

static int
metrics_rules_cmp(const void *a, const void *b)
{
	const struct metrics_rule_count *x = a, *y = b;
	int r;

	if ((r = strcmp(x->service, y->service)) != 0 ||
	    (r = strcmp(x->file, y->file)) != 0)
		return r;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->table < y->table ? -1 : x->table > y->table;
}

size_t
metrics_rules_read(
    const struct metrics *m, struct metrics_rule_count *out, size_t max)
{
	const struct metrics_rule_label *l;
	size_t i, n = 0;

	for (i = 0; i < METRICS_RULES_MAX && n < max; i++) {
		l = atomic_load_explicit(
		    &m->rules[i].label, memory_order_acquire);
		if (l == NULL)
			continue;
		out[n].service = l->service;
		out[n].file = l->file;
		out[n].line = l->line;
		out[n].table = l->table;
		out[n].hits = metrics_load(&m->rules[i].hits);
		n++;
	}
	qsort(out, n, sizeof(*out), metrics_rules_cmp);
	return n;
}
