/*
 * source.h - a client "source" as wrapd's per-source limits count it, and
 * the count of connections each source has open on a service
 * (per_source.connections).
 *
 * A source is an IPv4 address, or the /64 of an IPv6 address: one host, or
 * one customer, usually holds a whole /64, so counting IPv6 addresses one
 * by one would give a single client 2^64 sources.
 *
 * The table is shared by every worker thread of the process (a mutex) and
 * outlives reloads with the service state (snapshot.h).  It holds an entry
 * only while its source has connections, so it never holds more entries
 * than the service has connections.
 */
#ifndef WRAPD_SOURCE_H
#define WRAPD_SOURCE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "acl.h"

struct source_key {
	uint8_t b[17]; /* family byte, then the address (IPv6: its /64) */
};

void source_key_of(const struct acl_addr *a, struct source_key *k);
/* The source as text: an IPv4 address, or an IPv6 /64 as "2001:db8::/64". */
void source_key_format(const struct source_key *k, char *buf, size_t bufsz);
/* A per-process random key for source_hash(), so clients cannot aim. */
void source_seed(uint64_t seed[2]);
uint64_t source_hash(const struct source_key *k, const uint64_t seed[2]);

/*
 * A chained hash of entries keyed by source, for the tables that count per
 * source (source_counts here, the ban table of ban.c), with the lock that
 * guards it and its owner's fields.  An entry starts with a struct
 * source_node; the map allocates none.  The buckets double as entries
 * outnumber them, so a chain stays short whatever the number of sources.
 */
struct source_node {
	struct source_node *hnext;
	struct source_key key;
};
struct source_map {
	pthread_mutex_t mu;
	struct source_node **buckets;
	size_t nbuckets; /* power of two */
	size_t n;
	uint64_t seed[2];
};
int source_map_init(struct source_map *m);
/* Free the buckets, and each entry with free() (entries from malloc). */
void source_map_free(struct source_map *m);
/* The entry of k or NULL, and in *slot where it is or would go. */
void *source_map_find(struct source_map *m, const struct source_key *k,
    struct source_node ***slot);
/* Put e (e->key set) at the slot source_map_find() gave for its key. */
void source_map_insert(
    struct source_map *m, struct source_node **slot, struct source_node *e);
/* Take out the entry at slot (not freed). */
void source_map_remove(struct source_map *m, struct source_node **slot);

struct source_counts;

struct source_counts *source_counts_new(void);
void source_counts_free(struct source_counts *t);
/*
 * One more connection from a, unless a already has `limit` of them.
 * true: counted (give it back with source_counts_put()); false: refused.
 * A client without an IP address (a UNIX socket) is never limited.
 */
bool source_counts_take(
    struct source_counts *t, const struct acl_addr *a, unsigned limit);
void source_counts_put(struct source_counts *t, const struct acl_addr *a);
/*
 * Refusals since the last call, and the last source refused (an address,
 * IPv6 shown as its /64); 0 when none.
 */
uint64_t source_counts_refusals(
    struct source_counts *t, char *last, size_t lastsz);
/* Sources with connections now (for tests). */
size_t source_counts_sources(struct source_counts *t);

#endif /* WRAPD_SOURCE_H */
