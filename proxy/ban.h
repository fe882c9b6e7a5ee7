/*
 * ban.h - a service's bans: sources (source.h: an IPv4 address or an
 * IPv6 /64) denied `after` times within `within` are refused at accept
 * for `for` (services[].ban, wrapd.yaml(5)).
 *
 * The table is bounded (ban_params.max entries) and shared by every
 * worker thread of the process (a mutex); it lives with the service state
 * (snapshot.h), so bans survive a reload.  It holds two kinds of entries:
 * trackers (a source with denials counted, not banned) and bans.  When it
 * is full, the least recently denied tracker goes first (a few denials of
 * one source forgotten); only a table of bans alone gives up a ban: the
 * one closest to its expiry.  Every eviction is counted (ban_stats) and
 * logged in summary by the caller.
 *
 * No libuv and no log: time is passed in (a monotonic clock in ms), and
 * what the caller should log comes back in struct ban_event.
 */
#ifndef WRAPD_BAN_H
#define WRAPD_BAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "acl.h"
#include "source.h"

struct ban_table;

struct ban_params {
	unsigned after;     /* denials that ban a source; 0: never ban */
	uint64_t within_ms; /* ... counted from the first of them */
	uint64_t for_ms;    /* how long a ban lasts */
	size_t max;         /* entries kept, trackers and bans together */
};

/* One ban, as ban_strike() sets it, ban_list() lists it, or it expires. */
struct ban_event {
	struct source_key key;
	uint64_t set_ms;   /* when it was set */
	uint64_t until_ms; /* when it ends (or ended) */
	unsigned denials;  /* the denials that set it */
	uint64_t refused;  /* connections refused while it lasted */
};

/* Counts since the table was made, and what it holds now. */
struct ban_stats {
	size_t banned;           /* bans in force */
	size_t tracked;          /* sources with denials counted, not banned */
	uint64_t denials;        /* every denial counted */
	uint64_t set;            /* bans set */
	uint64_t expired;        /* bans that ran their course */
	uint64_t refused;        /* connections refused by a ban */
	uint64_t evicted_bans;   /* bans lifted early: the table was full */
	uint64_t evicted_tracks; /* trackers forgotten: the table was full */
};

struct ban_table *ban_table_new(void);
void ban_table_free(struct ban_table *t);

/*
 * Is the source of a banned at now_ms?  A refusal is counted for the ban.
 * A client without an IP address (a UNIX socket) is never banned.
 */
bool ban_check(struct ban_table *t, const struct acl_addr *a, uint64_t now_ms);

/*
 * A denial of the source of a at now_ms, under p.  true when it sets a ban
 * (described in *ev); false otherwise (p->after 0, no IP address, counted
 * only, or already banned).
 */
bool ban_strike(struct ban_table *t, const struct acl_addr *a,
    const struct ban_params *p, uint64_t now_ms, struct ban_event *ev);

/*
 * Bans that expired by now_ms and are not yet reported: up to n of them
 * into ev[], oldest first; returns how many.  Expiries beyond what the
 * table keeps for reporting (BAN_EXPIRED_KEEP) are counted in *lost.
 */
size_t ban_expired(struct ban_table *t, uint64_t now_ms, struct ban_event *ev,
    size_t n, uint64_t *lost);

/* Bans in force at now_ms, soonest to end first: fn for each, under the
 * table's lock (fn must not call into the table). */
typedef void ban_list_fn(void *arg, const struct ban_event *ev);
void ban_list(struct ban_table *t, uint64_t now_ms, ban_list_fn *fn, void *arg);

void ban_stats(struct ban_table *t, struct ban_stats *out);

#endif /* WRAPD_BAN_H */
