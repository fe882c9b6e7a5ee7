/*
 * conn.c - a connection's life: decide, deliver, relay, close.
 *
 * The decision is staged (acl.h): acl_eval() runs on what is known; when a
 * rule needs a fact that takes the network (host name, ident user), one
 * asynchronous look-up runs and evaluation starts over with the fact
 * stored.  Nothing here blocks the loop.
 *
 * Fail closed: each look-up gets its own lookup_timeout from the moment
 * the rules first need it (a client's silent ident server cannot use up
 * the time of a later name rule, nor a slow aclexec that of the rescan).
 * A look-up that ends without an answer (the deadline, or no room to ask:
 * lookup.h) leaves the fact "unknown", as libwrap would store it, but the
 * verdict may not grant on it: when the rules reached that fact on the way
 * to a grant, the connection is denied (conn_unanswered_matters).
 */
#include <errno.h>
#include <stdatomic.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "action.h"
#include "action_conn.h"
#include "backend.h"
#include "conn.h"
#include "geoip.h"
#include "log.h"
#include "lookup.h"
#include "relay.h"
#include "server.h"
#include "snapshot.h"
#include "source.h"

static const char *const conn_state_names[] = {
	"deciding", "connecting", "relaying", "exec", "closing",
};

static void conn_decide(struct conn *c);
static void conn_looking(struct conn *c, bool on);

int
conn_fd(const struct conn *c, int side)
{
	return c->fd[side];
}

void
conn_set_state(struct conn *c, enum conn_state st)
{
	if (log_enabled(LOG_DEBUG))
		log_debug("conn=%llu state %s -> %s",
		    (unsigned long long)c->id, conn_state_names[c->state],
		    conn_state_names[st]);
	c->state = (uint8_t)st;
}

static const struct snap_svc *
conn_svc(const struct conn *c)
{
	return &c->snap->svc[c->svc];
}

static void
conn_addr_set(struct conn_addr *ca, const struct sockaddr *sa)
{
	memset(ca, 0, sizeof(*ca));
	(void)acl_addr_from_sockaddr(&ca->a, sa);
	if (sa->sa_family == AF_INET)
		ca->port = ntohs(((const struct sockaddr_in *)sa)->sin_port);
	else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)sa;

		ca->port = ntohs(s6->sin6_port);
		ca->scope = s6->sin6_scope_id;
	}
}

/* Back to a sockaddr (plain IPv4 for a normalised mapped address). */
static socklen_t
conn_addr_sockaddr(const struct conn_addr *ca, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (ca->a.family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(ca->port);
		memcpy(&s4->sin_addr, ca->a.bytes, 4);
		return sizeof(*s4);
	}
	if (ca->a.family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(ca->port);
		s6->sin6_scope_id = ca->scope;
		memcpy(&s6->sin6_addr, ca->a.bytes, 16);
		return sizeof(*s6);
	}
	return 0;
}

/* "1.2.3.4:5" or "[::1]:5" (or "-" when unknown). */
static void
conn_addr_text(const struct conn_addr *ca, char *buf, size_t sz)
{
	char a[64];

	if (ca->a.family == AF_UNSPEC) {
		snprintf(buf, sz, "-");
		return;
	}
	acl_addr_format(&ca->a, a, sizeof(a));
	snprintf(buf, sz, ca->a.family == AF_INET6 ? "[%s]:%u" : "%s:%u", a,
	    (unsigned)ca->port);
}

void
conn_request(const struct conn *c, struct acl_request *r)
{
	const struct conf_service *cs = conn_svc(c)->conf;

	acl_request_init(r);
	r->daemon = cs->daemon != NULL ? cs->daemon : cs->name;
	r->client.addr = c->client.a;
	r->client.port = c->client.a.family == AF_UNSPEC ? -1 : c->client.port;
	r->client.name = c->client_name;
	r->server.addr = c->server.a;
	r->server.port = c->server.a.family == AF_UNSPEC ? -1 : c->server.port;
	r->server.name = c->server_name;
	r->user = c->user;
	r->pid = log_pid(); /* cached: %p needs it per evaluation */
	/* Only for rules with country= / asn=: a look-up in memory. */
	geoip_fill(&c->snap->geoip, c->snap->rules, r);
}

/* ------------------------------------------------------------------ */
/* The one log line. */

