/*
 * action_finger.c - one bounded finger query on the loop.
 */
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "action_finger.h"
#include "action_text.h"

struct action_finger {
	uv_tcp_t tcp;
	uv_timer_t timer;
	uv_connect_t creq;
	uv_write_t wreq;
	char query[160];
	char *buf;
	size_t len, max;
	int open_handles;
	bool done;
	action_finger_cb cb;
	void *arg;
};

static void
action_finger_on_close(uv_handle_t *h)
{
	struct action_finger *f = h->data;

	if (--f->open_handles > 0)
		return;
	free(f->buf);
	free(f);
}

static void
action_finger_close(struct action_finger *f)
{
	uv_timer_stop(&f->timer);
	if (!uv_is_closing((uv_handle_t *)&f->timer))
		uv_close((uv_handle_t *)&f->timer, action_finger_on_close);
	if (!uv_is_closing((uv_handle_t *)&f->tcp))
		uv_close((uv_handle_t *)&f->tcp, action_finger_on_close);
}

/* Report once: what was read so far, or the error when nothing was. */
static void
action_finger_finish(struct action_finger *f, const char *err)
{
	action_finger_cb cb = f->cb;
	char *clean;

	if (f->done)
		return;
	f->done = true;
	f->cb = NULL;
	if (cb != NULL) {
		if (f->len > 0 || err == NULL) {
			clean = action_text_finger_clean(
			    f->buf ? f->buf : "", f->len, NULL);
			if (clean != NULL)
				cb(f->arg, clean, NULL);
			else
				cb(f->arg, NULL, "out of memory");
			free(clean);
		} else {
			cb(f->arg, NULL, err);
		}
	}
	action_finger_close(f);
}

static void
action_finger_on_timeout(uv_timer_t *t)
{
	action_finger_finish(t->data, "timed out");
}

static void
action_finger_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct action_finger *f = h->data;

	(void)hint;
	/* One buffer of max bytes, filled in place: reads never exceed it. */
	if (f->buf == NULL)
		f->buf = malloc(f->max);
	if (f->buf == NULL || f->len >= f->max) {
		*b = uv_buf_init(NULL, 0);
		return;
	}
	*b = uv_buf_init(f->buf + f->len, (unsigned)(f->max - f->len));
}

static void
action_finger_on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct action_finger *f = s->data;

	(void)b;
	if (n > 0) {
		f->len += (size_t)n;
		if (f->len >= f->max)
			action_finger_finish(f, NULL); /* enough: cut here */
		return;
	}
	if (n == UV_EOF)
		action_finger_finish(f, NULL);
	else if (n < 0)
		action_finger_finish(
		    f, n == UV_ENOBUFS ? "out of memory" : uv_strerror((int)n));
}

static void
action_finger_on_write(uv_write_t *req, int status)
{
	struct action_finger *f = req->data;

	if (status != 0 && status != UV_ECANCELED)
		action_finger_finish(f, uv_strerror(status));
}

static void
action_finger_on_connect(uv_connect_t *req, int status)
{
	struct action_finger *f = req->data;
	uv_buf_t b;
	int err;

	if (status == UV_ECANCELED)
		return;
	if (status != 0) {
		action_finger_finish(f, uv_strerror(status));
		return;
	}
	b = uv_buf_init(f->query, (unsigned)strlen(f->query));
	if ((err = uv_write(&f->wreq, (uv_stream_t *)&f->tcp, &b, 1,
	         action_finger_on_write)) != 0 ||
	    (err = uv_read_start((uv_stream_t *)&f->tcp, action_finger_alloc,
	         action_finger_on_read)) != 0)
		action_finger_finish(f, uv_strerror(err));
}

struct action_finger *
action_finger_start(uv_loop_t *loop, const struct sockaddr *client,
    const struct sockaddr *local, unsigned port, const char *query,
    uint64_t timeout_ms, size_t max, action_finger_cb cb, void *arg)
{
	struct action_finger *f;
	struct sockaddr_storage dst, src;
	size_t qlen;
	int err;

	memset(&dst, 0, sizeof(dst));
	if (client->sa_family == AF_INET)
		memcpy(&dst, client, sizeof(struct sockaddr_in));
	else if (client->sa_family == AF_INET6)
		memcpy(&dst, client, sizeof(struct sockaddr_in6));
	else
		return NULL;
	acl_sockaddr_set_port(&dst, port);
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return NULL;
	qlen = query ? strlen(query) : 0;
	if (qlen > sizeof(f->query) - 3)
		qlen = sizeof(f->query) - 3;
	if (qlen > 0)
		memcpy(f->query, query, qlen);
	memcpy(f->query + qlen, "\r\n", 3);
	f->max = max > 0 ? max : ACTION_FINGER_MAX;
	f->cb = cb;
	f->arg = arg;
	uv_tcp_init(loop, &f->tcp);
	uv_timer_init(loop, &f->timer);
	f->tcp.data = f->timer.data = f->creq.data = f->wreq.data = f;
	f->open_handles = 2;
	uv_timer_start(&f->timer, action_finger_on_timeout,
	    timeout_ms ? timeout_ms : ACTION_FINGER_TIMEOUT_MS, 0);
	if (local != NULL && local->sa_family == client->sa_family) {
		memset(&src, 0, sizeof(src));
		if (local->sa_family == AF_INET) {
			memcpy(&src, local, sizeof(struct sockaddr_in));
			((struct sockaddr_in *)&src)->sin_port = 0;
		} else {
			memcpy(&src, local, sizeof(struct sockaddr_in6));
			((struct sockaddr_in6 *)&src)->sin6_port = 0;
		}
		/* Best effort: a failed bind only means the kernel picks. */
		(void)uv_tcp_bind(&f->tcp, (struct sockaddr *)&src, 0);
	}
	err = uv_tcp_connect(&f->creq, &f->tcp, (struct sockaddr *)&dst,
	    action_finger_on_connect);
	if (err != 0) {
		f->cb = NULL;
		f->done = true;
		action_finger_close(f);
		return NULL;
	}
	return f;
}

void
action_finger_cancel(struct action_finger *f)
{
	if (f == NULL)
		return;
	f->cb = NULL;
	if (!f->done) {
		f->done = true;
		action_finger_close(f);
	}
}
