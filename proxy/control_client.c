/*
 * control_client.c - ask the running wrapd over its control socket, and
 * print the answer as key=value lines or as one JSON object.
 *
 * Nothing is printed before the whole response has been read and every
 * line of it checked (control_proto_record): a response cut short or
 * malformed is an error, not half a listing.
 */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cli_json.h"
#include "conf.h"
#include "conf_trust.h"
#include "control_client.h"
#include "log.h"

static void
control_client_usage(FILE *fp, const char *name)
{
	fprintf(fp,
	    "usage: wrapd %s [--config FILE | --control PATH] [--json]\n"
	    "Asks the running wrapd over its control socket (root only): the "
	    "one\n"
	    "--control names, else the configuration's `control` "
	    "(default\n" CONF_DEFAULT_CONTROL ").\n",
	    name);
}

/* The socket's path (malloc'd), or NULL with the reason printed. */
static char *
control_client_path(const char *control, const char *config)
{
	struct conf_errs errs = {0};
	struct wrapd_conf *c;
	char *p = NULL;

	if (control != NULL)
		return strdup(control);
	if (config == NULL) {
		/* No file: the default socket, as a wrapd without one has. */
		if (access(CONF_DEFAULT_PATH, F_OK) < 0 && errno == ENOENT)
			return strdup(CONF_DEFAULT_CONTROL);
		config = CONF_DEFAULT_PATH;
	}
	if ((c = conf_load_file(config, &errs)) == NULL) {
		conf_errs_print(&errs, stderr);
		fprintf(stderr,
		    "wrapd: cannot find the control socket in %s; "
		    "name it with --control\n",
		    config);
	} else if (c->control == NULL)
		fprintf(stderr,
		    "wrapd: %s: control is null: wrapd serves no "
		    "control socket\n",
		    config);
	else if ((p = strdup(c->control)) == NULL)
		fprintf(stderr, "wrapd: out of memory\n");
	conf_errs_free(&errs);
	conf_free(c);
	return p;
}

static int
control_client_trusted(const char *path)
{
	char *copy = strdup(path), why[512];
	int rc;

	if (copy == NULL)
		return -1;
	rc = conf_trust_path(dirname(copy), geteuid(), why, sizeof(why));
	if (rc < 0)
		fprintf(stderr, "wrapd: control socket %s: %s\n", path, why);
	free(copy);
	return rc;
}

static int
control_client_connect(const char *path)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (path[0] != '/' || strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr,
		    "wrapd: control socket %s: not an absolute "
		    "path of at most %zu bytes\n",
		    path, sizeof(sun.sun_path) - 1);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	/* Answers from a socket that another user could have put there
	 * would be theirs, not wrapd's: its directory must be one only root
	 * (or we) can change.  (The socket's own mode says who may connect,
	 * which the server checks.) */
	if (control_client_trusted(path) < 0)
		return -1;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		int e = errno;

		fprintf(stderr,
		    "wrapd: cannot reach the control socket %s: %s%s\n", path,
		    strerror(e),
		    e == EACCES ? " (only root may use it)"
		        : e == ENOENT || e == ECONNREFUSED
		        ? " (is wrapd running, with this configuration?)"
		        : "");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int64_t
control_client_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Send the request and read to EOF, within CONTROL_CLIENT_WAIT_MS. */
static int
control_client_exchange(int fd, enum control_cmd cmd, struct control_buf *in)
{
	const char *req = control_proto_request_text(cmd);
	int64_t deadline = control_client_now_ms() + CONTROL_CLIENT_WAIT_MS;
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	char chunk[16384];
	ssize_t n;

	/* A server that refuses us may have answered and closed already:
	 * a failed send is no reason not to read what it said. */
	(void)send(fd, req, strlen(req), MSG_NOSIGNAL);
	for (;;) {
		int64_t left = deadline - control_client_now_ms();

		if (left <= 0) {
			fprintf(stderr,
			    "wrapd: control socket: no complete "
			    "answer in %d ms\n",
			    CONTROL_CLIENT_WAIT_MS);
			return -1;
		}
		if (poll(&pfd, 1, (int)left) < 0 && errno != EINTR)
			break;
		if ((n = read(fd, chunk, sizeof(chunk))) == 0)
			return 0;
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			/* Closed with our request unread: what came is all
			 * there is (control_client_check() judges it). */
			if (errno == ECONNRESET && in->len > 0)
				return 0;
			break;
		}
		control_proto_buf_add(in, chunk, (size_t)n);
		if (in->failed) {
			fprintf(stderr,
			    "wrapd: control socket: answer over "
			    "%d bytes\n",
			    CONTROL_RESP_MAX);
			return -1;
		}
	}
	fprintf(stderr, "wrapd: control socket: %s\n", strerror(errno));
	return -1;
}

/*
 * The records of a response: *first at the first record, *end at the
 * "end" line.  0, or -1 with the reason printed.
 */
