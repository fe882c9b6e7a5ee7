/*
 * ftp.c - the FTP helper of forwarding mode (ftp.h).
 *
 * The control connection goes through relay.c's copy path, and each read
 * through ftp_filter().  A line passes at once unless its first bytes may
 * make it one the helper must see: a command PORT, EPRT, LPRT or LPSV
 * (client to server) or a final 227/229 reply (server to client).  Such a
 * line is held until its end (at most FTP_LINE_MAX bytes), then:
 *   - a refused command is dropped and answered by wrapd with 502 (after
 *     the server's reply line in progress, if any, so no line is cut);
 *   - a passive reply opens a data port on the address the client reached
 *     (the control connection's local address) and is rewritten to name
 *     it; a malformed one, or one wrapd cannot serve, becomes a 425.
 * Telnet sequences that start a command line pass at once (they carry
 * ABOR's interrupt, whose urgent byte relay.c sends out of band), and are
 * followed through the Telnet state, so IAC bytes cannot hide a verb.
 *
 * A data port takes connections until one comes from the control
 * connection's client address: that one is relayed as a connection of its
 * own (its own log line, spliced), to the port the server announced on
 * the backend's own address, never to an address a reply names.  Any other
 * peer (a third party racing for the port) is reset and logged.  The port
 * closes after that connection, at the next passive reply, when the
 * control connection ends, or after timeouts.ftp_data.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "deliver.h"
#include "ftp.h"
#include "ftp_parse.h"
#include "log.h"
#include "relay.h"
#include "server.h"
#include "snapshot.h"
#include "worker.h"

enum ftp_line_state {
	FTP_BOL,     /* at the start of a line (Telnet and blanks passed) */
	FTP_HOLD,    /* holding a line that may need a look */
	FTP_PASS,    /* passing the rest of the line */
	FTP_DISCARD, /* dropping the rest of a refused line */
};

enum ftp_telnet {
	FTP_TN_DATA,
	FTP_TN_IAC,    /* after IAC */
	FTP_TN_OPTION, /* after IAC WILL/WONT/DO/DONT */
	FTP_TN_SB,     /* inside IAC SB ... */
	FTP_TN_SB_IAC, /* IAC inside a subnegotiation */
};

struct ftp_line {
	uint8_t state;  /* enum ftp_line_state */
	uint8_t telnet; /* enum ftp_telnet (commands only) */
	size_t n;
	uint8_t hold[FTP_LINE_MAX];
};

/* A data port waiting for the client; freed when its poll has closed. */
struct ftp_port {
	uv_poll_t poll;
	int fd;
	struct ftp *f;         /* NULL once the port is closed */
	uint16_t backend_port; /* the port the server announced */
	uint16_t port;         /* ours */
};

struct ftp {
	struct conn *c;
	struct ftp_line line[2]; /* 0: commands, 1: replies */
	struct ftp_port *port;   /* the data port open now, or NULL */
	uint64_t port_deadline;
	size_t ninject; /* wrapd's reply waiting for a line end */
	char inject[256];
};

#define FTP_REPLY_ACTIVE                                                       \
	"502 Active mode (PORT, EPRT) is not available through this "          \
	"proxy; use passive mode (PASV or EPSV).\r\n"
#define FTP_REPLY_LPSV                                                         \
	"502 LPSV is not available through this proxy; use PASV or "           \
	"EPSV.\r\n"
#define FTP_REPLY_TOO_LONG "500 Command line too long.\r\n"
#define FTP_REPLY_URGENT   "500 Urgent data inside a command.\r\n"
#define FTP_REPLY_NO_PORT  "425 Cannot open a data connection.\r\n"
#define FTP_REPLY_PASV6    "425 PASV names IPv4 addresses only; use EPSV.\r\n"

bool
ftp_wanted(const struct conn *c)
{
	return conn_svc(c)->conf->protocol == CONF_PROTOCOL_FTP &&
	    c->dest_port == 0;
}