static const char *
conn_verdict_name(const struct conn *c)
{
	if (!c->decided)
		return "-";
	switch (c->verdict) {
	case ACL_GRANT:
		return "grant";
	case ACL_TWIST:
		return "twist";
	default:
		return "deny";
	}
}

static void
conn_log(const struct conn *c)
{
	char line[1536], client[80], rule[600];
	struct log_buf b = { line, 0, sizeof(line) };
	const char *svc = conn_svc(c)->conf->name;
	uint64_t ms = uv_now(&c->w->loop) - c->start_ms;
	int prio = LOG_INFO;

	line[0] = '\0';
	if (c->decided && c->verdict != ACL_GRANT)
		prio = LOG_WARNING;
	if (c->has_severity) /* the rule's severity option */
		prio = c->severity;
	if (!log_enabled(prio))
		return;
	conn_addr_text(&c->client, client, sizeof(client));
	if (c->rule != NULL)
		snprintf(rule, sizeof(rule), "%s:%u", c->rule->file,
		    c->rule->line);
	else if (c->err_file != NULL)
		snprintf(rule, sizeof(rule), "%s:%u", c->err_file,
		    c->err_line);
	else
		snprintf(rule, sizeof(rule), "none");

	if (log_json()) {
		log_buf_printf(&b, "{\"conn\":%llu,\"service\":",
		    (unsigned long long)c->id);
		log_buf_json_str(&b, svc);
		log_buf_printf(&b, ",\"client\":");
		log_buf_json_str(&b, client);
		log_buf_printf(&b, ",\"name\":");
		if (c->client_name != NULL)
			log_buf_json_str(&b, c->client_name);
		else
			log_buf_printf(&b, "null");
		log_buf_printf(&b, ",\"user\":");
		if (c->user != NULL)
			log_buf_json_str(&b, c->user);
		else
			log_buf_printf(&b, "null");
		log_buf_printf(&b, ",\"verdict\":\"%s\",\"rule\":",
		    conn_verdict_name(c));
		log_buf_json_str(&b, rule);
		log_buf_printf(&b,
		    ",\"in\":%llu,\"out\":%llu,\"ms\":%llu,\"reason\":",
		    (unsigned long long)c->dir[0].bytes,
		    (unsigned long long)c->dir[1].bytes,
		    (unsigned long long)ms);
		log_buf_json_str(&b, c->reason);
		if (c->proc != NULL)
			log_buf_printf(&b, ",\"exit\":%lld",
			    (long long)c->exit_status);
		log_buf_printf(&b, "}");
	} else {
		log_buf_printf(&b, "conn=%llu service=",
		    (unsigned long long)c->id);
		log_buf_kv_str(&b, svc);
		log_buf_printf(&b, " client=%s name=", client);
		log_buf_kv_str(&b, c->client_name ? c->client_name : "-");
		log_buf_printf(&b, " user=");
		log_buf_kv_str(&b, c->user ? c->user : "-");
		log_buf_printf(&b, " verdict=%s rule=", conn_verdict_name(c));
		log_buf_kv_str(&b, rule);
		log_buf_printf(&b, " in=%llu out=%llu ms=%llu reason=",
		    (unsigned long long)c->dir[0].bytes,
		    (unsigned long long)c->dir[1].bytes,
		    (unsigned long long)ms);
		log_buf_kv_str(&b, c->reason);
		if (c->proc != NULL)
			log_buf_printf(&b, " exit=%lld",
			    (long long)c->exit_status);
	}
	log_msg(prio, "%s", line);
}

/* ------------------------------------------------------------------ */
/* Close. */

static void
conn_free(struct conn *c)
{
	snapshot_unref(c->snap);
	free(c->client_name);
	free(c->server_name);
	free(c->user);
	action_env_free(c->action_env);
	free(c);
}

static void
conn_handle_closed(uv_handle_t *h)
{
	struct conn *c = h->data;

	if (h == (uv_handle_t *)&c->side[0] || h == (uv_handle_t *)&c->side[1]) {
		int s = h == (uv_handle_t *)&c->side[0] ? 0 : 1;

		if (c->fd[s] >= 0 && c->abort && c->state == CONN_CLOSING)
			closer_reset(&c->w->closer, c->fd[s]);
		else if (c->fd[s] >= 0)
			closer_fin(&c->w->closer, c->fd[s]);
		c->fd[s] = -1;
	} else
		free(h); /* the process handle */
	if (--c->pending_closes == 0 && c->state == CONN_CLOSING)
		conn_free(c);
}