static int
control_client_check(
    const struct control_buf *in, const char **first, const char **end)
{
	static struct control_record r;
	char msg[256];
	struct log_buf b = {msg, 0, sizeof(msg)};
	const char *p = in->p != NULL ? in->p : "", *nl;
	size_t lineno = 1;

	msg[0] = '\0';
	if ((nl = strchr(p, '\n')) != NULL && strncmp(p, "error ", 6) == 0) {
		/* The server's words, escaped for the terminal. */
		char text[CONTROL_LINE_MAX];
		size_t n = (size_t)(nl - p - 6) < sizeof(text) - 1
		    ? (size_t)(nl - p - 6)
		    : sizeof(text) - 1;

		memcpy(text, p + 6, n);
		text[n] = '\0';
		log_buf_kv_str(&b, text);
		fprintf(stderr, "wrapd: control socket: %s\n", msg);
		return -1;
	}
	if (nl == NULL || (size_t)(nl - p) != strlen(CONTROL_PROTO_HELLO) ||
	    strncmp(p, CONTROL_PROTO_HELLO, (size_t)(nl - p)) != 0) {
		fprintf(stderr,
		    "wrapd: control socket: not a wrapd control "
		    "socket, or another version\n");
		return -1;
	}
	*first = p = nl + 1;
	for (;; p = nl + 1) {
		lineno++;
		if ((nl = strchr(p, '\n')) == NULL) {
			fprintf(stderr,
			    "wrapd: control socket: the answer "
			    "was cut short\n");
			return -1;
		}
		if (nl - p == 3 && strncmp(p, "end", 3) == 0)
			break;
		if (control_proto_record(p, (size_t)(nl - p), &r) < 0) {
			fprintf(stderr,
			    "wrapd: control socket: malformed "
			    "line %zu of the answer\n",
			    lineno);
			return -1;
		}
	}
	if (nl[1] != '\0') {
		fprintf(stderr,
		    "wrapd: control socket: bytes after the end "
		    "of the answer\n");
		return -1;
	}
	*end = p;
	return 0;
}

/* Each record as a line: type key=value ... (values escaped). */
static void
control_client_text(const char *p, const char *end)
{
	static struct control_record r;
	static char line[4 * CONTROL_LINE_MAX + 64];
	const char *nl;
	size_t i;

	for (; p < end; p = nl + 1) {
		struct log_buf b = {line, 0, sizeof(line)};

		nl = strchr(p, '\n');
		(void)control_proto_record(p, (size_t)(nl - p), &r);
		line[0] = '\0';
		log_buf_printf(&b, "%s", r.type);
		for (i = 0; i < r.n; i++) {
			log_buf_printf(&b, " %s=", r.f[i].key);
			log_buf_kv_str(&b, r.f[i].value);
		}
		puts(line);
	}
}

static void
control_client_json_record(const struct control_record *r)
{
	size_t i;

	putchar('{');
	for (i = 0; i < r->n; i++) {
		if (i > 0)
			putchar(',');
		cli_json_key(stdout, r->f[i].key);
		if (control_proto_is_number(r->f[i].value))
			fputs(r->f[i].value, stdout);
		else
			cli_json_str(stdout, r->f[i].value);
	}
	putchar('}');
}

/* One object: each member of the table, from the records of its type. */
static void
control_client_json(
    const struct control_client_json *tab, const char *first, const char *end)
{
	static struct control_record r;
	const char *p, *nl;
	size_t t, n;

	putchar('{');
	for (t = 0; tab[t].type != NULL; t++) {
		if (t > 0)
			putchar(',');
		cli_json_key(stdout, tab[t].member);
		if (tab[t].array)
			putchar('[');
		n = 0;
		for (p = first; p < end; p = nl + 1) {
			nl = strchr(p, '\n');
			(void)control_proto_record(p, (size_t)(nl - p), &r);
			if (strcmp(r.type, tab[t].type) != 0)
				continue;
			if (n++ > 0) {
				if (!tab[t].array)
					break; /* one object: the first */
				putchar(',');
			}
			control_client_json_record(&r);
		}
		if (tab[t].array)
			putchar(']');
		else if (n == 0)
			fputs("null", stdout);
	}
	puts("}");
}

static const struct option control_client_opts[] = {
    {"config", required_argument, NULL, 'c'},
    {"control", required_argument, NULL, 's'},
    {"json", no_argument, NULL, 'j'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

int
control_client_main(const struct control_client_cmd *cc, int argc, char **argv)
{
	const char *config = NULL, *control = NULL, *first, *end;
	struct control_buf in = {0};
	bool json = false;
	char *path;
	int ch, fd, rc = 1;

	optind = 1;
	while ((ch = getopt_long(
	            argc, argv, "c:h", control_client_opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			config = optarg;
			break;
		case 's':
			control = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			control_client_usage(stdout, cc->name);
			return 0;
		default:
			control_client_usage(stderr, cc->name);
			return 2;
		}
	}
	if (optind < argc || (config != NULL && control != NULL)) {
		control_client_usage(stderr, cc->name);
		return 2;
	}
	if ((path = control_client_path(control, config)) == NULL)
		return 1;
	if ((fd = control_client_connect(path)) >= 0) {
		if (control_client_exchange(fd, cc->cmd, &in) == 0 &&
		    control_client_check(&in, &first, &end) == 0) {
			if (json)
				control_client_json(cc->json, first, end);
			else
				control_client_text(first, end);
			rc = fflush(stdout) == 0 ? 0 : 1;
		}
		close(fd);
	}
	control_proto_buf_free(&in);
	free(path);
	return rc;
}