int
ftp_start(struct conn *c)
{
	if ((c->ftp = calloc(1, sizeof(*c->ftp))) == NULL)
		return -1;
	c->ftp->c = c;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Data ports. */

static void
ftp_port_closed(uv_handle_t *h)
{
	struct ftp_port *p = h->data;

	if (p->fd >= 0)
		close(p->fd);
	free(p);
}

/* Close the data port open now, if any. */
static void
ftp_port_close(struct ftp *f)
{
	struct ftp_port *p = f->port;

	if (p == NULL)
		return;
	f->port = NULL;
	p->f = NULL;
	uv_close((uv_handle_t *)&p->poll, ftp_port_closed);
}

/*
 * The client connected to its data port: relay it, as a connection of its
 * own under the control connection's decision, to the backend's data port.
 */
static void
ftp_data_start(
    struct conn *c, int fd, const struct sockaddr *peer, uint16_t backend_port)
{
	struct worker *w = c->w;
	struct sockaddr_storage local;
	socklen_t llen = sizeof(local);
	struct conn *dc;
	char a[64];
	int one = 1;

	if ((dc = calloc(1, sizeof(*dc))) == NULL) {
		closer_reset(&w->closer, fd);
		return;
	}
	dc->w = w;
	dc->snap = snapshot_ref(c->snap);
	dc->svc = c->svc;
	dc->id = server_next_id(w->srv);
	dc->start_ms = dc->last_ms = uv_now(&w->loop);
	dc->fd[0] = fd;
	dc->fd[1] = -1;
	dc->dir[0].prd = dc->dir[0].pwr = -1;
	dc->dir[1].prd = dc->dir[1].pwr = -1;
	dc->reason = "-";
	conn_addr_set(&dc->client, peer);
	if (getsockname(fd, (struct sockaddr *)&local, &llen) == 0)
		conn_addr_set(&dc->server, (struct sockaddr *)&local);
	dc->decided = true;
	dc->verdict = ACL_GRANT;
	dc->rule = c->rule;
	dc->table = c->table;
	dc->dest_port = backend_port;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (uv_poll_init(&w->loop, &dc->side[0], fd) != 0) {
		closer_reset(&w->closer, fd);
		snapshot_unref(dc->snap);
		free(dc);
		return;
	}
	dc->side[0].data = dc;
	dc->side[1].data = dc;
	dc->client_open = true;
	dc->next = w->conns.head;
	if (dc->next != NULL)
		dc->next->prev = dc;
	w->conns.head = dc;
	w->conns.n++;
	acl_addr_format(&dc->client.a, a, sizeof(a));
	log_info("conn=%llu ftp: data connection conn=%llu from %s port %u "
	         "to the backend's port %u",
	    (unsigned long long)c->id, (unsigned long long)dc->id, a,
	    (unsigned)dc->client.port, (unsigned)backend_port);
	conn_metrics_count(dc); /* a grant, by the control connection's rule */
	deliver_backend_connect(dc);
}

static void
ftp_port_cb(uv_poll_t *h, int status, int events)
{
	struct ftp_port *p = h->data;
	struct ftp *f = p->f;
	struct sockaddr_storage peer;
	struct acl_addr pa;
	socklen_t plen;
	char a[64];
	int fd;

	(void)status;
	(void)events;
	if (f == NULL)
		return;
	for (;;) {
		plen = sizeof(peer);
		fd = accept4(p->fd, (struct sockaddr *)&peer, &plen,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return; /* EAGAIN, or an error the next event shows */
		if (acl_addr_from_sockaddr(&pa, (struct sockaddr *)&peer) ==
		        0 &&
		    pa.family == f->c->client.a.family &&
		    memcmp(pa.bytes, f->c->client.a.bytes, 16) == 0)
			break;
		/* A third party racing for the port: never relayed. */
		acl_addr_format(&pa, a, sizeof(a));
		log_warnx("conn=%llu service=%s ftp data port %u: refused %s "
		          "(not the client of the control connection)",
		    (unsigned long long)f->c->id, conn_svc(f->c)->conf->name,
		    (unsigned)p->port, a);
		closer_reset(&f->c->w->closer, fd);
	}
	{
		struct conn *c = f->c;
		uint16_t bport = p->backend_port;

		ftp_port_close(f);
		ftp_data_start(c, fd, (struct sockaddr *)&peer, bport);
	}
}

/*
 * Open a data port on the address the client reached, for the server's
 * data port backend_port.  Our port, or 0 when none could be opened.
 */
static uint16_t
ftp_port_open(struct ftp *f, uint16_t backend_port)
{
	struct conn *c = f->c;
	struct sockaddr_storage ss;
	socklen_t len;
	struct ftp_port *p;
	int fd;

	ftp_port_close(f);
	len = acl_addr_to_sockaddr(&c->server.a, 0, c->server.scope, &ss);
	if (len == 0)
		return 0;
	fd =
	    socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 4) < 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) < 0 ||
	    (p = calloc(1, sizeof(*p))) == NULL) {
		close(fd);
		return 0;
	}
	p->fd = fd;
	p->f = f;
	p->backend_port = backend_port;
	p->port = (uint16_t)acl_sockaddr_port((struct sockaddr *)&ss);
	if (uv_poll_init(&c->w->loop, &p->poll, fd) != 0) {
		close(fd);
		free(p);
		return 0;
	}
	p->poll.data = p;
	uv_poll_start(&p->poll, UV_READABLE, ftp_port_cb);
	f->port = p;
	f->port_deadline =
	    uv_now(&c->w->loop) + conn_svc(c)->conf->ftp_data_timeout_ms;
	return p->port;
}

