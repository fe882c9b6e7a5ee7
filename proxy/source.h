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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "acl.h"

struct source_key {
	uint8_t b[17]; /* family byte, then the address (IPv6: its /64) */
};

void source_key_of(const struct acl_addr *a, struct source_key *k);
/* A per-process random key for source_hash(), so clients cannot aim. */
void source_seed(uint64_t seed[2]);
uint64_t source_hash(const struct source_key *k, const uint64_t seed[2]);

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
