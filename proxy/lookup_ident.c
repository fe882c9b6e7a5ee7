/*
 * lookup_ident.c - RFC 1413 client: ask the client host's ident server which user
 * owns the connection, and parse its reply the way libwrap's rfc931.c does.
 *
 * Everything the ident server sends is hostile: the reply is read into a
 * fixed buffer, only its first line counts, and any problem (refused
 * connection, garbage, wrong ports, timeout) gives ACL_UNKNOWN, which never
 * matches a user name pattern and so never widens access.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>

#include "acl.h"
#include "lookup.h"

#define IDENT_PORT     113
/*
 * libwrap reads the reply with fgets() into a 512-byte buffer, so it sees
 * at most 511 bytes of the first line, and its sscanf() takes at most 255
 * bytes of user name.  Reading no more than that also bounds what a hostile
 * server can make us buffer.
 */
#define IDENT_LINE_MAX 511
#define IDENT_USER_MAX 255

struct lookup_ident {
	uv_loop_t *loop;
	lookup_ident_cb cb;
	void *arg;
	uv_tcp_t tcp;
	uv_timer_t timer;
	uv_connect_t connect;
	uv_write_t write;
	unsigned client_port, server_port;
	char query[32];
	char reply[IDENT_LINE_MAX + 1];
	size_t len;
	int open_handles; /* freed when both tcp and timer are closed */
	bool tcp_open;
	bool done; /* answered or cancelled: the callback must not run again */
	const char *result; /* for a failure found before the loop runs */
	enum lookup_status result_status;
};

/* ------------------------------------------------------------------
 * Reply parsing.  libwrap does
 *	sscanf(line, "%u , %u : USERID :%*[^:]:%255s", &rport, &lport, user)
 * on the first line, so: white space anywhere a blank is in that format,
 * "USERID" exactly (case matters), a non-empty OS field (it may carry
 * ",charset"), then the first word after the third colon.
 */

static bool
lookup_ident_isspace(char c)
{
	/* sscanf's notion of white space in the C locale. */
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' ||
	    c == '\r';
}

static const char *
lookup_ident_skip_space(const char *p, const char *end)
{
	while (p < end && lookup_ident_isspace(*p))
		p++;
	return p;
}

/*
 * A port number: decimal digits, with leading white space as %u allows.
 * Values too large for a port are kept as "no match" (UINT_MAX-like) rather
 * than wrapped, so 65536+N can never pose as N.
 */
static const char *
lookup_ident_port(const char *p, const char *end, unsigned long *port)
{
	unsigned long v = 0;
	const char *start;

	p = lookup_ident_skip_space(p, end);
	start = p;
	while (p < end && *p >= '0' && *p <= '9') {
		if (v <= 65535)
			v = v * 10 + (unsigned long)(*p - '0');
		p++;
	}
	if (p == start)
		return NULL;
	*port = v;
	return p;
}

static const char *
lookup_ident_expect(const char *p, const char *end, const char *lit)
{
	size_t n = strlen(lit);

	p = lookup_ident_skip_space(p, end);
	if ((size_t)(end - p) < n || memcmp(p, lit, n) != 0)
		return NULL;
	return p + n;
}

int
lookup_ident_parse_reply(const char *reply, size_t len, unsigned client_port,
    unsigned server_port, char *user, size_t usersz)
{
	const char *p = reply, *end, *nul, *w;
	unsigned long rport, lport;
	size_t n;

	if (reply == NULL || user == NULL || usersz == 0)
		return -1;
	/* The first line only, as fgets() gives it; a NUL ends sscanf's input. */
	if (len > IDENT_LINE_MAX)
		len = IDENT_LINE_MAX;
	end = reply + len;
	if ((w = memchr(reply, '\n', len)) != NULL)
		end = w;
	if ((nul = memchr(reply, '\0', (size_t)(end - reply))) != NULL)
		end = nul;

	if ((p = lookup_ident_port(p, end, &rport)) == NULL ||
	    (p = lookup_ident_expect(p, end, ",")) == NULL ||
	    (p = lookup_ident_port(p, end, &lport)) == NULL ||
	    (p = lookup_ident_expect(p, end, ":")) == NULL ||
	    (p = lookup_ident_expect(p, end, "USERID")) == NULL ||
	    (p = lookup_ident_expect(p, end, ":")) == NULL)
		return -1;
	/* The OS (and optional charset) field: at least one non-colon byte. */
	for (w = p; p < end && *p != ':'; p++)
		continue;
	if (p == w || p == end)
		return -1;
	p++;
	/* The user: the first word, at most IDENT_USER_MAX bytes of it. */
	p = lookup_ident_skip_space(p, end);
	for (w = p;
	     w < end && !lookup_ident_isspace(*w) && w - p < IDENT_USER_MAX;
	     w++)
		continue;
	if (w == p)
		return -1;
	if (rport != client_port || lport != server_port)
		return -1;
	n = (size_t)(w - p);
	if (n > usersz - 1)
		n = usersz - 1;
	memcpy(user, p, n);
	user[n] = '\0';
	return 0;
}

