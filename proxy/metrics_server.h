/*
 * metrics_server.h - the Prometheus endpoint (`metrics: ADDR:PORT`,
 * `--metrics`): a TCP listener on the control loop (server.c) that
 * answers GET /metrics (and GET /) with the counters of metrics.h in the
 * text format, and closes.
 *
 * It never touches a connection: a scrape only reads atomics and the
 * published snapshot on the control thread, and whatever goes wrong here
 * (a hostile client, no memory, a failed bind on reload) is logged and
 * changes no decision.  Bounds, each scraper being hostile:
 *   METRICS_SERVER_CLIENTS_MAX  served at once; more are reset at once
 *   METRICS_SERVER_CLIENT_MS    for the whole exchange; then reset
 *   METRICS_HTTP_HEAD_MAX       bytes of request head (metrics_http.h)
 *   METRICS_SERVER_DRAIN_MAX    bytes read and dropped after the answer
 * An answer is written whole, then the socket is shut down for writing
 * (FIN) and read to its end, so the close sends no reset that could cut
 * the answer; a client that breaks the rules (late, too much) is reset.
 *
 * At start, wrapd that cannot bind the address does not start (the
 * admin asked for it); on reload, a changed address is bound anew and
 * the old socket closed only once the new one listens: a failure keeps
 * the old one, logged.  An unchanged address keeps its socket.  A wrapd
 * serving one inherited connection (inetd nowait) serves no metrics.
 */
#ifndef WRAPD_METRICS_SERVER_H
#define WRAPD_METRICS_SERVER_H

#define METRICS_SERVER_CLIENTS_MAX 8
#define METRICS_SERVER_CLIENT_MS   5000
#define METRICS_SERVER_BACKLOG     16
#define METRICS_SERVER_DRAIN_MAX   (64 * 1024)

struct server;

/*
 * Bind and listen on spec ("ADDR:PORT", checked by the configuration),
 * before the privilege drop: the descriptor, or -errno.
 */
int metrics_server_bind(const char *spec);
/*
 * On the control loop, before the workers start: serve fd (-1: none yet;
 * a reload may add one), bound at spec.  -1 when out of memory.
 */
int metrics_server_start(struct server *srv, int fd, const char *spec);
/* A reload's `metrics` (NULL: none): rebind if it changed. */
void metrics_server_reload(struct server *srv, const char *spec);
/* The workers are done: close the listener and every scraper. */
void metrics_server_close(struct server *srv);

#endif /* WRAPD_METRICS_SERVER_H */
