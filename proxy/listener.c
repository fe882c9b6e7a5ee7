/*
 * listener.c - bind, listen, and adopt inherited sockets.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "listener.h"

#define LISTENER_BACKLOG 4096

static struct lsock *
listener_alloc(enum conf_listen_kind kind, const char *key, const char *text,
    unsigned nfds)
{
	struct lsock *ls;
	unsigned i;

	if ((ls = calloc(1, sizeof(*ls))) == NULL)
		return NULL;
	atomic_init(&ls->refs, 1);
	ls->kind = kind;
	ls->key = strdup(key);
	ls->text = strdup(text);
	ls->fds = calloc(nfds, sizeof(int));
	if (ls->key == NULL || ls->text == NULL || ls->fds == NULL) {
		free(ls->key);
		free(ls->text);
		free(ls->fds);
		free(ls);
		return NULL;
	}
	for (i = 0; i < nfds; i++)
		ls->fds[i] = -1;
	ls->nfds = nfds;
	ls->owned = true;
	return ls;
}

static int
listener_sockaddr(const struct conf_listen *l, struct sockaddr_storage *ss,
    socklen_t *len, char *err, size_t errsz)
{
	struct addrinfo hints, *res;
	char port[8];
	const char *host = l->host;
	int rc;

	if (host == NULL || *host == '\0' || strcmp(host, "*") == 0)
		host = "::";
	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(port, sizeof(port), "%u", (unsigned)l->port);
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		snprintf(
		    err, errsz, "listen %s: %s", l->text, gai_strerror(rc));
		return -1;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static int
listener_socket(const struct sockaddr_storage *ss, socklen_t len,
    bool reuseport, bool v6only_any, int *out)
{
	int fd, one = 1, zero = 0;

	fd = socket(
	    ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		goto fail;
	if (reuseport &&
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0)
		goto fail;
	if (ss->ss_family == AF_INET6) {
		/*
		 * Only the wildcard "::" is dual-stack; IPv4 clients then
		 * arrive as ::ffff:a.b.c.d, which acl_addr_from_sockaddr()
		 * normalises before any rule sees them.
		 */
		const struct sockaddr_in6 *s6 = (const void *)ss;
		int v6only =
		    v6only_any || !IN6_IS_ADDR_UNSPECIFIED(&s6->sin6_addr);

		if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY,
		        v6only ? &one : &zero, sizeof(int)) < 0)
			goto fail;
	}
	if (bind(fd, (const struct sockaddr *)ss, len) < 0)
		goto fail;
	*out = fd;
	return 0;
fail : {
	int saved = errno;

	close(fd);
	errno = saved;
}
	return -1;
}

void
listener_addr_key(
    const struct conf_listen *l, bool v6only_any, char *buf, size_t sz)
{
	snprintf(buf, sz, "addr %s%s", l->text, v6only_any ? " v6only" : "");
}

struct lsock *
listener_open_addr(const struct conf_listen *l, unsigned nfds, bool v6only_any,
    char *err, size_t errsz)
{
	struct sockaddr_storage ss;
	socklen_t len;
	struct lsock *ls;
	char key[512];
	unsigned i;
	int probe;

	if (listener_sockaddr(l, &ss, &len, err, errsz) < 0)
		return NULL;
	/*
	 * SO_REUSEPORT would let us silently share a port with another
	 * process of the same user.  A plain bind first proves the port is
	 * free; the window until the group is bound is tiny and harmless.
	 */
	if (listener_socket(&ss, len, false, v6only_any, &probe) < 0) {
		snprintf(err, errsz, "listen %s: %s", l->text, strerror(errno));
		return NULL;
	}
	close(probe);
	listener_addr_key(l, v6only_any, key, sizeof(key));
	if ((ls = listener_alloc(CONF_LISTEN_ADDR, key, l->text, nfds)) ==
	    NULL) {
		snprintf(err, errsz, "listen %s: out of memory", l->text);
		return NULL;
	}
	for (i = 0; i < nfds; i++) {
		if (listener_socket(&ss, len, true, v6only_any, &ls->fds[i]) <
		        0 ||
		    listen(ls->fds[i], LISTENER_BACKLOG) < 0) {
			snprintf(err, errsz, "listen %s: %s", l->text,
			    strerror(errno));
			listener_unref(ls);
			return NULL;
		}
	}
	return ls;
}