/* ------------------------------------------------------------------
 * The client.
 */

static void
lookup_ident_free_cb(uv_handle_t *h)
{
	struct lookup_ident *l = h->data;

	if (--l->open_handles == 0)
		free(l);
}

/* Close everything; the struct goes when the last close callback runs. */
static void
lookup_ident_close(struct lookup_ident *l)
{
	if (!uv_is_closing((uv_handle_t *)&l->timer))
		uv_close((uv_handle_t *)&l->timer, lookup_ident_free_cb);
	if (l->tcp_open && !uv_is_closing((uv_handle_t *)&l->tcp))
		uv_close((uv_handle_t *)&l->tcp, lookup_ident_free_cb);
}

static void
lookup_ident_finish(
    struct lookup_ident *l, const char *user, enum lookup_status status)
{
	if (l->done)
		return;
	l->done = true;
	lookup_ident_close(l);
	l->cb(l->arg, user, status);
}

/* Parse what has arrived and answer. */
static void
lookup_ident_answer(struct lookup_ident *l)
{
	char user[ACL_STRING_MAX];

	if (lookup_ident_parse_reply(l->reply, l->len, l->client_port,
	        l->server_port, user, sizeof(user)) == 0)
		lookup_ident_finish(l, user, LOOKUP_ANSWERED);
	else
		lookup_ident_finish(l, ACL_UNKNOWN, LOOKUP_ANSWERED);
}

static void
lookup_ident_timer_cb(uv_timer_t *t)
{
	struct lookup_ident *l = t->data;

	if (l->result != NULL)
		lookup_ident_finish(l, l->result, l->result_status);
	else
		lookup_ident_finish(l, ACL_UNKNOWN, LOOKUP_TIMED_OUT);
}

static void
lookup_ident_alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct lookup_ident *l = h->data;

	(void)suggested;
	/* Never more than the line libwrap would read; see IDENT_LINE_MAX. */
	*buf =
	    uv_buf_init(l->reply + l->len, (unsigned)(IDENT_LINE_MAX - l->len));
}

static void
lookup_ident_read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct lookup_ident *l = s->data;

	(void)buf;
	if (l->done)
		return;
	if (n < 0) {
		/*
		 * EOF before the end of the line: libwrap's fgets() sees EOF
		 * and rejects the reply, so do we.
		 */
		lookup_ident_finish(l, ACL_UNKNOWN, LOOKUP_ANSWERED);
		return;
	}
	if (memchr(l->reply + l->len, '\n', (size_t)n) != NULL) {
		l->len += (size_t)n;
		lookup_ident_answer(l);
		return;
	}
	l->len += (size_t)n;
	if (l->len >= IDENT_LINE_MAX)
		lookup_ident_answer(
		    l); /* a full fgets() buffer without a newline */
}

static void
lookup_ident_write_cb(uv_write_t *w, int status)
{
	struct lookup_ident *l = w->data;

	if (status < 0 && !l->done)
		lookup_ident_finish(l, ACL_UNKNOWN, LOOKUP_ANSWERED);
}

