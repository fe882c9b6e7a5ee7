/*
 * loadgen.c - the benchmark's client: one program, one mode per measurement.
 *
 *   loadgen upload   --connect A:P [--conns N] [--bytes B] [--seconds S]
 *   loadgen download --connect A:P [--conns N] [--bytes B] [--seconds S]
 *   loadgen rr       --connect A:P [--count N] [--size S] [--seconds S]
 *   loadgen connrate --connect A:P [--threads T] [--count N] [--seconds S]
 *                    [--src LO-HI]
 *   loadgen idle     --connect A:P --conns N [--threads T] [--seconds S]
 *                    [--hold S] [--src LO-HI]
 *
 * upload writes to a sink, download reads from a source (both through the
 * proxy under test); --bytes is the total over all connections and --seconds
 * bounds the run, whichever comes first.  rr does --count request/response
 * round trips of --size bytes against an echo service on one connection.
 * connrate runs --threads blocking clients that each connect, exchange
 * --size bytes with an echo service and close, for --seconds or --count
 * connections in all.  idle opens --conns connections to an echo service
 * (with --threads openers) within --seconds, checks each with one exchange,
 * checks them all again (for at most another --seconds), prints "READY ..."
 * and holds them until its standard input reaches EOF or --hold seconds
 * pass.
 *
 * --src LO-HI binds the clients round-robin to the source addresses
 * 127.0.0.0 + LO .. 127.0.0.0 + HI (so 2-20 is 127.0.0.2 .. 127.0.0.20, and
 * 256-511 is 127.0.1.0 .. 127.0.1.255): TIME_WAIT entries spread over many
 * addresses, and a proxy that caches per client address sees new ones.
 *
 * Every socket has 2 s send/receive timeouts, so nothing blocks forever.
 * Results are printed as one line of key=value pairs on standard output;
 * exit status 1 means the measurement failed (no data, no round trips).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "netutil.h"

#define BULK_CHUNK (256 * 1024)
#define MAX_CONNS 20000
#define MAX_THREADS 64
#define MAX_MSG 65536
#define LAT_CAP (1 << 20)

struct opts {
	struct sockaddr_in dst;
	int conns;
	uint64_t bytes;
	double seconds;
	double hold;
	long count;
	size_t size;
	int threads;
	int src_lo, src_hi;
	long warmup;
};

static struct opts o = {
	.conns = 1,
	.bytes = 1ull << 30,
	.seconds = 5.0,
	.hold = 120.0,
	.count = 20000,
	.size = 64,
	.threads = 4,
	.warmup = 500,
};

static uint64_t t_start;	/* set before the start barrier */
static uint64_t t_deadline;
static pthread_barrier_t start_barrier;

static uint64_t
parse_size(const char *s)
{
	char *end;
	double v = strtod(s, &end);

	switch (*end) {
	case 'k': case 'K': v *= 1024; break;
	case 'm': case 'M': v *= 1024 * 1024; break;
	case 'g': case 'G': v *= 1024.0 * 1024 * 1024; break;
	default: break;
	}
	return (uint64_t)v;
}

