/*
 * action_limit.h - bounds on the commands and look-ups that rule actions
 * start: a global cap on how many run at once (actions.max_running) and a
 * per-source rate (actions.per_source), so a flood of connections cannot
 * become a flood of shells, finger queries or mails; and a process-wide
 * rate of report mails (actions.mail_rate), so neither can a flood from
 * many sources (many IPv6 /64s) become a flood of mails.
 *
 * Nothing is ever queued: an action over a limit is skipped and counted,
 * and the counts are logged in summary (action_limit_take_skips()).
 *
 * One limiter is shared by every worker loop of the process, so all calls
 * are thread-safe.  No libuv: time is passed in, which keeps it testable.
 */
#ifndef WRAPD_ACTION_LIMIT_H
#define WRAPD_ACTION_LIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "acl.h"

/* Slots of the per-source table; a full table evicts (see action_limit.c). */
#define ACTION_LIMIT_TABLE_DEFAULT 4096

struct action_limit;

/*
 * max_running: concurrent commands and look-ups (0 = none may run).
 * rate_count per rate_secs per source (rate_count 0 or rate_secs 0: no
 * per-source limit).  table_slots: size of the per-source table (rounded up
 * to a power of two; 0 = ACTION_LIMIT_TABLE_DEFAULT).  NULL on ENOMEM.
 */
struct action_limit *action_limit_new(unsigned max_running, unsigned rate_count,
    unsigned rate_secs, size_t table_slots);
void action_limit_free(struct action_limit *l);

/*
 * Charge one connection's actions to its source at now_ms (a monotonic
 * clock).  IPv4 sources are keyed by address, IPv6 ones by their /64 (one
 * host usually owns a whole /64).  false: over the rate; the skip is
 * counted.
 */
bool action_limit_admit(
    struct action_limit *l, const struct acl_addr *src, uint64_t now_ms);

/*
 * One report mail at now_ms, process-wide: false (and counted) when over
 * the mail rate.  Charge it after action_limit_admit(), so mails one
 * source is not allowed anyway do not use up everyone's.
 */
bool action_limit_admit_mail(struct action_limit *l, uint64_t now_ms);
/*
 * The mail rate, rate_count per rate_secs (0: none, the default of a new
 * limiter); a changed rate starts afresh.
 */
void action_limit_set_mail_rate(
    struct action_limit *l, unsigned rate_count, unsigned rate_secs);

/* Take one running slot; false (and counted) when max_running are busy. */
bool action_limit_take(struct action_limit *l);
/* Give a slot back (exactly once per successful take). */
void action_limit_put(struct action_limit *l);
unsigned action_limit_running(const struct action_limit *l);

/* Skips since the previous call (the counters restart from 0). */
struct action_limit_skips {
	uint64_t over_running;
	uint64_t over_rate;
	uint64_t over_mail_rate;
};
void action_limit_take_skips(
    struct action_limit *l, struct action_limit_skips *out);
/*
 * Same, but only when interval_ms have passed since the last time any
 * thread took them (so several workers log one summary line between them).
 * false: not yet, or nothing was skipped.
 */
bool action_limit_take_skips_due(struct action_limit *l, uint64_t now_ms,
    uint64_t interval_ms, struct action_limit_skips *out);

/*
 * New limits on reload.  Running commands keep their slots; a changed rate
 * starts every source afresh.
 */
void action_limit_configure(struct action_limit *l, unsigned max_running,
    unsigned rate_count, unsigned rate_secs);

#endif /* WRAPD_ACTION_LIMIT_H */
