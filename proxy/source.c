/*
 * source.c - source keys, a hash map keyed by source (source_map), and the
 * connection counts of per_source.connections kept in one.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "source.h"

#define SOURCE_BUCKETS_MIN 64

struct source_entry {
	struct source_node node; /* first: the map's */
	unsigned count;
};

struct source_counts {
	struct source_map map; /* and its lock for the fields below */
	uint64_t refused;      /* since source_counts_refusals() */
	struct acl_addr last_refused;
};

void
source_key_of(const struct acl_addr *a, struct source_key *k)
{
	memset(k, 0, sizeof(*k));
	k->b[0] = (uint8_t)a->family;
	if (a->family == AF_INET)
		memcpy(k->b + 1, a->bytes, 4);
	else if (a->family == AF_INET6)
		memcpy(k->b + 1, a->bytes, 8); /* the /64 */
}

void
source_key_format(const struct source_key *k, char *buf, size_t bufsz)
{
	struct acl_addr a;

	memset(&a, 0, sizeof(a));
	a.family = k->b[0];
	memcpy(a.bytes, k->b + 1, 16);
	acl_addr_format(&a, buf, bufsz);
	if (a.family == AF_INET6)
		strncat(buf, "/64", bufsz - strlen(buf) - 1);
}

static uint64_t
source_mix(uint64_t h)
{
	/* splitmix64's finaliser: every input bit affects every output bit. */
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return h;
}

void
source_seed(uint64_t seed[2])
{
	if (getrandom(seed, 2 * sizeof(seed[0]), GRND_NONBLOCK) !=
	    (ssize_t)(2 * sizeof(seed[0]))) {
		/* No entropy yet (early boot): still vary per process. */
		seed[0] = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)seed;
		seed[1] = source_mix(seed[0]);
	}
}

uint64_t
source_hash(const struct source_key *k, const uint64_t seed[2])
{
	uint64_t a = 0, b = 0;

	memcpy(&a, k->b + 1, 8);
	memcpy(&b, k->b + 9, 8);
	return source_mix(source_mix(a ^ seed[0]) ^ b ^ k->b[0] ^ seed[1]);
}

int
source_map_init(struct source_map *m)
{
	memset(m, 0, sizeof(*m));
	m->nbuckets = SOURCE_BUCKETS_MIN;
	if ((m->buckets = calloc(m->nbuckets, sizeof(*m->buckets))) == NULL)
		return -1;
	source_seed(m->seed);
	pthread_mutex_init(&m->mu, NULL);
	return 0;
}

void
source_map_free(struct source_map *m)
{
	struct source_node *e;
	size_t i;

	for (i = 0; m->buckets != NULL && i < m->nbuckets; i++)
		while ((e = m->buckets[i]) != NULL) {
			m->buckets[i] = e->hnext;
			free(e);
		}
	free(m->buckets);
	m->buckets = NULL;
	m->n = 0;
	pthread_mutex_destroy(&m->mu);
}

void *
source_map_find(struct source_map *m, const struct source_key *k,
    struct source_node ***slot)
{
	struct source_node **pp;

	pp = &m->buckets[source_hash(k, m->seed) & (m->nbuckets - 1)];
	while (*pp != NULL && memcmp(&(*pp)->key, k, sizeof(*k)) != 0)
		pp = &(*pp)->hnext;
	*slot = pp;
	return *pp;
}

/* Double the buckets; a failed allocation only leaves chains longer. */
static void
source_map_grow(struct source_map *m)
{
	size_t nb = m->nbuckets * 2, i, h;
	struct source_node **v, *e;

	if ((v = calloc(nb, sizeof(*v))) == NULL)
		return;
	for (i = 0; i < m->nbuckets; i++)
		while ((e = m->buckets[i]) != NULL) {
			m->buckets[i] = e->hnext;
			h = source_hash(&e->key, m->seed) & (nb - 1);
			e->hnext = v[h];
			v[h] = e;
		}
	free(m->buckets);
	m->buckets = v;
	m->nbuckets = nb;
}

void
source_map_insert(
    struct source_map *m, struct source_node **slot, struct source_node *e)
{
	e->hnext = NULL;
	*slot = e;
	if (++m->n > m->nbuckets)
		source_map_grow(m);
}

void
source_map_remove(struct source_map *m, struct source_node **slot)
{
	*slot = (*slot)->hnext;
	m->n--;
}

/* ------------------------------------------------------------------ */
/* Connection counts. */

struct source_counts *
source_counts_new(void)
{
	struct source_counts *t = calloc(1, sizeof(*t));

	if (t != NULL && source_map_init(&t->map) < 0) {
		free(t);
		t = NULL;
	}
	return t;
}

void
source_counts_free(struct source_counts *t)
{
	if (t != NULL)
		source_map_free(&t->map);
	free(t);
}

bool
source_counts_take(
    struct source_counts *t, const struct acl_addr *a, unsigned limit)
{
	struct source_key k;
	struct source_node **slot;
	struct source_entry *e;
	bool ok = true;

	if (a->family != AF_INET && a->family != AF_INET6)
		return true;
	source_key_of(a, &k);
	pthread_mutex_lock(&t->map.mu);
	if ((e = source_map_find(&t->map, &k, &slot)) != NULL) {
		if (limit > 0 && e->count >= limit) {
			ok = false;
			t->refused++;
			t->last_refused = *a;
		} else
			e->count++;
	} else {
		if ((e = malloc(sizeof(*e))) == NULL) {
			/* Cannot count it: refuse rather than not limit. */
			ok = false;
			t->refused++;
			t->last_refused = *a;
		} else {
			e->node.key = k;
			e->count = 1;
			source_map_insert(&t->map, slot, &e->node);
		}
	}
	pthread_mutex_unlock(&t->map.mu);
	return ok;
}

void
source_counts_put(struct source_counts *t, const struct acl_addr *a)
{
	struct source_key k;
	struct source_node **slot;
	struct source_entry *e;

	if (a->family != AF_INET && a->family != AF_INET6)
		return;
	source_key_of(a, &k);
	pthread_mutex_lock(&t->map.mu);
	if ((e = source_map_find(&t->map, &k, &slot)) != NULL &&
	    --e->count == 0) {
		source_map_remove(&t->map, slot);
		free(e);
	}
	pthread_mutex_unlock(&t->map.mu);
}

uint64_t
source_counts_refusals(struct source_counts *t, char *last, size_t lastsz)
{
	struct source_key k;
	struct acl_addr a;
	uint64_t n;

	pthread_mutex_lock(&t->map.mu);
	n = t->refused;
	t->refused = 0;
	a = t->last_refused;
	pthread_mutex_unlock(&t->map.mu);
	if (n == 0)
		return 0;
	source_key_of(&a, &k); /* an IPv6 source is the /64 counted */
	source_key_format(&k, last, lastsz);
	return n;
}

size_t
source_counts_sources(struct source_counts *t)
{
	size_t n;

	pthread_mutex_lock(&t->map.mu);
	n = t->map.n;
	pthread_mutex_unlock(&t->map.mu);
	return n;
}