void
ftp_sweep(struct conn *c, uint64_t now)
{
	struct ftp *f = c->ftp;

	if (f->port == NULL || now < f->port_deadline)
		return;
	log_info("conn=%llu ftp data port %u: the client did not connect "
	         "within timeouts.ftp_data; closed",
	    (unsigned long long)c->id, (unsigned)f->port->port);
	ftp_port_close(f);
}

void
ftp_release(struct conn *c)
{
	struct ftp *f = c->ftp;

	if (f == NULL)
		return;
	c->ftp = NULL;
	ftp_port_close(f);
	free(f);
}

/* ------------------------------------------------------------------ */
/* The control connection's lines. */

/* Output of one filter call, bounded by the caller's room. */
struct ftp_out {
	uint8_t *p;
	size_t n;
	bool full; /* more than FTP_OUT_MAX: cannot happen (ftp.h) */
};

static void
ftp_out_put(struct ftp_out *o, const void *p, size_t n)
{
	if (o->full || FTP_OUT_MAX - o->n < n) {
		o->full = true;
		return;
	}
	memcpy(o->p + o->n, p, n);
	o->n += n;
}

/* wrapd's own reply to the client, after the server's current line. */
static int
ftp_inject(struct ftp *f, const char *reply)
{
	size_t n = strlen(reply);
	const struct ftp_line *r = &f->line[1];

	if (f->ninject + n > sizeof(f->inject))
		return -1;
	memcpy(f->inject + f->ninject, reply, n);
	f->ninject += n;
	if (r->state == FTP_BOL) {
		if (relay_inject(f->c, 1, f->inject, f->ninject) < 0)
			return -1;
		f->ninject = 0;
	}
	return 0;
}

/* A held command line is complete (its line end included in hold). */
static int
ftp_command_done(struct ftp *f, struct ftp_out *o)
{
	struct ftp_line *l = &f->line[0];

	switch (ftp_parse_command(l->hold, l->n)) {
	case FTP_CMD_ACTIVE:
		return ftp_inject(f, FTP_REPLY_ACTIVE);
	case FTP_CMD_LPSV:
		return ftp_inject(f, FTP_REPLY_LPSV);
	default:
		ftp_out_put(o, l->hold, l->n);
		return 0;
	}
}

/* A held reply line is complete: pass it, or rewrite a passive reply. */
static void
ftp_reply_done(struct ftp *f, struct ftp_out *o)
{
	struct ftp_line *l = &f->line[1];
	const struct conn_addr *pub = &f->c->server;
	char buf[128];
	size_t len = l->n, k = 0;
	uint16_t bport = 0, port;
	int code;

	while (
	    len > 0 && (l->hold[len - 1] == '\n' || l->hold[len - 1] == '\r'))
		len--;
	code = ftp_parse_passive(l->hold, len, &bport);
	if (code == 0) {
		ftp_out_put(o, l->hold, l->n);
		return;
	}
	if (code == 227 && pub->a.family != AF_INET) {
		ftp_out_put(o, FTP_REPLY_PASV6, strlen(FTP_REPLY_PASV6));
		return;
	}
	port = code > 0 ? ftp_port_open(f, bport) : 0;
	if (port != 0 && code == 227)
		k = ftp_parse_format_227(buf, sizeof(buf), pub->a.bytes, port);
	else if (port != 0)
		k = ftp_parse_format_229(buf, sizeof(buf), port);
	if (k == 0) {
		if (code < 0)
			log_warnx("conn=%llu ftp: a malformed passive reply "
			          "from the server (or a port below 1024): "
			          "replaced with 425",
			    (unsigned long long)f->c->id);
		ftp_port_close(f);
		ftp_out_put(o, FTP_REPLY_NO_PORT, strlen(FTP_REPLY_NO_PORT));
		return;
	}
	ftp_out_put(o, buf, k);
}