static void
lookup_ident_connect_cb(uv_connect_t *c, int status)
{
	struct lookup_ident *l = c->data;
	uv_buf_t b;

	if (l->done)
		return;
	if (status < 0) {
		lookup_ident_finish(l, ACL_UNKNOWN, LOOKUP_ANSWERED);
		return;
	}
	b = uv_buf_init(l->query, (unsigned)strlen(l->query));
	if (uv_write(&l->write, (uv_stream_t *)&l->tcp, &b, 1,
	        lookup_ident_write_cb) != 0 ||
	    uv_read_start((uv_stream_t *)&l->tcp, lookup_ident_alloc_cb,
	        lookup_ident_read_cb) != 0)
		lookup_ident_finish(l, ACL_UNKNOWN, LOOKUP_ANSWERED);
}

/*
 * Set up the connection.  -1: there is nothing to ask (not an IP
 * connection), which libwrap also answers "unknown"; -2: the question could
 * not be asked (no descriptors, no memory, no route).
 */
static int
lookup_ident_connect(struct lookup_ident *l, const struct sockaddr *local,
    const struct sockaddr *client, unsigned port)
{
	struct sockaddr_storage lss, css;

	/*
	 * An IPv4-mapped address becomes plain IPv4, so that a connection
	 * accepted on a dual-stack socket is asked about over IPv4 from the
	 * matching IPv4 local address.
	 */
	if (acl_sockaddr_unmap(&lss, local) != 0 ||
	    acl_sockaddr_unmap(&css, client) != 0 ||
	    lss.ss_family != css.ss_family)
		return -1;
	l->client_port = acl_sockaddr_port((struct sockaddr *)&css);
	l->server_port = acl_sockaddr_port((struct sockaddr *)&lss);
	snprintf(l->query, sizeof(l->query), "%u , %u\r\n", l->client_port,
	    l->server_port);
	/* From the address the client connected to, so its server sees us. */
	acl_sockaddr_set_port(&lss, 0);
	acl_sockaddr_set_port(&css, port);

	if (uv_tcp_init(l->loop, &l->tcp) != 0)
		return -2;
	l->tcp.data = l;
	l->tcp_open = true;
	l->open_handles++;
	if (uv_tcp_bind(&l->tcp, (struct sockaddr *)&lss, 0) != 0 ||
	    uv_tcp_connect(&l->connect, &l->tcp, (struct sockaddr *)&css,
	        lookup_ident_connect_cb) != 0)
		return -2;
	return 0;
}

struct lookup_ident *
lookup_ident_start_port(uv_loop_t *loop, const struct sockaddr *local,
    const struct sockaddr *client, unsigned port, uint64_t timeout_ms,
    lookup_ident_cb cb, void *arg)
{
	struct lookup_ident *l;
	int rc;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return NULL;
	l->loop = loop;
	l->cb = cb;
	l->arg = arg;
	l->connect.data = l;
	l->write.data = l;
	uv_timer_init(loop, &l->timer);
	l->timer.data = l;
	l->open_handles++;
	if ((rc = lookup_ident_connect(l, local, client, port)) != 0) {
		/*
		 * Answer from the loop, never from inside this call: the
		 * caller has not stored l yet.
		 */
		l->result = ACL_UNKNOWN;
		l->result_status = rc == -1 ? LOOKUP_ANSWERED : LOOKUP_SKIPPED;
		if (l->tcp_open)
			uv_close((uv_handle_t *)&l->tcp, lookup_ident_free_cb);
		l->tcp_open = false;
		uv_timer_start(&l->timer, lookup_ident_timer_cb, 0, 0);
		return l;
	}
	if (timeout_ms > 0)
		uv_timer_start(&l->timer, lookup_ident_timer_cb, timeout_ms, 0);
	return l;
}

struct lookup_ident *
lookup_ident_start(uv_loop_t *loop, const struct sockaddr *local,
    const struct sockaddr *client, uint64_t timeout_ms, lookup_ident_cb cb,
    void *arg)
{
	return lookup_ident_start_port(
	    loop, local, client, IDENT_PORT, timeout_ms, cb, arg);
}

void
lookup_ident_cancel(struct lookup_ident *l)
{
	if (l == NULL || l->done)
		return;
	l->done = true;
	lookup_ident_close(l);
}