struct lsock *
listener_wrap_fd(enum conf_listen_kind kind, const char *key, const char *text,
    int fd, bool connected, bool owned)
{
	struct lsock *ls;

	if ((ls = listener_alloc(kind, key, text, 1)) == NULL)
		return NULL;
	ls->fds[0] = fd;
	ls->connected = connected;
	ls->owned = owned;
	return ls;
}

void
listener_shutdown(struct lsock *ls)
{
	unsigned i;

	if (ls->kind != CONF_LISTEN_ADDR || !ls->owned)
		return;
	for (i = 0; i < ls->nfds; i++)
		if (ls->fds[i] >= 0)
			(void)shutdown(ls->fds[i], SHUT_RD);
}

struct lsock *
listener_ref(struct lsock *ls)
{
	atomic_fetch_add(&ls->refs, 1);
	return ls;
}

void
listener_unref(struct lsock *ls)
{
	unsigned i;

	if (ls == NULL || atomic_fetch_sub(&ls->refs, 1) != 1)
		return;
	if (ls->owned)
		for (i = 0; i < ls->nfds; i++)
			if (ls->fds[i] >= 0)
				close(ls->fds[i]);
	free(ls->fds);
	free(ls->key);
	free(ls->text);
	free(ls);
}

static int
listener_is_listening(int fd)
{
	int val = 0, type = 0;
	socklen_t len = sizeof(val);

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
		return -1;
	if (type != SOCK_STREAM)
		return -1;
	len = sizeof(val);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &val, &len) < 0)
		return -1;
	return val != 0;
}

static void
listener_prepare_fd(int fd)
{
	int fl;

	(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
	if ((fl = fcntl(fd, F_GETFL)) >= 0)
		(void)fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

int
listener_systemd_fds(struct inherited_fd **out, char *err, size_t errsz)
{
	const char *pid_s = getenv("LISTEN_PID");
	const char *fds_s = getenv("LISTEN_FDS");
	const char *names_s = getenv("LISTEN_FDNAMES");
	struct inherited_fd *v;
	char *names = NULL, *cursor, *tok;
	char *end;
	long pid, n, i;
	int kind;

	*out = NULL;
	if (pid_s == NULL || fds_s == NULL)
		return 0;
	errno = 0;
	pid = strtol(pid_s, &end, 10);
	if (errno != 0 || *end != '\0' || pid != (long)getpid())
		return 0; /* meant for another process */
	n = strtol(fds_s, &end, 10);
	if (*end != '\0' || n < 0 || n > 1024) {
		snprintf(err, errsz, "LISTEN_FDS=%s: not a count", fds_s);
		return -1;
	}
	if (n == 0)
		goto done;
	if ((v = calloc((size_t)n, sizeof(*v))) == NULL) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	if (names_s != NULL && (names = strdup(names_s)) == NULL) {
		free(v);
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	/*
	 * One name per fd, in order, empty ones included: strsep, not
	 * strtok, which would skip "" and shift every later name onto the
	 * wrong socket.
	 */
	cursor = names;
	for (i = 0; i < n; i++) {
		tok = cursor != NULL ? strsep(&cursor, ":") : NULL;
		v[i].fd = 3 + (int)i;
		v[i].name = strdup(tok != NULL ? tok : "unknown");
		kind = listener_is_listening(v[i].fd);
		if (kind < 0 || v[i].name == NULL) {
			snprintf(err, errsz,
			    "LISTEN_FDS: fd %d is not a stream socket",
			    v[i].fd);
			listener_systemd_free(v, (int)i + 1);
			free(names);
			return -1;
		}
		v[i].connected = kind == 0;
		listener_prepare_fd(v[i].fd);
	}
	free(names);
	*out = v;
done:
	/* Children (exec delivery) must not think the fds are theirs. */
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return (int)n;
}

void
listener_systemd_free(struct inherited_fd *v, int n)
{
	int i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		free(v[i].name);
	free(v);
}

int
listener_stdin_kind(char *err, size_t errsz)
{
	int k = listener_is_listening(STDIN_FILENO);

	if (k < 0) {
		snprintf(err, errsz,
		    "listen stdin: standard input is not a stream socket");
		return -1;
	}
	listener_prepare_fd(STDIN_FILENO);
	return k ? 1 : 2;
}
