/*
 * metrics.h - wrapd's counters for the Prometheus endpoint (issue 11):
 * where they live, how the data path bumps them, how a scrape reads them
 * (metrics.c), and how a scrape writes them out (metrics_render.c).
 *
 * Counting never slows or blocks the data path.  Every counter is a
 * 64-bit atomic bumped with memory_order_relaxed (no fence, no lock), and
 * what a worker bumps per connection or per splice lives in that worker's
 * own slot, a cache line away from the other workers' slots, so no line
 * bounces between CPUs; a scrape sums the slots with relaxed loads.  A
 * scrape may see one counter a few increments ahead of another: samples
 * are not a consistent snapshot, and Prometheus expects none.
 *
 * Where the counts live:
 *   struct metrics_svc  per service, inside its struct svc_state
 *                       (snapshot.h), which a reload keeps for a service
 *                       of the same name: a service's counters survive
 *                       reloads and restart only with the process.
 *   struct metrics      the process (struct server): look-ups, actions,
 *                       reloads, and the table of rule matches.
 *
 * Rule matches are keyed by (service, table, file, line), the position a
 * log line's rule= names.  A reload that leaves a rule where it was keeps
 * its series counting (a series is a position, as rule= is: an edited
 * line goes on counting under its position); a rule that moves (a line
 * inserted above it) counts under its new position from 0, and the old
 * position's series stays as it was.  The table is fixed
 * (METRICS_RULES_MAX series for the process's life), filled lock-free on
 * a rule's first match; past it, matches are counted in
 * wrapd_rule_matches_unlisted_total, so neither huge rule files nor many
 * reloads can grow the memory or the scrape without bound.  Services are
 * bounded by the configuration (CONF_MAX_SERVICES).
 *
 * No libuv here (wrapd_core): conn_metrics.c counts a connection,
 * metrics_server.c serves the scrapes.
 */
#ifndef WRAPD_METRICS_H
#define WRAPD_METRICS_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "control_proto.h"

#define METRICS_RULES_MAX   4096 /* rule series for the process; power of 2 */
#define METRICS_RULES_PROBE 32   /* slots a match looks at before giving up */
#define METRICS_NBUCKETS    12   /* look-up duration buckets, +Inf aside */
#define METRICS_LINE        64   /* bytes between two workers' slots */

typedef atomic_uint_fast64_t metrics_counter;

/* The log line's verdict= values; "-": closed before any verdict. */
enum metrics_verdict {
	METRICS_GRANT,
	METRICS_DENY,
	METRICS_TWIST,
	METRICS_UNDECIDED,
	METRICS_NVERDICT,
};

/* The log line's in= and out=. */
enum metrics_dir {
	METRICS_CLIENT_TO_BACKEND,
	METRICS_BACKEND_TO_CLIENT, /* all written to the client: banners and
				      on_deny replies too */
	METRICS_NDIR,
};

/* Why a worker stopped polling a listener for a while (accept.c). */
enum metrics_pause {
	METRICS_PAUSE_MAX_CONNECTIONS, /* until a connection closes */
	METRICS_PAUSE_EMFILE,     /* out of descriptors or kernel memory: 1 s */
	METRICS_PAUSE_POLL_ERROR, /* the poll failed: 1 s */
	METRICS_NPAUSE,
};

/* Connections reset at accept for their source (admit.h): read from the
 * service's admit state at scrape time, never counted twice. */
enum metrics_refused {
	METRICS_REFUSED_PER_SOURCE, /* per_source.connections */
	METRICS_REFUSED_RATE,       /* per_source.rate */
	METRICS_REFUSED_BANNED,     /* ban */
	METRICS_NREFUSED,
};

enum metrics_lookup {
	METRICS_LOOKUP_DNS,   /* the client's or server's verified name */
	METRICS_LOOKUP_IDENT, /* RFC 1413 */
	METRICS_NLOOKUP,
};

/* lookup.h's enum lookup_status, in the same order. */
enum metrics_outcome {
	METRICS_ANSWERED,
	METRICS_TIMED_OUT,
	METRICS_SKIPPED,
	METRICS_NOUTCOME,
};

/* What the action limiter admits or skips (action_loop_take). */
enum metrics_action {
	METRICS_ACTION_SPAWN,
	METRICS_ACTION_TWIST,
	METRICS_ACTION_ACLEXEC,
	METRICS_ACTION_FINGER,
	METRICS_ACTION_MAIL,
	METRICS_NACTION,
};

enum metrics_reload {
	METRICS_RELOAD_OK,
	METRICS_RELOAD_FAILED,
	METRICS_NRELOAD,
};

/* ------------------------------------------------------------------ */
/* Per service. */

