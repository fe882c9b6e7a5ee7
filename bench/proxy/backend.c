/*
 * backend.c - the daemon behind the proxies in the benchmark: a sink, a
 * source and an echo service on loopback ports.
 *
 *   backend [-t THREADS] [-p PIDFILE] sink=ADDR:PORT source=ADDR:PORT
 *       echo=ADDR:PORT
 *
 * Each thread runs its own epoll loop with its own SO_REUSEPORT listener per
 * service, so accepts spread over threads with no shared lock.  The sink
 * discards with recv(MSG_TRUNC), which on TCP drops the data without copying
 * it to user space, and the source writes one static 1 MiB buffer: the
 * backend should never be what limits a proxy.  "ready" is printed on stdout
 * once every listener is bound, so a script can wait for it.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "netutil.h"

#define BACKEND_MAX_THREADS 16
#define BACKEND_BUF (1024 * 1024)
#define ECHO_BUF (64 * 1024)

enum svc {
	SVC_SINK,
	SVC_SOURCE,
	SVC_ECHO,
	SVC_COUNT
};

static const char *svc_names[SVC_COUNT] = {"sink", "source", "echo"};

/* One epoll registration: a listener or a connection. */
struct ent {
	int fd;
	int is_listener;
	enum svc svc;
	/* echo: bytes read but not yet written back (peer slow to read) */
	char *pend;
	size_t pend_len;
	size_t pend_off;
};

struct worker {
	pthread_t tid;
	int ep;
	struct ent listeners[SVC_COUNT];
};

static struct sockaddr_in svc_addr[SVC_COUNT];
static int svc_on[SVC_COUNT];
static char src_buf[BACKEND_BUF];

static void
ent_close(struct worker *w, struct ent *e)
{
	epoll_ctl(w->ep, EPOLL_CTL_DEL, e->fd, NULL);
	close(e->fd);
	free(e->pend);
	free(e);
}

static void
do_accept(struct worker *w, struct ent *l)
{
	for (;;) {
		int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			/* EAGAIN, or EMFILE: try again on the next event */
			return;
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		struct ent *e = calloc(1, sizeof(*e));
		if (e == NULL) {
			close(fd);
			return;
		}
		e->fd = fd;
		e->svc = l->svc;
		struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP,
		    .data.ptr = e};
		if (e->svc == SVC_SOURCE)
			ev.events |= EPOLLOUT;
		if (epoll_ctl(w->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
			close(fd);
			free(e);
		}
	}
}

/* Drain what the peer sent without copying it; 0 = keep, -1 = close. */
static int
do_discard(struct ent *e)
{
	static __thread char dummy[BACKEND_BUF];

	for (;;) {
		ssize_t n = recv(e->fd, dummy, sizeof(dummy), MSG_TRUNC);
		if (n > 0)
			continue;
		if (n == 0)
			return -1;
		if (errno == EINTR)
			continue;
		return errno == EAGAIN ? 0 : -1;
	}
}

static int
do_source(struct ent *e)
{
	for (;;) {
		ssize_t n = send(e->fd, src_buf, sizeof(src_buf), MSG_NOSIGNAL);
		if (n > 0)
			continue;
		if (n < 0 && errno == EINTR)
			continue;
		return (n < 0 && errno == EAGAIN) ? 0 : -1;
	}
}

