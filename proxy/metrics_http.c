/*
 * metrics_http.c - the request head of a scrape (metrics_http.h).
 *
 * Three passes over what came so far, each bounded by the bytes there
 * are: skip the empty lines before the request, check the request line
 * (complete or not), then the field lines up to the empty line that ends
 * the head.  Nothing is copied; the answer is a status.
 */
#include <string.h>

#include "metrics_http.h"

static int
metrics_http_answer(struct metrics_http_req *r, int status, const char *why)
{
	r->status = status;
	r->why = why;
	return 1;
}

/* RFC 9110 tchar: the bytes of a method and of a field name. */
static bool
metrics_http_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') ||
	    (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* A visible ASCII byte: those of a request-target. */
static bool
metrics_http_vchar(unsigned char c)
{
	return c > 0x20 && c < 0x7f;
}

/*
 * The version so far, v[0..n), against "HTTP/1." DIGIT [CR]; complete:
 * the line ended there.  True when it is (or can still become) one.
 */
static bool
metrics_http_version(const char *v, size_t n, bool complete)
{
	static const char want[] = "HTTP/1.";
	size_t i;

	if (complete && n > 0 && v[n - 1] == '\r')
		n--;
	if (n > sizeof(want) + (complete ? 0 : 1))
		return false;
	for (i = 0; i < n; i++) {
		if (i < sizeof(want) - 1        ? v[i] != want[i]
		        : i == sizeof(want) - 1 ? !(v[i] >= '0' && v[i] <= '9')
		                                : v[i] != '\r')
			return false;
	}
	return !complete || n == sizeof(want);
}

/* The answer to a well-formed request for target (method m, mlen bytes). */
static int
metrics_http_route(struct metrics_http_req *r, const char *m, size_t mlen,
    const char *target, size_t tlen)
{
	size_t plen;

	r->head = mlen == 4 && memcmp(m, "HEAD", 4) == 0;
	if (!r->head && !(mlen == 3 && memcmp(m, "GET", 3) == 0))
		return metrics_http_answer(r, 405, "only GET and HEAD");
	if (target[0] != '/')
		return metrics_http_answer(r, 400, "not a path");
	for (plen = 0; plen < tlen && target[plen] != '?'; plen++)
		;
	if ((plen == 1) || (plen == 8 && memcmp(target, "/metrics", 8) == 0))
		return metrics_http_answer(r, 200, NULL);
	return metrics_http_answer(r, 404, "only /metrics");
}

/*
 * The field lines from p to the end of the head.  0: more wanted; 1: the
 * head ended well; -1: a bad line.
 */
static int
metrics_http_fields(const char *p, const char *lim)
{
	const char *nl, *e, *q;

	for (; (nl = memchr(p, '\n', (size_t)(lim - p))) != NULL; p = nl + 1) {
		e = nl > p && nl[-1] == '\r' ? nl - 1 : nl;
		if (e == p)
			return 1;
		for (q = p; q < e && metrics_http_tchar((unsigned char)*q); q++)
			;
		if (q == p || q == e || *q != ':')
			return -1; /* no name, no colon, or obs-fold */
		for (q++; q < e; q++)
			if (((unsigned char)*q < 0x20 && *q != '\t') ||
			    *q == 0x7f)
				return -1;
	}
	return 0;
}

/* More bytes wanted: unless there is no room left for them. */
static int
metrics_http_more(struct metrics_http_req *r, size_t len)
{
	if (len < METRICS_HTTP_HEAD_MAX)
		return 0;
	return metrics_http_answer(r, 431, "request head too large");
}

int
metrics_http_parse(const char *buf, size_t len, struct metrics_http_req *r)
{
	const char *p = buf, *lim, *nl, *m, *t;
	size_t mlen, tlen;
	bool complete;
	int rc;

	r->status = 0;
	r->head = false;
	r->why = NULL;
	if (len > METRICS_HTTP_HEAD_MAX)
		len = METRICS_HTTP_HEAD_MAX;
	lim = buf + len;
	/* Empty lines before the request (RFC 9112, 2.2). */
	while (p < lim &&
	    (*p == '\n' || (*p == '\r' && p + 1 < lim && p[1] == '\n')))
		p += *p == '\r' ? 2 : 1;
	if (p + 1 == lim && *p == '\r')
		return metrics_http_more(
		    r, len); /* an empty line's CR, maybe */
	if ((nl = memchr(p, '\n', (size_t)(lim - p))) == NULL)
		nl = lim;
	complete = nl < lim;
	/* The request line, as far as it came: method SP. */
	for (m = p; p < nl && metrics_http_tchar((unsigned char)*p); p++)
		;
	mlen = (size_t)(p - m);
	if (mlen > METRICS_HTTP_METHOD_MAX ||
	    (p < nl && (*p != ' ' || mlen == 0)) || (p == nl && complete))
		return metrics_http_answer(r, 400, "bad method");
	if (p == nl)
		return metrics_http_more(r, len);
	/* request-target SP */
	for (t = ++p; p < nl && metrics_http_vchar((unsigned char)*p); p++)
		;
	tlen = (size_t)(p - t);
	if ((p < nl && (*p != ' ' || tlen == 0)) || (p == nl && complete))
		return metrics_http_answer(r, 400, "bad request-target");
	if (p == nl)
		return metrics_http_more(r, len);
	/* HTTP-version, then the field lines up to the empty one. */
	p++;
	if (!metrics_http_version(p, (size_t)(nl - p), complete))
		return metrics_http_answer(r, 400, "not HTTP/1.x");
	if (!complete)
		return metrics_http_more(r, len);
	if ((rc = metrics_http_fields(nl + 1, lim)) < 0)
		return metrics_http_answer(r, 400, "bad header line");
	if (rc == 0)
		return metrics_http_more(r, len);
	return metrics_http_route(r, m, mlen, t, tlen);
}
