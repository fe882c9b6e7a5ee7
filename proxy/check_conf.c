/*
 * check_conf.c - `wrapd check --config FILE`: the configuration as wrapd
 * loads it (conf_load_file: the YAML, every key and value, the services'
 * accounts; conf_trust: who could change the file), then what wrapd would
 * only find out when a connection comes: an exec program that is not there
 * or cannot be run, and with --connect a backend that does not answer.
 *
 * --connect is not the default: it opens one connection to every backend
 * (closed at once, nothing sent), which a check should not do unasked to a
 * production service, and its answer depends on the moment.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "check.h"

/* How long --connect waits for a backend: at most this (ms). */
#define CHECK_CONF_CONNECT_MS 2000

bool
check_conf_load(struct check *k, const char *path)
{
	size_t nerrs;

	k->conf = cli_opts_load_conf(path, k->out, &nerrs);
	k->errors += nerrs;
	return k->conf != NULL;
}

/*
 * The backend's socket address (numeric TCP host, UNIX path, Linux
 * abstract "@name"), as the proxy builds it.  Its length, or 0.
 */
static socklen_t
check_conf_backend_addr(
    const struct conf_service *s, struct sockaddr_storage *ss)
{
	struct addrinfo hints, *res = NULL;
	struct sockaddr_un *sun = (struct sockaddr_un *)ss;
	char port[8];
	socklen_t len = 0;
	size_t n;

	memset(ss, 0, sizeof(*ss));
	if (s->backend_host == NULL)
		return 0;
	if (s->backend_kind == CONF_BACKEND_TCP) {
		memset(&hints, 0, sizeof(hints));
		hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
		hints.ai_socktype = SOCK_STREAM;
		snprintf(port, sizeof port, "%u", (unsigned)s->backend_port);
		if (getaddrinfo(s->backend_host, port, &hints, &res) != 0)
			return 0;
		if (res->ai_addrlen <= sizeof(*ss)) {
			memcpy(ss, res->ai_addr, res->ai_addrlen);
			len = res->ai_addrlen;
		}
		freeaddrinfo(res);
		return len;
	}
	if ((n = strlen(s->backend_host)) >= sizeof(sun->sun_path))
		return 0;
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, s->backend_host, n + 1);
	if (sun->sun_path[0] != '@')
		return (socklen_t)sizeof(*sun);
	sun->sun_path[0] = '\0'; /* abstract: the name is not a file */
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
}

/* Connect once, without blocking past the timeout: NULL, or why not. */
static const char *
check_conf_connect(const struct conf_service *s, char *why, size_t whysz)
{
	struct sockaddr_storage ss;
	socklen_t len = check_conf_backend_addr(s, &ss);
	struct pollfd pfd;
	int fd, err = 0, ms;
	socklen_t elen = sizeof(err);

	if (len == 0)
		return "its address cannot be used";
	ms = s->connect_timeout_ms < CHECK_CONF_CONNECT_MS
	    ? (int)s->connect_timeout_ms
	    : CHECK_CONF_CONNECT_MS;
	fd =
	    socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return strerror(errno);
	if (connect(fd, (struct sockaddr *)&ss, len) != 0) {
		err = errno;
		if (err == EINPROGRESS) {
			pfd.fd = fd;
			pfd.events = POLLOUT;
			if (poll(&pfd, 1, ms) <= 0)
				err = ETIMEDOUT;
			else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err,
			             &elen) != 0)
				err = errno;
		}
	}
	close(fd);
	if (err == 0)
		return NULL;
	if (err == ETIMEDOUT)
		snprintf(why, whysz, "no answer within %d ms", ms);
	else
		snprintf(why, whysz, "%s", strerror(err));
	return why;
}

static void
check_conf_service(struct check *k, const struct conf_service *s)
{
	const char *file = k->conf->path, *why;
	char buf[256];

	if (s->backend_kind == CONF_BACKEND_EXEC && s->exec_argv != NULL &&
	    (why = check_rules_program(s->exec_argv[0])) != NULL)
		cmd_check_diag(k, file, s->line, s->col, false,
		    "service \"%s\": exec program \"%s\" %s: every "
		    "connection fails",
		    s->name, s->exec_argv[0], why);
	if (!k->connect ||
	    (s->backend_kind != CONF_BACKEND_TCP &&
	        s->backend_kind != CONF_BACKEND_UNIX))
		return;
	if ((why = check_conf_connect(s, buf, sizeof buf)) != NULL)
		cmd_check_diag(k, file, s->line, s->col, false,
		    "service \"%s\": backend %s is down: %s", s->name,
		    s->backend, why);
}

void
check_conf_services(struct check *k)
{
	size_t i;

	for (i = 0; i < k->conf->nservices; i++)
		check_conf_service(k, &k->conf->services[i]);
}