/* Follow the Telnet state of a command line's start; 1: in a sequence. */
static int
ftp_telnet_step(struct ftp_line *l, uint8_t b)
{
	switch (l->telnet) {
	case FTP_TN_IAC:
		l->telnet = b >= 0xfb && b <= 0xfe ? FTP_TN_OPTION
		    : b == 0xfa                    ? FTP_TN_SB
		                                   : FTP_TN_DATA;
		return 1;
	case FTP_TN_OPTION:
		l->telnet = FTP_TN_DATA;
		return 1;
	case FTP_TN_SB:
		if (b == 0xff)
			l->telnet = FTP_TN_SB_IAC;
		return 1;
	case FTP_TN_SB_IAC:
		l->telnet = b == 0xf0 ? FTP_TN_DATA : FTP_TN_SB;
		return 1;
	default:
		if (b != 0xff)
			return 0;
		l->telnet = FTP_TN_IAC;
		return 1;
	}
}

static int
ftp_prefix(int d, const struct ftp_line *l)
{
	return d == 0 ? ftp_parse_command_prefix(l->hold, l->n)
	              : ftp_parse_reply_prefix(l->hold, l->n);
}

/* The line of direction d ended: what waits for a line end goes out. */
static void
ftp_line_end(struct ftp *f, int d, struct ftp_out *o)
{
	struct ftp_line *l = &f->line[d];

	l->state = FTP_BOL;
	l->n = 0;
	l->telnet = FTP_TN_DATA;
	if (d == 1 && f->ninject > 0) {
		ftp_out_put(o, f->inject, f->ninject);
		f->ninject = 0;
	}
}

/* One byte of direction d.  0, or -1: end the connection. */
static int
ftp_byte(struct ftp *f, int d, uint8_t b, struct ftp_out *o)
{
	struct ftp_line *l = &f->line[d];

	switch (l->state) {
	case FTP_PASS:
		ftp_out_put(o, &b, 1);
		if (b == '\n')
			ftp_line_end(f, d, o);
		return 0;
	case FTP_DISCARD:
		if (b == '\n')
			ftp_line_end(f, d, o);
		return 0;
	case FTP_BOL:
		if (b == '\n' ||
		    (d == 0 &&
		        (ftp_telnet_step(l, b) || b == ' ' || b == '\t'))) {
			ftp_out_put(o, &b, 1);
			return 0;
		}
		l->state = FTP_HOLD;
		/* FALLTHROUGH */
	default:
		break;
	}
	if (l->n == sizeof(l->hold)) {
		/* Too long to be what it started like: refuse, do not cut. */
		l->state = FTP_DISCARD;
		l->n = 0;
		if (d == 0)
			return ftp_inject(f, FTP_REPLY_TOO_LONG);
		ftp_out_put(o, FTP_REPLY_NO_PORT, strlen(FTP_REPLY_NO_PORT));
		return 0;
	}
	l->hold[l->n++] = b;
	if (b == '\n') {
		if (d == 0 && ftp_command_done(f, o) < 0)
			return -1;
		if (d == 1)
			ftp_reply_done(f, o);
		ftp_line_end(f, d, o);
		return 0;
	}
	if (!ftp_prefix(d, l)) {
		ftp_out_put(o, l->hold, l->n);
		l->n = 0;
		l->state = FTP_PASS;
	}
	return 0;
}

ssize_t
ftp_filter(struct conn *c, int d, const uint8_t *in, size_t n, uint8_t *out,
    const char **why)
{
	struct ftp *f = c->ftp;
	struct ftp_out o = {out, 0, false};
	size_t i;

	for (i = 0; i < n && i < FTP_READ_MAX; i++) {
		if (ftp_byte(f, d, in[i], &o) < 0) {
			*why = "ftp-refused-too-many";
			return -1;
		}
	}
	if (o.full) {
		*why = "ftp-overflow";
		return -1;
	}
	return (ssize_t)o.n;
}

void
ftp_urgent(struct conn *c, int d, uint8_t b)
{
	struct ftp_line *l;

	if (c->ftp == NULL || d != 0)
		return;
	l = &c->ftp->line[0];
	if (l->state == FTP_BOL) {
		(void)ftp_telnet_step(l, b);
		return;
	}
	if (l->state == FTP_HOLD) {
		/* It went ahead of the held bytes: the line is refused. */
		l->state = FTP_DISCARD;
		l->n = 0;
		(void)ftp_inject(c->ftp, FTP_REPLY_URGENT);
	}
}