static void
set_timeouts(int fd)
{
	struct timeval tv = {.tv_sec = 2, .tv_usec = 0};

	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

/* Connect to the target, bound to 127.0.0.<src> if src > 0; fd or -errno. */
static int
dial(int src)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;

	if (fd < 0)
		return -errno;
	set_timeouts(fd);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (src > 0) {
		struct sockaddr_in sa = {.sin_family = AF_INET};

		/* the port is picked at connect(), per 4-tuple */
		setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
		    sizeof(one));
		sa.sin_addr.s_addr = htonl(0x7f000000u + (uint32_t)src);
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			int e = errno;
			close(fd);
			return -e;
		}
	}
	if (connect(fd, (struct sockaddr *)&o.dst, sizeof(o.dst)) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

static int
next_src(long i)
{
	if (o.src_lo <= 0)
		return 0;
	return o.src_lo + (int)(i % (o.src_hi - o.src_lo + 1));
}

/* Send len bytes and read len bytes back; 0 or -errno (-EPIPE on EOF). */
static int
exchange(int fd, char *buf, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = send(fd, buf + off, len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		off += (size_t)n;
	}
	off = 0;
	while (off < len) {
		ssize_t n = recv(fd, buf + off, len - off, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EPIPE;
		off += (size_t)n;
	}
	return 0;
}

/* strerror with '_' for ' ', so a result line stays key=value words */
static const char *
errword(int e)
{
	static char buf[128];
	size_t i;

	snprintf(buf, sizeof(buf), "%s", strerror(e));
	for (i = 0; buf[i] != '\0'; i++)
		if (buf[i] == ' ')
			buf[i] = '_';
	return buf;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Percentile p (0..1) of sorted v[n], in microseconds. */
static double
pct_us(const uint64_t *v, size_t n, double p)
{
	size_t i;

	if (n == 0)
		return 0;
	i = (size_t)(p * (double)n);
	if (i >= n)
		i = n - 1;
	return (double)v[i] / 1000.0;
}

/* ---- bulk: upload / download ---- */

struct bulk {
	pthread_t tid;
	int fd;
	int upload;
	uint64_t quota;
	uint64_t done;
	uint64_t t_end;
	int err;
};

static void *
bulk_main(void *arg)
{
	struct bulk *b = arg;
	static char wbuf[BULK_CHUNK];
	char *rbuf = malloc(BULK_CHUNK);

	pthread_barrier_wait(&start_barrier);
	while (b->done < b->quota && rbuf != NULL) {
		size_t want = BULK_CHUNK;
		ssize_t n;

		if (b->quota - b->done < want)
			want = (size_t)(b->quota - b->done);
		if (b->upload)
			n = send(b->fd, wbuf, want, MSG_NOSIGNAL);
		else	/* MSG_TRUNC: TCP drops the bytes without a copy */
			n = recv(b->fd, rbuf, want, MSG_TRUNC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			b->err = n < 0 ? errno : EPIPE;
			break;
		}
		b->done += (uint64_t)n;
		if (netutil_now_ns() >= t_deadline)
			break;
	}
	b->t_end = netutil_now_ns();
	free(rbuf);
	return NULL;
}

static int
run_bulk(int upload)
{
	static struct bulk bs[MAX_THREADS];
	uint64_t total = 0, t_end = 0;
	int errs = 0, first_err = 0;

	if (o.conns < 1 || o.conns > MAX_THREADS)
		return 2;
	pthread_barrier_init(&start_barrier, NULL, (unsigned)o.conns + 1);
	for (int i = 0; i < o.conns; i++) {
		bs[i].fd = dial(next_src(i));
		if (bs[i].fd < 0) {
			printf("mode=%s error=connect:%s\n",
			    upload ? "upload" : "download",
			    errword(-bs[i].fd));
			return 1;
		}
		bs[i].upload = upload;
		bs[i].quota = o.bytes / (uint64_t)o.conns;
		pthread_create(&bs[i].tid, NULL, bulk_main, &bs[i]);
	}
	t_start = netutil_now_ns();
	t_deadline = t_start + (uint64_t)(o.seconds * 1e9);
	pthread_barrier_wait(&start_barrier);
	for (int i = 0; i < o.conns; i++) {
		pthread_join(bs[i].tid, NULL);
		total += bs[i].done;
		if (bs[i].t_end > t_end)
			t_end = bs[i].t_end;
		if (bs[i].err && bs[i].done < bs[i].quota) {
			errs++;
			if (!first_err)
				first_err = bs[i].err;
		}
		close(bs[i].fd);
	}
	double secs = (double)(t_end - t_start) / 1e9;
	printf("mode=%s conns=%d bytes=%llu seconds=%.3f MBps=%.1f errors=%d"
	       "%s%s\n",
	    upload ? "upload" : "download", o.conns, (unsigned long long)total,
	    secs, secs > 0 ? (double)total / secs / 1e6 : 0.0, errs,
	    first_err ? " first_error=" : "",
	    first_err ? errword(first_err) : "");
	return total > 0 ? 0 : 1;
}

/* ---- rr: request/response latency on one connection ---- */

static int
run_rr(void)
{
	char buf[MAX_MSG];
	uint64_t *lat;
	long n = 0;
	int fd, r = 0;

	if (o.size < 1 || o.size > MAX_MSG || o.count < 1)
		return 2;
	lat = malloc((size_t)o.count * sizeof(*lat));
	if (lat == NULL)
		return 1;
	memset(buf, 'r', o.size);
	fd = dial(next_src(0));
	if (fd < 0) {
		printf("mode=rr error=connect:%s\n", errword(-fd));
		free(lat);
		return 1;
	}
	t_start = netutil_now_ns();
	t_deadline = t_start + (uint64_t)(o.seconds * 1e9);
	for (long i = 0; i < o.warmup && r == 0; i++)
		r = exchange(fd, buf, o.size);
	while (r == 0 && n < o.count) {
		uint64_t t0 = netutil_now_ns();
		r = exchange(fd, buf, o.size);
		uint64_t t1 = netutil_now_ns();
		if (r == 0)
			lat[n++] = t1 - t0;
		if (t1 >= t_deadline)
			break;
	}
	close(fd);
	double sum = 0;
	for (long i = 0; i < n; i++)
		sum += (double)lat[i];
	qsort(lat, (size_t)n, sizeof(*lat), cmp_u64);
	printf("mode=rr size=%zu count=%ld mean_us=%.2f p50_us=%.2f "
	       "p99_us=%.2f p999_us=%.2f max_us=%.2f%s%s\n",
	    o.size, n, n ? sum / (double)n / 1000.0 : 0.0,
	    pct_us(lat, (size_t)n, 0.50), pct_us(lat, (size_t)n, 0.99),
	    pct_us(lat, (size_t)n, 0.999), n ? (double)lat[n - 1] / 1000.0 : 0,
	    r ? " error=" : "", r ? errword(-r) : "");
	free(lat);
	return n > 0 ? 0 : 1;
}

/* ---- connrate: connect, exchange, close ---- */

struct crate {
	pthread_t tid;
	int idx;
	long ok;
	long errs;
	int first_err;
	uint64_t *lat;
	size_t nlat;
};

static atomic_long crate_issued;

static void *
crate_main(void *arg)
{
	struct crate *c = arg;
	char buf[MAX_MSG];
	long i = c->idx;

	memset(buf, 'c', o.size);
	pthread_barrier_wait(&start_barrier);
	for (;;) {
		if (atomic_fetch_add(&crate_issued, 1) >= o.count)
			break;
		uint64_t t0 = netutil_now_ns();
		if (t0 >= t_deadline)
			break;
		int fd = dial(next_src(i));
		i += o.threads;
		int r = fd < 0 ? fd : exchange(fd, buf, o.size);
		if (fd >= 0)
			close(fd);
		if (r < 0) {
			c->errs++;
			if (!c->first_err)
				c->first_err = -r;
			continue;
		}
		c->ok++;
		if (c->nlat < LAT_CAP)
			c->lat[c->nlat++] = netutil_now_ns() - t0;
	}
	return NULL;
}

static int
run_connrate(void)
{
	static struct crate cs[MAX_THREADS];
	long ok = 0, errs = 0;
	int first_err = 0;
	size_t nlat = 0;
	uint64_t *all;

	if (o.threads < 1 || o.threads > MAX_THREADS || o.size < 1 ||
	    o.size > MAX_MSG)
		return 2;
	pthread_barrier_init(&start_barrier, NULL, (unsigned)o.threads + 1);
	for (int i = 0; i < o.threads; i++) {
		cs[i].idx = i;
		cs[i].lat = malloc(LAT_CAP * sizeof(uint64_t));
		if (cs[i].lat == NULL)
			return 1;
		pthread_create(&cs[i].tid, NULL, crate_main, &cs[i]);
	}
	t_start = netutil_now_ns();
	t_deadline = t_start + (uint64_t)(o.seconds * 1e9);
	pthread_barrier_wait(&start_barrier);
	for (int i = 0; i < o.threads; i++) {
		pthread_join(cs[i].tid, NULL);
		ok += cs[i].ok;
		errs += cs[i].errs;
		nlat += cs[i].nlat;
		if (!first_err)
			first_err = cs[i].first_err;
	}
	double secs = (double)(netutil_now_ns() - t_start) / 1e9;
	all = malloc((nlat ? nlat : 1) * sizeof(*all));
	if (all == NULL)
		return 1;
	nlat = 0;
	for (int i = 0; i < o.threads; i++) {
		memcpy(all + nlat, cs[i].lat, cs[i].nlat * sizeof(*all));
		nlat += cs[i].nlat;
		free(cs[i].lat);
	}
	qsort(all, nlat, sizeof(*all), cmp_u64);
	printf("mode=connrate threads=%d ok=%ld errors=%ld seconds=%.3f "
	       "rate=%.0f p50_us=%.1f p99_us=%.1f%s%s\n",
	    o.threads, ok, errs, secs, secs > 0 ? (double)ok / secs : 0.0,
	    pct_us(all, nlat, 0.50), pct_us(all, nlat, 0.99),
	    first_err ? " first_error=" : "",
	    first_err ? errword(first_err) : "");
	free(all);
	return ok > 0 ? 0 : 1;
}

/* ---- idle: open, check, hold ---- */

static int idle_fds[MAX_CONNS];

struct idle_thr {
	pthread_t tid;
	int idx;
	int failed;
	int first_err;
	int alive;	/* passed the second check */
	int dead;	/* failed it (closed) */
	int unchecked;	/* not checked again before the deadline */
	uint64_t deadline;
};

static uint64_t idle_check_deadline;

/* Open connections idx, idx+T, idx+2T, ... each checked with one echo. */
static void *
idle_open_main(void *arg)
{
	struct idle_thr *t = arg;
	char buf[MAX_MSG];
	int consecutive = 0;

	memset(buf, 'i', o.size);
	for (int i = t->idx; i < o.conns; i += o.threads) {
		idle_fds[i] = -1;
		if (netutil_now_ns() >= t->deadline || consecutive >= 50)
			continue;	/* a proxy that hit a wall: stop */
		int fd = dial(next_src(i));
		int r = fd < 0 ? fd : exchange(fd, buf, o.size);

		if (r < 0) {
			if (fd >= 0)
				close(fd);
			t->failed++;
			consecutive++;
			if (!t->first_err)
				t->first_err = -r;
			continue;
		}
		consecutive = 0;
		idle_fds[i] = fd;
	}
	/* A proxy may accept and then drop connections it cannot serve: once
	 * all are open, check each again (in parallel and bounded in time; a
	 * proxy can be slow to serve one among thousands). */
	pthread_barrier_wait(&start_barrier);
	for (int i = t->idx; i < o.conns; i += o.threads) {
		if (idle_fds[i] < 0)
			continue;
		if (netutil_now_ns() >= idle_check_deadline) {
			t->unchecked++;
			continue;
		}
		if (exchange(idle_fds[i], buf, o.size) == 0) {
			t->alive++;
		} else {
			close(idle_fds[i]);
			idle_fds[i] = -1;
			t->dead++;
		}
	}
	return NULL;
}

static int
run_idle(void)
{
	static struct idle_thr ts[MAX_THREADS];
	char buf[MAX_MSG];
	int opened = 0, failed = 0, first_err = 0, alive = 0;
	uint64_t t0 = netutil_now_ns();

	if (o.conns < 1 || o.conns > MAX_CONNS || o.size < 1 ||
	    o.size > MAX_MSG || o.threads < 1 || o.threads > MAX_THREADS)
		return 2;
	memset(buf, 'i', o.size);
	pthread_barrier_init(&start_barrier, NULL, (unsigned)o.threads);
	/* opening gets --seconds, the second check at most as long again */
	idle_check_deadline = t0 + (uint64_t)(2 * o.seconds * 1e9);
	for (int t = 0; t < o.threads; t++) {
		ts[t].idx = t;
		ts[t].deadline = t0 + (uint64_t)(o.seconds * 1e9);
		pthread_create(&ts[t].tid, NULL, idle_open_main, &ts[t]);
	}
	int dead = 0, unchecked = 0;
	for (int t = 0; t < o.threads; t++) {
		pthread_join(ts[t].tid, NULL);
		failed += ts[t].failed;
		alive += ts[t].alive;
		dead += ts[t].dead;
		unchecked += ts[t].unchecked;
		if (!first_err)
			first_err = ts[t].first_err;
	}
	opened = alive + dead + unchecked;
	/* held: still open now (checked alive, or not checked in time) */
	printf("READY requested=%d opened=%d held=%d alive=%d dead=%d "
	       "unchecked=%d failed=%d seconds=%.3f%s%s\n",
	    o.conns, opened, alive + unchecked, alive, dead, unchecked, failed,
	    (double)(netutil_now_ns() - t0) / 1e9,
	    first_err ? " first_error=" : "",
	    first_err ? errword(first_err) : "");
	fflush(stdout);

	/* hold until stdin closes or --hold passes */
	struct pollfd pfd = {.fd = 0, .events = POLLIN};
	uint64_t hold_end = netutil_now_ns() + (uint64_t)(o.hold * 1e9);
	for (;;) {
		uint64_t now = netutil_now_ns();
		if (now >= hold_end)
			break;
		int ms = (int)((hold_end - now) / 1000000) + 1;
		int r = poll(&pfd, 1, ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (read(0, buf, sizeof(buf)) <= 0)
			break;
	}
	for (int i = 0; i < o.conns; i++)
		if (idle_fds[i] >= 0)
			close(idle_fds[i]);
	return alive + unchecked > 0 ? 0 : 1;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: loadgen {upload|download|rr|connrate|idle} --connect A:P\n"
	    "    [--conns N] [--bytes B[KMG]] [--seconds S] [--count N]\n"
	    "    [--size N] [--threads T] [--warmup N] [--hold S] "
	    "[--src LO-HI]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static const struct option lopts[] = {
	    {"connect", required_argument, NULL, 'c'},
	    {"conns", required_argument, NULL, 'n'},
	    {"bytes", required_argument, NULL, 'b'},
	    {"seconds", required_argument, NULL, 's'},
	    {"count", required_argument, NULL, 'N'},
	    {"size", required_argument, NULL, 'z'},
	    {"threads", required_argument, NULL, 't'},
	    {"warmup", required_argument, NULL, 'w'},
	    {"hold", required_argument, NULL, 'H'},
	    {"src", required_argument, NULL, 'S'},
	    {NULL, 0, NULL, 0},
	};
	const char *mode;
	int opt, have_dst = 0;

	if (argc < 2)
		usage();
	mode = argv[1];
	optind = 2;
	while ((opt = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			if (netutil_parse_addr(optarg, &o.dst) < 0)
				usage();
			have_dst = 1;
			break;
		case 'n': o.conns = atoi(optarg); break;
		case 'b': o.bytes = parse_size(optarg); break;
		case 's': o.seconds = atof(optarg); break;
		case 'N': o.count = atol(optarg); break;
		case 'z': o.size = (size_t)atol(optarg); break;
		case 't': o.threads = atoi(optarg); break;
		case 'w': o.warmup = atol(optarg); break;
		case 'H': o.hold = atof(optarg); break;
		case 'S':
			if (sscanf(optarg, "%d-%d", &o.src_lo, &o.src_hi) != 2 ||
			    o.src_lo < 1 || o.src_hi > 0xfffffe ||
			    o.src_hi < o.src_lo)
				usage();
			break;
		default:
			usage();
		}
	}
	if (!have_dst || o.seconds <= 0 || o.seconds > 600 || o.hold < 0 ||
	    o.hold > 3600)
		usage();
	signal(SIGPIPE, SIG_IGN);
	netutil_raise_nofile();
	if (strcmp(mode, "upload") == 0)
		return run_bulk(1);
	if (strcmp(mode, "download") == 0)
		return run_bulk(0);
	if (strcmp(mode, "rr") == 0)
		return run_rr();
	if (strcmp(mode, "connrate") == 0)
		return run_connrate();
	if (strcmp(mode, "idle") == 0)
		return run_idle();
	usage();
	return 2;
}
