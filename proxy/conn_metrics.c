/*
 * conn_metrics.c - a connection's share of the metrics (metrics.h): its
 * verdict and deciding rule, once, and its bytes as they move.
 *
 * The verdict is counted when it takes effect, with the value the log
 * line will give it: a grant as it is handed to the backend (so a
 * long-lived session counts when it starts, not when it ends), a deny or
 * a twist as the connection closes on it, and a connection that closes
 * with no verdict at all (a load balancer's header that never came, a
 * shutdown during a look-up) as "-"; an FTP data connection, logged as a
 * grant by its control connection's rule, counts so as it is handed to
 * the backend (ftp.c).  conn_close() calls
 * conn_metrics_count() for every connection, so each is counted exactly
 * once whatever way it goes.
 */
#include "conn.h"
#include "metrics.h"
#include "server.h"
#include "worker.h"

static enum metrics_verdict
conn_metrics_verdict(const struct conn *c)
{
	if (!c->decided)
		return METRICS_UNDECIDED;
	switch (c->verdict) {
	case ACL_GRANT:
		return METRICS_GRANT;
	case ACL_TWIST:
		return METRICS_TWIST;
	default:
		return METRICS_DENY; /* as conn_log.c says it */
	}
}

void
conn_metrics_count(struct conn *c)
{
	const struct snap_svc *sv = conn_svc(c);

	if (c->metered)
		return;
	c->metered = true;
	metrics_count(&metrics_svc_slot(&sv->st->metrics, c->w->idx)
	                   ->conns[conn_metrics_verdict(c)],
	    1);
	if (c->decided && c->rule != NULL)
		metrics_rule_hit(c->w->srv->metrics, sv->conf->name, c->table,
		    c->rule->file, c->rule->line);
}

void
conn_metrics_bytes(struct conn *c, int d, uint64_t n)
{
	c->dir[d].bytes += n;
	metrics_svc_bytes(&conn_svc(c)->st->metrics, c->w->idx, d, n);
}