void
conn_close_side(struct conn *c, int s)
{
	if (s == 0 ? !c->client_open : !c->backend_open)
		return;
	if (s == 0)
		c->client_open = false;
	else
		c->backend_open = false;
	c->pending_closes++;
	uv_close((uv_handle_t *)&c->side[s], conn_handle_closed);
}

static void
conn_unlink(struct conn *c)
{
	struct worker *w = c->w;

	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		w->conns.head = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	c->next = c->prev = NULL;
	w->conns.n--;
}

void
conn_close(struct conn *c, const char *reason)
{
	struct worker *w = c->w;
	const struct snap_svc *sv = conn_svc(c);

	if (c->state == CONN_CLOSING)
		return;
	c->reason = reason;
	conn_set_state(c, CONN_CLOSING);
	action_conn_closing(c);
	if (c->lookup == CONN_LOOKUP_USER)
		lookup_ident_cancel(c->lk.ident);
	else if (c->lookup != CONN_LOOKUP_NONE)
		lookup_name_cancel(c->lk.name);
	c->lookup = CONN_LOOKUP_NONE;
	conn_looking(c, false);
	conn_log(c);
	relay_release(c);
	conn_close_side(c, 0);
	conn_close_side(c, 1);
	if (c->proc != NULL && !uv_is_closing((uv_handle_t *)c->proc)) {
		c->pending_closes++;
		uv_close((uv_handle_t *)c->proc, conn_handle_closed);
	}
	conn_unlink(c);
	if (c->counted) {
		source_counts_put(sv->st->sources, &c->client.a);
		worker_conn_closed(w, c->svc, sv->st);
	}
	c->counted = false;
	/* The snapshot reference goes with the struct, in conn_free(). */
	if (c->pending_closes == 0)
		conn_free(c);
}

void
conn_abort(struct conn *c, const char *reason)
{
	if (c->state == CONN_CLOSING)
		return;
	c->abort = true;
	conn_close(c, reason);
}

/* ------------------------------------------------------------------ */
/* Accept. */

void
conn_accept(struct worker *w, uint32_t svc, int fd,
    const struct sockaddr *peer, socklen_t peerlen)
{
	struct sockaddr_storage local;
	socklen_t llen = sizeof(local);
	struct conn *c;
	int one = 1;

	(void)peerlen;
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_warnx("out of memory: connection dropped");
		close(fd);
		return;
	}
	c->w = w;
	c->snap = snapshot_ref(w->snap);
	c->svc = svc;
	conn_addr_set(&c->client, peer);
	if (!source_counts_take(conn_svc(c)->st->sources, &c->client.a,
	        conn_svc(c)->conf->per_source_connections)) {
		/* Refused before anything is spent on it; logged in summary
		 * by the worker's sweep. */
		closer_reset(&w->closer, fd);
		snapshot_unref(c->snap);
		free(c);
		return;
	}
	c->id = server_next_id(w->srv);
	c->start_ms = c->last_ms = uv_now(&w->loop);
	c->fd[0] = fd;
	c->fd[1] = -1;
	c->dir[0].prd = c->dir[0].pwr = -1;
	c->dir[1].prd = c->dir[1].pwr = -1;
	c->reason = "-";
	if (getsockname(fd, (struct sockaddr *)&local, &llen) == 0)
		conn_addr_set(&c->server, (struct sockaddr *)&local);
	else
		c->server.a.family = AF_UNSPEC;
	/* A relay must not add Nagle delays to what it forwards. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

	if (uv_poll_init(&w->loop, &c->side[0], fd) != 0) {
		log_warnx("conn=%llu: cannot poll socket; dropped",
		    (unsigned long long)c->id);
		source_counts_put(conn_svc(c)->st->sources, &c->client.a);
		closer_reset(&w->closer, fd);
		snapshot_unref(c->snap);
		free(c);
		return;
	}
	c->side[0].data = c;
	c->side[1].data = c;
	c->client_open = true;
	c->counted = true;
	atomic_fetch_add(&conn_svc(c)->st->active, 1);
	c->next = w->conns.head;
	if (c->next != NULL)
		c->next->prev = c;
	w->conns.head = c;
	w->conns.n++;
	conn_set_state(c, CONN_DECIDING);
	conn_decide_from(c, ACL_TABLE_ALLOW);
}

/* ------------------------------------------------------------------ */
/* Decide. */