/* One worker's counts for one service. */
struct metrics_svc_slot {
	alignas(METRICS_LINE) metrics_counter conns[METRICS_NVERDICT];
	metrics_counter bytes[METRICS_NDIR];
	metrics_counter pauses[METRICS_NPAUSE];
};

struct metrics_svc {
	struct metrics_svc_slot *slot; /* one per worker */
	unsigned nslots;
};

/* 0, or -1 when out of memory. */
int metrics_svc_init(struct metrics_svc *ms, unsigned workers);
void metrics_svc_free(struct metrics_svc *ms);

static inline void
metrics_count(metrics_counter *c, uint64_t n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

/* Worker `worker`'s slot (a worker index past the slots: the first). */
static inline struct metrics_svc_slot *
metrics_svc_slot(const struct metrics_svc *ms, unsigned worker)
{
	return &ms->slot[worker < ms->nslots ? worker : 0];
}

static inline void
metrics_svc_bytes(
    const struct metrics_svc *ms, unsigned worker, int dir, uint64_t n)
{
	metrics_count(&metrics_svc_slot(ms, worker)->bytes[dir], n);
}

/* ------------------------------------------------------------------ */
/* The process. */

struct metrics;

/* Counters for `workers` worker loops; NULL when out of memory. */
struct metrics *metrics_new(unsigned workers);
void metrics_free(struct metrics *m);

/*
 * A look-up ended with `outcome` after ms milliseconds (not observed in
 * the histogram when skipped: nothing was asked).  m NULL: nothing.
 */
void metrics_lookup(struct metrics *m, unsigned worker,
    enum metrics_lookup kind, enum metrics_outcome outcome, uint64_t ms);
/* An action the limiter admitted (run) or skipped.  m NULL: nothing. */
void metrics_action(
    struct metrics *m, unsigned worker, enum metrics_action a, bool run);
void metrics_reload(struct metrics *m, enum metrics_reload outcome);
/*
 * A connection of `service` was decided by the rule at file:line of
 * table (enum acl_table).  Lock-free; allocates once per new series.
 */
void metrics_rule_hit(struct metrics *m, const char *service, unsigned table,
    const char *file, unsigned line);

/* ------------------------------------------------------------------ */
/* What a scrape reads: plain sums (metrics.c), then text (metrics_render.c). */

struct metrics_totals {
	uint64_t lookups[METRICS_NLOOKUP][METRICS_NOUTCOME];
	/* Observations per bucket (not cumulative), the last one +Inf. */
	uint64_t buckets[METRICS_NLOOKUP][METRICS_NBUCKETS + 1];
	uint64_t lookup_ms[METRICS_NLOOKUP];  /* sum of the observations */
	uint64_t actions[METRICS_NACTION][2]; /* [0] run, [1] skipped */
	uint64_t reloads[METRICS_NRELOAD];
	uint64_t rules_unlisted;
};

struct metrics_svc_totals {
	uint64_t conns[METRICS_NVERDICT];
	uint64_t bytes[METRICS_NDIR];
	uint64_t pauses[METRICS_NPAUSE];
};

/* A rule series: borrowed from the table, valid while m is. */
struct metrics_rule_count {
	const char *service;
	const char *file;
	unsigned line;
	unsigned table; /* enum acl_table */
	uint64_t hits;
};

/* One service as a scrape shows it. */
struct metrics_svc_view {
	const char *name;
	uint64_t active; /* connections open now */
	struct metrics_svc_totals t;
	uint64_t refused[METRICS_NREFUSED];
};

void metrics_read(const struct metrics *m, struct metrics_totals *t);
void metrics_svc_read(
    const struct metrics_svc *ms, struct metrics_svc_totals *t);
/*
 * The rule series with at least one match, sorted by service, file,
 * line, table, into out (METRICS_RULES_MAX of them at most).  Their count.
 */
size_t metrics_rules_read(
    const struct metrics *m, struct metrics_rule_count *out, size_t max);

/* The upper bounds of the duration buckets, in milliseconds. */
extern const uint64_t metrics_bucket_ms[METRICS_NBUCKETS];

/*
 * metrics_render.c: the text exposition format 0.0.4, HELP and TYPE for
 * every family, into out (which may end up failed: out of memory).
 */
struct metrics_scrape {
	const char *version; /* wrapd_build_info */
	const struct metrics_totals *totals;
	const struct metrics_rule_count *rules;
	size_t nrules;
	const struct metrics_svc_view *svcs;
	size_t nsvcs;
};
void metrics_render(const struct metrics_scrape *s, struct control_buf *out);
/*
 * A label value as the format wants it between its double quotes: '\\',
 * '"' and LF escaped, and every byte that is not part of valid UTF-8
 * written as U+FFFD, so hostile file names cannot break a line or the
 * scrape's encoding.
 */
void metrics_render_label_value(struct control_buf *out, const char *s);

#endif /* WRAPD_METRICS_H */
