/*
 * source.c - source keys, and a chained hash table of connection counts.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "source.h"

#define SOURCE_BUCKETS_MIN 64

struct source_entry {
	struct source_entry *next;
	struct source_key key;
	unsigned count;
};

struct source_counts {
	pthread_mutex_t mu;
	struct source_entry **buckets;
	size_t nbuckets; /* power of two */
	size_t n;        /* entries */
	uint64_t seed[2];
	uint64_t refused;          /* since source_counts_refusals() */
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

struct source_counts *
source_counts_new(void)
{
	struct source_counts *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->nbuckets = SOURCE_BUCKETS_MIN;
	if ((t->buckets = calloc(t->nbuckets, sizeof(*t->buckets))) == NULL) {
		free(t);
		return NULL;
	}
	source_seed(t->seed);
	pthread_mutex_init(&t->mu, NULL);
	return t;
}

void
source_counts_free(struct source_counts *t)
{
	struct source_entry *e, *next;
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nbuckets; i++)
		for (e = t->buckets[i]; e != NULL; e = next) {
			next = e->next;
			free(e);
		}
	free(t->buckets);
	pthread_mutex_destroy(&t->mu);
	free(t);
}

/* Double the buckets when entries outnumber them; failure is harmless. */
static void
source_grow(struct source_counts *t)
{
	size_t nb = t->nbuckets * 2, i;
	struct source_entry **v, *e, *next;

	if ((v = calloc(nb, sizeof(*v))) == NULL)
		return;
	for (i = 0; i < t->nbuckets; i++)
		for (e = t->buckets[i]; e != NULL; e = next) {
			size_t h = source_hash(&e->key, t->seed) & (nb - 1);

			next = e->next;
			e->next = v[h];
			v[h] = e;
		}
	free(t->buckets);
	t->buckets = v;
	t->nbuckets = nb;
}

static struct source_entry **
source_slot(struct source_counts *t, const struct source_key *k)
{
	struct source_entry **pp;

	pp = &t->buckets[source_hash(k, t->seed) & (t->nbuckets - 1)];
	while (*pp != NULL && memcmp(&(*pp)->key, k, sizeof(*k)) != 0)
		pp = &(*pp)->next;
	return pp;
}

bool
source_counts_take(
    struct source_counts *t, const struct acl_addr *a, unsigned limit)
{
	struct source_key k;
	struct source_entry **pp, *e;
	bool ok = true;

	if (a->family != AF_INET && a->family != AF_INET6)
		return true;
	source_key_of(a, &k);
	pthread_mutex_lock(&t->mu);
	pp = source_slot(t, &k);
	if ((e = *pp) != NULL) {
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
			e->key = k;
			e->count = 1;
			e->next = NULL;
			*pp = e;
			if (++t->n > t->nbuckets)
				source_grow(t);
		}
	}
	pthread_mutex_unlock(&t->mu);
	return ok;
}

void
source_counts_put(struct source_counts *t, const struct acl_addr *a)
{
	struct source_key k;
	struct source_entry **pp, *e;

	if (a->family != AF_INET && a->family != AF_INET6)
		return;
	source_key_of(a, &k);
	pthread_mutex_lock(&t->mu);
	pp = source_slot(t, &k);
	if ((e = *pp) != NULL && --e->count == 0) {
		*pp = e->next;
		free(e);
		t->n--;
	}
	pthread_mutex_unlock(&t->mu);
}

uint64_t
source_counts_refusals(struct source_counts *t, char *last, size_t lastsz)
{
	struct acl_addr a;
	uint64_t n;

	pthread_mutex_lock(&t->mu);
	n = t->refused;
	t->refused = 0;
	a = t->last_refused;
	pthread_mutex_unlock(&t->mu);
	if (n == 0)
		return 0;
	if (a.family == AF_INET6)
		memset(a.bytes + 8, 0, 8); /* the /64 that was counted */
	acl_addr_format(&a, last, lastsz);
	if (a.family == AF_INET6)
		strncat(last, "/64", lastsz - strlen(last) - 1);
	return n;
}

size_t
source_counts_sources(struct source_counts *t)
{
	size_t n;

	pthread_mutex_lock(&t->mu);
	n = t->n;
	pthread_mutex_unlock(&t->mu);
	return n;
}
