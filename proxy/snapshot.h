/*
 * snapshot.h - everything a connection is decided and served under: the
 * configuration, the compiled rule set, and the listening sockets, built
 * off to the side and published whole.
 *
 * A snapshot is immutable once published.  Workers hold a reference to the
 * current one; every connection holds a reference to the one it was
 * accepted under, so a reload never changes the rules or the backend of a
 * connection in flight, and the old rule set is freed by whoever drops the
 * last reference (any thread: the counts are atomic).
 */
#ifndef WRAPD_SNAPSHOT_H
#define WRAPD_SNAPSHOT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "acl.h"
#include "conf.h"
#include "geoip.h"
#include "listener.h"
#include "metrics.h"
#include "source.h"

struct admit_state;

/*
 * Per-service state that outlives snapshots (matched by service name on
 * reload): what the service's limits count, and its metrics (metrics.h),
 * which so go on counting over reloads.
 */
struct svc_state {
	atomic_uint refs;
	atomic_uint active;  /* connections accepted and not yet closed */
	atomic_uint waiters; /* workers that paused a listener at the limit */
	atomic_uint looking; /* connections waiting on a look-up */
	struct source_counts *sources; /* per_source.connections */
	struct admit_state *admit;     /* bans, per_source.rate (admit.h) */
	struct metrics_svc metrics;    /* a slot per worker */
	char *name;
};

struct snap_svc {
	const struct conf_service *conf;
	struct svc_state *st;
	/* TCP / UNIX backend, resolved once (numeric only: no DNS). */
	struct sockaddr_storage baddr;
	socklen_t blen;
};

/* One listening socket bound to one service. */
struct snap_bind {
	struct lsock *ls;
	size_t svc;
};

struct snapshot {
	atomic_uint refs;
	uint64_t gen; /* 1, 2, ... in the order they were built */
	struct wrapd_conf *conf;
	struct acl_ruleset *rules;
	/* conf's GeoIP databases, read with the rules: a connection in
	 * flight keeps deciding with the ones it was accepted under. */
	struct geoip geoip;
	struct snap_svc *svc;
	size_t nsvc;
	struct snap_bind *bind;
	size_t nbind;
};

/* What snapshot_build() may reuse and what it needs to know. */
struct snapshot_env {
	const struct snapshot *old; /* listeners and service states to keep */
	unsigned workers;           /* sockets per bound address */
	struct inherited_fd *sd;    /* systemd sockets */
	int nsd;
	struct lsock **sd_ls;   /* one lsock per systemd fd, made once */
	struct lsock *stdin_ls; /* fd 0, when a listen is "stdin" */
	uint64_t gen;
	uid_t
	    owner; /* who may own the rule files besides root (conf_trust.h) */
};

/*
 * Build a snapshot from conf (taken over: freed on failure too).  Loads the
 * rule files and logs their diagnostics; a rule-set diagnostic of severity
 * error fails the build (wrapd does not start; a reload keeps the old set),
 * and so does a rule file that someone other than root or env->owner could
 * change.  The GeoIP databases are read (again) first, with the same
 * strictness.  Returns NULL on failure, with the reason logged.
 */
struct snapshot *snapshot_build(
    struct wrapd_conf *conf, const struct snapshot_env *env);

struct snapshot *snapshot_ref(struct snapshot *s);
void snapshot_unref(struct snapshot *s);

void snapshot_svc_state_unref(struct svc_state *st);

#endif /* WRAPD_SNAPSHOT_H */