static char *
conn_fact_dup(const char *s)
{
	size_t n = strnlen(s, ACL_STRING_MAX - 1);
	char *p = malloc(n + 1);

	if (p != NULL) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

/* Store a fact; NULL (out of memory) falls back to "unknown". */
static void
conn_store(char **slot, const char *s)
{
	free(*slot);
	*slot = conn_fact_dup(s);
	if (*slot == NULL)
		*slot = conn_fact_dup(ACL_UNKNOWN);
}

static unsigned
conn_fact_bit(enum conn_lookup what)
{
	switch (what) {
	case CONN_LOOKUP_CLIENT_NAME:
		return ACL_NEEDS_CLIENT_NAME;
	case CONN_LOOKUP_SERVER_NAME:
		return ACL_NEEDS_SERVER_NAME;
	case CONN_LOOKUP_USER:
		return ACL_NEEDS_USER;
	default:
		return 0;
	}
}

/* Count the connection in (or out of) its service's look-ups in flight. */
static void
conn_looking(struct conn *c, bool on)
{
	if (c->looking == on)
		return;
	c->looking = on;
	if (on)
		atomic_fetch_add(&conn_svc(c)->st->looking, 1);
	else
		atomic_fetch_sub(&conn_svc(c)->st->looking, 1);
}

/* A look-up ended: store what it said and decide again. */
static void
conn_fact_known(struct conn *c, const char *value, enum lookup_status status)
{
	enum conn_lookup what = (enum conn_lookup)c->lookup;

	c->lookup = CONN_LOOKUP_NONE;
	conn_looking(c, false);
	conn_store(what == CONN_LOOKUP_CLIENT_NAME ? &c->client_name
	        : what == CONN_LOOKUP_SERVER_NAME  ? &c->server_name
	                                           : &c->user,
	    value);
	if (status != LOOKUP_ANSWERED) {
		c->unanswered |= (uint8_t)conn_fact_bit(what);
		c->unanswered_why = status == LOOKUP_TIMED_OUT
		    ? "lookup-timeout"
		    : "lookup-skipped";
	}
	conn_decide(c);
}

static void
conn_name_cb(void *arg, const char *name, enum lookup_status status)
{
	conn_fact_known(arg, name, status);
}

static void
conn_ident_cb(void *arg, const char *user, enum lookup_status status)
{
	conn_fact_known(arg, user, status);
}

/*
 * Connections of a service waiting on look-ups may hold at most half of
 * its max_connections: past that, a new look-up is not started (the fact
 * is unanswered, so a verdict that needs it denies), and the other half
 * stays free for clients whose rules decide without one.  Without this,
 * clients behind silent resolvers or ident servers, from as many sources
 * as per_source allows, could hold every slot for lookup_timeout each.
 */
static bool
conn_lookup_room(const struct conn *c)
{
	const struct snap_svc *sv = conn_svc(c);
	unsigned cap = sv->conf->max_connections / 2;

	return atomic_load(&sv->st->looking) < (cap > 0 ? cap : 1);
}

/*
 * Start the look-up for one missing fact, with timeout_ms of its own.
 * Returns 1 when a look-up is in flight (conn_decide runs again from its
 * callback), 0 when the fact was settled at once: "unknown", and
 * unanswered unless there is nothing to ask (no IP address).
 */
static int
conn_fetch(struct conn *c, enum conn_lookup what, uint64_t timeout_ms)
{
	struct sockaddr_storage a, l;
	char **slot;

	slot = what == CONN_LOOKUP_CLIENT_NAME ? &c->client_name :
	    what == CONN_LOOKUP_SERVER_NAME    ? &c->server_name :
						 &c->user;
	if (!conn_lookup_room(c))
		goto skipped;
	c->lookup = (uint8_t)what;
	c->deadline_ms = uv_now(&c->w->loop) + timeout_ms;
	switch (what) {
	case CONN_LOOKUP_CLIENT_NAME:
	case CONN_LOOKUP_SERVER_NAME:
		if (conn_addr_sockaddr(what == CONN_LOOKUP_CLIENT_NAME
		            ? &c->client
		            : &c->server,
		        &a) == 0)
			break;
		c->lk.name = lookup_name_start(&c->w->loop,
		    (struct sockaddr *)&a, timeout_ms, conn_name_cb, c);
		if (c->lk.name == NULL)
			goto skipped;
		conn_looking(c, true);
		return 1;
	case CONN_LOOKUP_USER:
		if (conn_addr_sockaddr(&c->client, &a) == 0 ||
		    conn_addr_sockaddr(&c->server, &l) == 0)
			break;
		c->lk.ident = lookup_ident_start(&c->w->loop,
		    (struct sockaddr *)&l, (struct sockaddr *)&a, timeout_ms,
		    conn_ident_cb, c);
		if (c->lk.ident == NULL)
			goto skipped;
		conn_looking(c, true);
		return 1;
	default:
		break;
	}
	/* No IP address to ask about: "unknown" is the answer, as libwrap's. */
	c->lookup = CONN_LOOKUP_NONE;
	conn_store(slot, ACL_UNKNOWN);
	return 0;
skipped:
	c->lookup = CONN_LOOKUP_NONE;
	conn_store(slot, ACL_UNKNOWN);
	c->unanswered |= (uint8_t)conn_fact_bit(what);
	c->unanswered_why = "lookup-skipped";
	return 0;
}

/*
 * Did the rules reach the unanswered fact `bit` on the way to this
 * decision?  Evaluation is a pure function of the request, so evaluating
 * again with that fact not yet known stops exactly where the rules first
 * ask for it, if they do.  Both scans count: the one from hosts.allow, and
 * the rescan from hosts.deny after a failed aclexec.
 */
static bool
conn_fact_reached(const struct conn *c, unsigned bit)
{
	struct acl_request req;
	struct acl_decision dec;
	enum acl_status want;

	conn_request(c, &req);
	if (bit == ACL_NEEDS_CLIENT_NAME) {
		req.client.name = NULL;
		want = ACL_NEED_CLIENT_NAME;
	} else if (bit == ACL_NEEDS_SERVER_NAME) {
		req.server.name = NULL;
		want = ACL_NEED_SERVER_NAME;
	} else {
		req.user = NULL;
		want = ACL_NEED_USER;
	}
	if (acl_eval(c->snap->rules, &req, ACL_TABLE_ALLOW, &dec) == want)
		return true;
	return c->scan_from != ACL_TABLE_ALLOW &&
	    acl_eval(c->snap->rules, &req, (enum acl_table)c->scan_from,
	        &dec) == want;
}

/* Would this verdict rest on a fact that no answer gave? */
static bool
conn_unanswered_matters(const struct conn *c)
{
	unsigned bit;

	for (bit = 1; bit <= ACL_NEEDS_USER; bit <<= 1)
		if ((c->unanswered & bit) && conn_fact_reached(c, bit))
			return true;
	return false;
}

static void conn_decided(struct conn *c);

void
conn_decide_from(struct conn *c, enum acl_table from)
{
	c->scan_from = (uint8_t)from;
	conn_decide(c);
}

static void
conn_decide(struct conn *c)
{
	const struct conf_service *cs = conn_svc(c)->conf;
	struct acl_request req;
	struct acl_decision dec;
	enum acl_status st;
	enum conn_lookup need;
	uint64_t timeout_ms;
	unsigned needs;

	for (;;) {
		conn_request(c, &req);
		st = acl_eval(c->snap->rules, &req,
		    (enum acl_table)c->scan_from, &dec);
		timeout_ms = cs->lookup_timeout_ms;
		switch (st) {
		case ACL_NEED_CLIENT_NAME:
			need = CONN_LOOKUP_CLIENT_NAME;
			break;
		case ACL_NEED_SERVER_NAME:
			need = CONN_LOOKUP_SERVER_NAME;
			break;
		case ACL_NEED_USER:
			need = CONN_LOOKUP_USER;
			break;
		default:
			need = CONN_LOOKUP_NONE;
			break;
		}
		if (need == CONN_LOOKUP_NONE) {
			/*
			 * Decided.  The rule's options (spawn %n, ...) may
			 * still want facts; fetch them now, so the actions
			 * that run on this decision have them (an `rfc931 N`
			 * option sets the ident look-up's own timeout).
			 */
			needs = dec.rule != NULL ? action_rule_needs(dec.rule,
			    req.daemon, &timeout_ms) : 0;
			if ((needs & ACL_NEEDS_CLIENT_NAME) &&
			    c->client_name == NULL)
				need = CONN_LOOKUP_CLIENT_NAME;
			else if ((needs & ACL_NEEDS_SERVER_NAME) &&
			    c->server_name == NULL)
				need = CONN_LOOKUP_SERVER_NAME;
			else if ((needs & ACL_NEEDS_USER) && c->user == NULL)
				need = CONN_LOOKUP_USER;
			if (need != CONN_LOOKUP_USER)
				timeout_ms = cs->lookup_timeout_ms;
			if (need == CONN_LOOKUP_NONE)
				break;
		}
		if (conn_fetch(c, need, timeout_ms))
			return; /* back in conn_name_cb / conn_ident_cb */
	}
	c->decided = true;
	c->verdict = (uint8_t)dec.verdict;
	c->rule = dec.rule;
	c->table = (uint8_t)dec.table;
	c->err_file = NULL;
	if (dec.table_error && dec.rule == NULL) {
		c->err_file = dec.error_file;
		c->err_line = dec.error_line;
	}
	if (dec.verdict != ACL_DENY && c->unanswered != 0 &&
	    conn_unanswered_matters(c)) {
		/*
		 * Fail closed: the rules asked for a fact that no answer
		 * gave, so no rule may grant on it.  No rule decided; the
		 * service's on_deny still runs.
		 */
		c->verdict = ACL_DENY;
		c->rule = NULL;
		c->failed_closed = true;
	}
	conn_decided(c);
}

/*
 * The decision point: every connection passes here exactly once, with
 * c->verdict, c->rule (NULL: no rule matched, or a table error at
 * c->err_file:c->err_line) and the facts fetched so far.
 *
 * How actions plug in (proxy/action_*.c): this is the one place to call
 * them.  An action that must run before the connection is served or closed
 * (banners, twist, aclexec's verdict) takes over here and, when it is done,
 * calls conn_deliver() (grant) or conn_close(c, "denied") (deny); spawn,
 * finger and mail are fire-and-forget and are started here before the
 * verdict is applied.  They must not block and must not keep pointers to c
 * past conn_close() (the struct is freed after it).
 */
static void
conn_decided(struct conn *c)
{
	/* proxy/action_conn.c: options, on_deny, then deliver or close. */
	action_conn_decided(c);
}

/* Granted: hand the connection to the service's backend. */
void
conn_deliver(struct conn *c)
{
	const struct conf_service *cs = conn_svc(c)->conf;

	if (cs->backend_kind == CONF_BACKEND_EXEC)
		exec_deliver(c);
	else
		backend_connect(c);
}

void
conn_backend_connected(struct conn *c)
{
	conn_set_state(c, CONN_RELAYING);
	relay_start(c);
}

/* ------------------------------------------------------------------ */
/* Timeouts. */

void
conn_sweep(struct worker *w, uint64_t now)
{
	struct conn *c, *next;
	const struct conf_service *cs;

	for (c = w->conns.head; c != NULL; c = next) {
		next = c->next;
		cs = conn_svc(c)->conf;
		switch (c->state) {
		case CONN_DECIDING:
			/*
			 * Look-ups end themselves at the deadline; this is a
			 * backstop so a lost callback cannot pin a client.
			 */
			if (c->lookup != CONN_LOOKUP_NONE &&
			    now >= c->deadline_ms + 5000)
				conn_abort(c, "lookup-timeout");
			break;
		case CONN_CONNECTING:
			if (now >= c->deadline_ms)
				conn_abort(c, "connect-timeout");
			else if (!c->backend_open)
				backend_connect(c); /* had no descriptor */
			break;
		case CONN_RELAYING:
			if (cs->idle_timeout_ms == 0)
				break;
			/* Quiet for a while: did the kernel move bytes? */
			if (now - c->last_ms >= cs->idle_timeout_ms / 2 &&
			    relay_peers_moved(c))
				c->last_ms = now;
			if (now - c->last_ms >= cs->idle_timeout_ms)
				conn_abort(c, "idle-timeout");
			break;
		default:
			break;
		}
	}
}
