/*
 * measure_tput.c - bulk throughput over one TCP connection on loopback, to
 * compare wrapd with a direct connection.  A measurement, not a test.
 *
 *   measure_tput up|down LISTEN_PORT CONNECT_PORT BYTES
 *
 * Listens on 127.0.0.1:LISTEN_PORT (the "backend"), connects to
 * 127.0.0.1:CONNECT_PORT (LISTEN_PORT itself for direct, or a wrapd whose
 * backend is LISTEN_PORT), and moves BYTES: "up" from the connecting side
 * to the listening side, "down" the other way.  Prints bytes/s measured
 * from connect() until the receiver saw EOF.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BUF (1 << 20)

static int
tcp_socket(int port, int listening)
{
	struct sockaddr_in a;
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (listening) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
		    listen(fd, 8) < 0) {
			perror("listen");
			exit(1);
		}
	} else if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		perror("connect");
		exit(1);
	}
	return fd;
}

static unsigned long long
sink(int fd)
{
	static char buf[BUF];
	unsigned long long n = 0;
	ssize_t r;

	while ((r = read(fd, buf, sizeof(buf))) > 0)
		n += (unsigned long long)r;
	return n;
}

static void
source(int fd, unsigned long long bytes)
{
	static char buf[BUF];
	ssize_t w;

	memset(buf, 'x', sizeof(buf));
	while (bytes > 0) {
		size_t k = bytes < sizeof(buf) ? (size_t)bytes : sizeof(buf);

		if ((w = write(fd, buf, k)) <= 0) {
			perror("write");
			exit(1);
		}
		bytes -= (unsigned long long)w;
	}
	shutdown(fd, SHUT_WR);
}

struct job {
	int lfd;
	int up;
	unsigned long long bytes, got;
};

static void *
server(void *arg)
{
	struct job *j = arg;
	int fd = accept(j->lfd, NULL, NULL);

	if (j->up)
		j->got = sink(fd);
	else {
		source(fd, j->bytes);
		sink(fd);
	}
	close(fd);
	return NULL;
}

int
main(int argc, char **argv)
{
	struct job j;
	struct timespec t0, t1;
	pthread_t th;
	unsigned long long got;
	double s;
	int fd;

	if (argc != 5) {
		fprintf(stderr, "usage: measure_tput up|down LISTEN CONNECT BYTES\n");
		return 2;
	}
	j.up = strcmp(argv[1], "up") == 0;
	j.bytes = strtoull(argv[4], NULL, 10);
	j.got = 0;
	j.lfd = tcp_socket(atoi(argv[2]), 1);
	pthread_create(&th, NULL, server, &j);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	fd = tcp_socket(atoi(argv[3]), 0);
	if (j.up) {
		source(fd, j.bytes);
		sink(fd);
		pthread_join(th, NULL);
		got = j.got;
	} else {
		got = sink(fd);
		shutdown(fd, SHUT_WR);
		pthread_join(th, NULL);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	s = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("%s %llu bytes in %.3f s: %.2f GB/s\n", argv[1], got, s,
	    (double)got / s / 1e9);
	return got == j.bytes ? 0 : 1;
}
