/*
 * metrics_http.h - the request head of a scrape (metrics_server.c), read
 * as hostile bytes by a pure function (fuzzed: tests/fuzz/
 * fuzz_metrics_http.c).  HTTP/1.0 and 1.1 as RFC 9112 writes them:
 *
 *   head         = *( CRLF ) request-line *( field-line CRLF ) CRLF
 *   request-line = method SP request-target SP "HTTP/1." DIGIT CRLF
 *   field-line   = field-name ":" field-value
 *
 * LF alone is taken for CRLF (RFC 9112 lets a recipient).  The request
 * line is checked byte by byte as it arrives, so garbage is refused at
 * once rather than when a line ends; field lines are checked as they end,
 * and their values are not looked at further (nothing in them changes the
 * answer).  A body, or a second request, is ignored: the answer closes
 * the connection.
 */
#ifndef WRAPD_METRICS_HTTP_H
#define WRAPD_METRICS_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#define METRICS_HTTP_HEAD_MAX   4096 /* bytes of a request head */
#define METRICS_HTTP_METHOD_MAX 16   /* bytes of a method */

/* What to answer. */
struct metrics_http_req {
	int status;      /* 200 (GET or HEAD of /metrics or /), 400, 404,
			    405 (another method), 431 (head too large) */
	bool head;       /* HEAD: the answer has no body */
	const char *why; /* for a status other than 200: why, static text */
};

/*
 * The request in the len bytes received so far: 0 when more bytes are
 * needed (no end of head yet, fewer than METRICS_HTTP_HEAD_MAX bytes, and
 * nothing wrong so far); 1 with *r filled.  Looks at no more than
 * METRICS_HTTP_HEAD_MAX bytes.  Once it returns 1 for some bytes, it
 * returns 1 with the same status for those bytes and any that follow.
 */
int metrics_http_parse(const char *buf, size_t len, struct metrics_http_req *r);

#endif /* WRAPD_METRICS_HTTP_H */
