/*
 * conn.h - one client connection, from accept to close.
 *
 * The stages of a connection, and where each lives:
 *   accept    accept.c      a worker accepts on its listeners; bans,
 *                           per-source limits (admit.c, ban.c) and
 *                           max_connections (conn_accept);
 *             accept_proxy.c  behind a load balancer: its PROXY header
 *                           (proxy_header.c parses it), then admit.c for
 *                           the client it names
 *   decide    decide.c      access_times (timewin.c), then the rules'
 *                           verdict, with the look-ups they ask
 *                           for: lookup_name.c (reverse + forward DNS),
 *                           lookup_ident.c (RFC 1413)
 *   act       action_*.c    the rule's options and the service's on_deny
 *                           (action.h has the map of the act stage)
 *   deliver   deliver_*.c   connect to the backend (PROXY header), or exec
 *                           the program on the socket; transparent.c
 *                           connects from the client's own address
 *   relay     relay.c       splice both ways, half-close, urgent data;
 *                           closer.c ends the sockets (FIN or RST);
 *                           ftp.c reads an FTP control connection by line
 *                           and opens its passive data ports
 *   log       conn_log.c    the one line per connection, at close;
 *             conn_metrics.c  its counts for the metrics endpoint
 * Around them: worker.c (a worker's loop, the sweep of timeouts),
 * server.c (the control loop), snapshot.c (what a reload builds),
 * listener.c (the sockets), source.c (per-source counts), control.c and
 * status.c (the control socket: `wrapd bans`, `wrapd status`, SIGUSR1),
 * metrics*.c (the Prometheus endpoint: metrics.h).
 *
 * States (every change goes through conn_set_state(), logged at debug):
 *   CONN_HEADER      reading a load balancer's PROXY header (accept_proxy)
 *   CONN_DECIDING    acl_eval(), maybe waiting for a look-up (name, ident)
 *   CONN_CONNECTING  granted; non-blocking connect to the backend
 *   CONN_RELAYING    both sockets open; relay.c moves the bytes
 *   CONN_EXEC        granted; handed to a child process (inetd style)
 *   CONN_CLOSING     conn_close() ran; handles are closing, then free
 *
 * conn_close() is the only way out: it is idempotent, logs the one
 * per-connection line, closes every handle, and the struct is freed in the
 * last close callback.  No other code frees a conn.
 *
 * Memory: an idle relaying connection is this struct (two uv_poll_t and a
 * few counters, no buffers, no timers: timeouts are swept per loop) plus
 * small strings for a looked-up name or user.
 */
#ifndef WRAPD_CONN_H
#define WRAPD_CONN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "acl.h"
#include "snapshot.h"

struct worker;
struct lookup_name;
struct lookup_ident;

enum conn_state {
	CONN_DECIDING,
	CONN_CONNECTING,
	CONN_RELAYING,
	CONN_EXEC,
	CONN_CLOSING,
	CONN_HEADER,
};

/* An endpoint, compactly: enough to log it and to rebuild a sockaddr. */
struct conn_addr {
	struct acl_addr a;
	uint16_t port;
	uint32_t scope; /* IPv6 scope id (link-local) */
};

struct relay_spill;

/* One direction: bytes from side src to side 1-src (relay.c). */
struct conn_dir {
	int prd, pwr;     /* pipe while bytes are in flight, else -1 */
	uint32_t pending; /* bytes in the pipe */
	bool eof;         /* source said EOF (or failed: see gone) */
	bool shut;        /* EOF passed on: shutdown(SHUT_WR) on destination */
	bool gone;        /* source failed (reset): deliver what was read, then
			     reset the other side instead of half-closing */
	bool urgent;      /* the urgent byte at the source's mark waits for the
			     destination */
	struct relay_spill *spill; /* copied bytes the destination has not
				      taken yet, or NULL */
	uint64_t bytes;            /* delivered to the destination */
};

enum conn_lookup {
	CONN_LOOKUP_NONE,
	CONN_LOOKUP_CLIENT_NAME,
	CONN_LOOKUP_SERVER_NAME,
	CONN_LOOKUP_USER,
};