/* Write out the pending echo bytes; 1 = all gone, 0 = blocked, -1 = error. */
static int
echo_flush(struct ent *e)
{
	while (e->pend_off < e->pend_len) {
		ssize_t n = send(e->fd, e->pend + e->pend_off,
		    e->pend_len - e->pend_off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN ? 0 : -1;
		e->pend_off += (size_t)n;
	}
	e->pend_len = e->pend_off = 0;
	return 1;
}

static int
do_echo(struct worker *w, struct ent *e, uint32_t events)
{
	static __thread char buf[ECHO_BUF];

	if (e->pend_len > 0) {
		int r = echo_flush(e);
		if (r <= 0)
			return r;
		/* drained: read again, stop waiting for EPOLLOUT */
		struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP,
		    .data.ptr = e};
		epoll_ctl(w->ep, EPOLL_CTL_MOD, e->fd, &ev);
	}
	if (!(events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP)))
		return 0;
	for (;;) {
		ssize_t n = recv(e->fd, buf, sizeof(buf), 0);
		if (n == 0)
			return -1;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN ? 0 : -1;
		}
		size_t off = 0;
		while (off < (size_t)n) {
			ssize_t m = send(e->fd, buf + off, (size_t)n - off,
			    MSG_NOSIGNAL);
			if (m < 0 && errno == EINTR)
				continue;
			if (m < 0 && errno != EAGAIN)
				return -1;
			if (m < 0) {
				/* keep the rest; resume on EPOLLOUT */
				size_t rest = (size_t)n - off;
				e->pend = realloc(e->pend, rest);
				if (e->pend == NULL)
					return -1;
				memcpy(e->pend, buf + off, rest);
				e->pend_len = rest;
				e->pend_off = 0;
				struct epoll_event ev = {.events = EPOLLOUT,
				    .data.ptr = e};
				epoll_ctl(w->ep, EPOLL_CTL_MOD, e->fd, &ev);
				return 0;
			}
			off += (size_t)m;
		}
	}
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct epoll_event evs[256];

	for (;;) {
		int n = epoll_wait(w->ep, evs, 256, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("backend: epoll_wait");
			exit(1);
		}
		for (int i = 0; i < n; i++) {
			struct ent *e = evs[i].data.ptr;
			uint32_t ev = evs[i].events;
			int r = 0;

			if (e->is_listener) {
				do_accept(w, e);
				continue;
			}
			switch (e->svc) {
			case SVC_SINK:
				r = do_discard(e);
				break;
			case SVC_SOURCE:
				if (ev & (EPOLLIN | EPOLLRDHUP))
					r = do_discard(e);
				if (r == 0 && (ev & EPOLLOUT))
					r = do_source(e);
				break;
			case SVC_ECHO:
				r = do_echo(w, e, ev);
				break;
			default:
				break;
			}
			if (r < 0 || (ev & (EPOLLERR | EPOLLHUP)))
				ent_close(w, e);
		}
	}
	return NULL;
}

static int
listen_on(const struct sockaddr_in *sa)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0 ||
	    listen(fd, 4096) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void
usage(void)
{
	fprintf(stderr, "usage: backend [-t THREADS] [-p PIDFILE] "
			"{sink|source|echo}=ADDR:PORT ...\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	int nthreads = 2, opt;
	const char *pidfile = NULL;
	static struct worker workers[BACKEND_MAX_THREADS];

	while ((opt = getopt(argc, argv, "t:p:")) != -1) {
		switch (opt) {
		case 't':
			nthreads = atoi(optarg);
			break;
		case 'p':
			pidfile = optarg;
			break;
		default:
			usage();
		}
	}
	if (nthreads < 1 || nthreads > BACKEND_MAX_THREADS || optind >= argc)
		usage();
	for (int i = optind; i < argc; i++) {
		char *eq = strchr(argv[i], '=');
		int s;

		if (eq == NULL)
			usage();
		*eq = '\0';
		for (s = 0; s < SVC_COUNT; s++)
			if (strcmp(argv[i], svc_names[s]) == 0)
				break;
		if (s == SVC_COUNT || netutil_parse_addr(eq + 1, &svc_addr[s]) < 0)
			usage();
		svc_on[s] = 1;
	}
	signal(SIGPIPE, SIG_IGN);
	netutil_raise_nofile();
	memset(src_buf, 'x', sizeof(src_buf));

	for (int t = 0; t < nthreads; t++) {
		struct worker *w = &workers[t];

		w->ep = epoll_create1(EPOLL_CLOEXEC);
		if (w->ep < 0) {
			perror("backend: epoll_create1");
			return 1;
		}
		for (int s = 0; s < SVC_COUNT; s++) {
			if (!svc_on[s])
				continue;
			struct ent *l = &w->listeners[s];
			l->fd = listen_on(&svc_addr[s]);
			if (l->fd < 0) {
				fprintf(stderr, "backend: listen %s: %s\n",
				    svc_names[s], strerror(errno));
				return 1;
			}
			l->is_listener = 1;
			l->svc = (enum svc)s;
			struct epoll_event ev = {.events = EPOLLIN,
			    .data.ptr = l};
			epoll_ctl(w->ep, EPOLL_CTL_ADD, l->fd, &ev);
		}
	}
	for (int t = 0; t < nthreads; t++) {
		if (pthread_create(&workers[t].tid, NULL, worker_main,
			&workers[t]) != 0) {
			fprintf(stderr, "backend: pthread_create failed\n");
			return 1;
		}
	}
	if (pidfile != NULL) {
		FILE *f = fopen(pidfile, "w");
		if (f != NULL) {
			fprintf(f, "%ld\n", (long)getpid());
			fclose(f);
		}
	}
	printf("ready\n");
	fflush(stdout);
	for (int t = 0; t < nthreads; t++)
		pthread_join(workers[t].tid, NULL);
	return 0;
}