struct conn {
	struct conn *next, *prev; /* the worker's list */
	struct worker *w;
	struct snapshot *snap; /* a reference: the rules and backend we use */
	uint64_t id;
	uint64_t start_ms;     /* uv_now at accept */
	uint64_t last_ms;      /* last byte moved (idle timeout) */
	uint32_t acked_seen;   /* relay_peers_moved(): bytes the peers had
				 acknowledged when last looked at */
	uint32_t lookup_began; /* the look-up in flight started this many ms
				  after start_ms (its duration's metric) */
	uint64_t deadline_ms;  /* the look-up in flight, or the backend connect:
				 absolute loop time */
	uint32_t svc;
	uint8_t state;
	uint8_t lookup; /* enum conn_lookup in flight */
	uint8_t pending_closes;
	bool client_open;  /* side[0] poll initialised and not closed */
	bool backend_open; /* side[1] poll initialised and not closed */
	bool counted;      /* counted in the service's active connections */
	bool abort;        /* ends in error: reset the sockets (closer.h) */
	bool looking;      /* counted in the service's look-ups in flight */
	bool metered;      /* its verdict is counted (conn_metrics.c) */
	int ev[2];         /* events each side's poll waits for */
	int fd[2];         /* the sockets, closed after their polls */
	uv_poll_t side[2]; /* 0: client socket, 1: backend socket */
	struct conn_dir dir[2]; /* 0: client -> backend, 1: backend -> client */
	struct conn_addr client, server;
	char *client_name, *server_name, *user; /* facts, once known */
	union {
		struct lookup_name *name;
		struct lookup_ident *ident;
	} lk;
	uv_process_t *proc; /* CONN_EXEC */
	/* The decision (valid while snap is held). */
	const struct acl_rule *rule;
	const char *err_file;
	unsigned err_line;
	uint8_t verdict;    /* enum acl_verdict */
	uint8_t table;      /* enum acl_table of rule (or of the table error) */
	uint8_t scan_from;  /* enum acl_table the evaluation starts at */
	uint8_t unanswered; /* enum acl_need_bits: facts stored as "unknown"
			       because no answer came (deadline, no room) */
	bool decided;
	bool failed_closed;         /* denied because the verdict rested on an
			       unanswered fact (conn.c) */
	const char *unanswered_why; /* "lookup-timeout" or "lookup-skipped" */
	const char *deny_why;       /* a deny wrapd made before the rules
				 ("access-times"), or NULL */
	const char *reason;         /* why it closed */
	const char *why; /* first failure seen while relaying (relay.c) */
	int64_t exit_status;
	/* Actions (action_conn.c): a rule run waiting for aclexec, and the
	 * rule's severity option for this connection's log line. */
	struct action_run *arun;
	bool has_severity;
	int severity;
	char *
	    *action_env; /* environ plus the rule's setenv, for exec; or NULL */
	/* Issue "daemons". */
	struct accept_proxy *proxy_in; /* CONN_HEADER: the header so far */
	struct ftp *ftp;    /* protocol ftp: the control connection's helper */
	uint16_t dest_port; /* an FTP data connection: the backend's data
			       port (0: the service's backend) */
};

/*
 * A connection was accepted on a listener of service svc (fd non-blocking,
 * close-on-exec).  Takes over fd in every case.
 */
void conn_accept(struct worker *w, uint32_t svc, int fd,
    const struct sockaddr *peer, socklen_t peerlen);
/* The service the connection belongs to (in its own snapshot). */
static inline const struct snap_svc *
conn_svc(const struct conn *c)
{
	return &c->snap->svc[c->svc];
}
/* End the connection: FIN to each side (a peer ended, or a deny). */
void conn_close(struct conn *c, const char *reason);
/* End it in error: what was sent is delivered, then each side is reset. */
void conn_abort(struct conn *c, const char *reason);
/* An endpoint from a socket address (a v4-mapped one made IPv4). */
void conn_addr_set(struct conn_addr *ca, const struct sockaddr *sa);
/* Close one side's poll and socket early (exec hand-over). */
void conn_close_side(struct conn *c, int side);
void conn_set_state(struct conn *c, enum conn_state st);
/* "deciding", "relaying", ... (the debug log's and `wrapd status`'s). */
const char *conn_state_name(enum conn_state st);
/* Timeouts, called by the worker's sweep timer. */
void conn_sweep(struct worker *w, uint64_t now);
/* Granted: connect to the backend or exec the program. */
void conn_deliver(struct conn *c);
/* The backend connection is up: start relaying. */
void conn_backend_connected(struct conn *c);
int conn_fd(const struct conn *c, int side);
/* The rule engine's view of the connection's facts. */
void conn_request(const struct conn *c, struct acl_request *r);
/*
 * conn_metrics.c: count the verdict and the deciding rule, once (at a
 * grant's delivery, or conn_close); and n bytes delivered in direction d,
 * for the log line (c->dir[d].bytes) and the service's metrics alike.
 */
void conn_metrics_count(struct conn *c);
void conn_metrics_bytes(struct conn *c, int d, uint64_t n);
/* conn_log.c: the connection's one log line (conn_close writes it). */
void conn_log(const struct conn *c);
/* "1.2.3.4:5" or "[::1]:5" (or "-" when unknown). */
void conn_log_addr(const struct conn_addr *ca, char *buf, size_t sz);

#endif /* WRAPD_CONN_H */
