/*
 * diff_oracle_helper.c - libwrap's verdict for one case: hosts_access() in
 * its own short-lived process (spawned per case by diff_oracle.c), in
 * dry-run mode, with every fact preset so that libwrap performs no
 * DNS or ident look-up:
 *
 *  - request_init() leaves the hostname/hostaddr methods unset, so an empty
 *    name becomes "unknown" instead of a look-up (eval_hostname()), and the
 *    address strings are given with RQ_CLIENT_ADDR / RQ_SERVER_ADDR;
 *  - the user is always set (RQ_USER), so eval_user() never calls rfc931();
 *  - dry_run = 1 keeps spawn/twist/aclexec from running anything (twist
 *    clears dry_run instead, which is how tcpdmatch says "delegated").
 *
 * Options still have side effects in the process (umask, nice, setenv, even
 * setuid for `user`), which is why every case gets a fresh process.  It is
 * a separate executable, built without sanitizers and started once by the
 * test driver: it forks one child per case, which is cheap for this small
 * process, while forking the (possibly ASan-instrumented) driver per case
 * would cost far more.
 *
 * Protocol (stdin -> stdout), every item a put_str() string "S<len>:bytes":
 *   request: count, ALLOW, DENY, then KEY, VALUE pairs (daemon client name
 *            user server server-name server-port client-port expand)
 *   answer:  child pid, wait status, then the child's output: verdict,
 *            matched file, matched line, each expansion, libwrap's log.
 * libwrap's syslog() calls are caught by defining __syslog_chk and
 * __vsyslog_chk here (the executable's definitions win over libc's), and
 * hosts_access_verbose = 2 makes it log "matched:  FILE line N".
 */
#define INET6 1 /* Debian's libwrap is built with it: sockaddr *sin */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <tcpd.h>
#include <unistd.h>

#include "diff.h"

void __syslog_chk(int pri, int flag, const char *fmt, ...);
void __vsyslog_chk(int pri, int flag, const char *fmt, va_list ap);

static struct diff_buf oracle_log;
static char oracle_file[512];
static int oracle_line;

static void
oracle_record(const char *fmt, va_list ap)
{
	char fixed[1024], line[2048];
	size_t i, o = 0;
	const char *e = strerror(errno);
	char *p;

	/* syslog's %m: substitute before vsnprintf sees it. */
	for (i = 0; fmt[i] != '\0' && o + 1 < sizeof(fixed); i++) {
		if (fmt[i] == '%' && fmt[i + 1] == 'm') {
			size_t k;

			for (k = 0; e[k] != '\0' && o + 1 < sizeof(fixed); k++)
				fixed[o++] = e[k] == '%' ? '_' : e[k];
			i++;
		} else if (fmt[i] == '%' && fmt[i + 1] == '%') {
			fixed[o++] = '%';
			if (o + 1 < sizeof(fixed))
				fixed[o++] = '%';
			i++;
		} else {
			fixed[o++] = fmt[i];
		}
	}
	fixed[o] = '\0';
	vsnprintf(line, sizeof(line), fixed, ap);
	if (strncmp(line, "matched:  ", 10) == 0 &&
	    (p = strstr(line, " line ")) != NULL) {
		snprintf(oracle_file, sizeof(oracle_file), "%.*s",
		    (int)(p - (line + 10)), line + 10);
		oracle_line = atoi(p + 6);
	}
	if (oracle_log.len < 1500) {
		diff_buf_adds(&oracle_log, line);
		diff_buf_addc(&oracle_log, '\n');
	}
}

void
__syslog_chk(int pri, int flag, const char *fmt, ...)
{
	va_list ap;

	(void)pri;
	(void)flag;
	va_start(ap, fmt);
	oracle_record(fmt, ap);
	va_end(ap);
}

void
__vsyslog_chk(int pri, int flag, const char *fmt, va_list ap)
{
	(void)pri;
	(void)flag;
	oracle_record(fmt, ap);
}

static int
oracle_sockaddr(const char *text, int port, struct sockaddr_storage *ss,
    char *numeric, size_t numsz)
{
	struct addrinfo hints, *res = NULL;
	socklen_t len;

	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_NUMERICHOST;
	hints.ai_family = AF_UNSPEC;
	if (getaddrinfo(text, NULL, &hints, &res) != 0)
		return -1;
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	len = res->ai_addrlen;
	freeaddrinfo(res);
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
	/* The address text exactly as sock_hostaddr() would print it. */
	if (getnameinfo((struct sockaddr *)ss, len, numeric, (socklen_t)numsz,
	        NULL, 0, NI_NUMERICHOST) != 0)
		return -1;
	return 0;
}

/* Fill r like tcpd would after sock_host() plus the preset look-ups. */
static int
oracle_request(const struct diff_case *c, struct request_info *r,
    struct sockaddr_storage *cs, struct sockaddr_storage *ss)
{
	char caddr[NI_MAXHOST], saddr[NI_MAXHOST];

	request_init(r, RQ_USER, c->user != NULL ? c->user : "unknown", 0);
	if (c->daemon != NULL)
		request_set(r, RQ_DAEMON, c->daemon, 0);
	if (c->client == NULL || strcmp(c->client, "unknown") == 0) {
		request_set(r, RQ_CLIENT_ADDR, "unknown", 0);
	} else {
		if (oracle_sockaddr(c->client,
		        c->client_port >= 0 ? c->client_port : 0, cs, caddr,
		        sizeof(caddr)) != 0)
			return -1;
		request_set(r, RQ_CLIENT_SIN, (struct sockaddr *)cs,
		    RQ_CLIENT_ADDR, caddr, 0);
	}
	if (c->name != NULL)
		request_set(r, RQ_CLIENT_NAME, c->name, 0);
	if (c->server != NULL && strcmp(c->server, "unknown") != 0) {
		if (oracle_sockaddr(c->server,
		        c->server_port >= 0 ? c->server_port : 0, ss, saddr,
		        sizeof(saddr)) != 0)
			return -1;
		request_set(r, RQ_SERVER_SIN, (struct sockaddr *)ss,
		    RQ_SERVER_ADDR, saddr, 0);
	}
	if (c->server_name != NULL)
		request_set(r, RQ_SERVER_NAME, c->server_name, 0);
	return 0;
}

static void
put_str(struct diff_buf *b, char tag, const char *s)
{
	char hdr[32];

	snprintf(hdr, sizeof(hdr), "%c%zu:", tag, s ? strlen(s) : (size_t)0);
	diff_buf_adds(b, s ? hdr : "N0:");
	if (s != NULL)
		diff_buf_adds(b, s);
}

static void
oracle_run(const struct diff_case *c, const char *allow_path,
    const char *deny_path, int fd)
{
	struct request_info r;
	struct sockaddr_storage cs, ss;
	struct diff_buf out = {0};
	char vbuf[64], *tmpl;
	static char exp[BUFSIZ];
	int v;
	size_t i, off;

	alarm(10);
	hosts_allow_table = (char *)allow_path;
	hosts_deny_table = (char *)deny_path;
	dry_run = 1;
	hosts_access_verbose = 2;
	if (oracle_request(c, &r, &cs, &ss) != 0)
		_exit(3);
	v = hosts_access(&r);
	snprintf(vbuf, sizeof(vbuf), "%d",
	    dry_run == 0 ? DIFF_TWIST
	        : v      ? DIFF_GRANT
	                 : DIFF_DENY);
	put_str(&out, 'S', vbuf);
	put_str(&out, 'S', oracle_file);
	snprintf(vbuf, sizeof(vbuf), "%d", oracle_line);
	put_str(&out, 'S', vbuf);
	for (i = 0; i < c->nexpand; i++) {
		if (oracle_request(c, &r, &cs, &ss) != 0)
			_exit(3);
		tmpl = strdup(c->expand[i]);
		if (tmpl == NULL)
			_exit(3);
		percent_x(exp, sizeof(exp), tmpl, &r);
		free(tmpl);
		put_str(&out, 'S', exp);
	}
	put_str(&out, 'S', oracle_log.p != NULL ? oracle_log.p : "");
	for (off = 0; off < out.len;) {
		ssize_t w = write(fd, out.p + off, out.len - off);

		if (w <= 0)
			_exit(4);
		off += (size_t)w;
	}
	_exit(0);
}

/* Read one "S<len>:bytes" item from fp; NULL at EOF or on garbage. */
static char *
read_str(FILE *fp)
{
	unsigned long n;
	char *s;

	if (fscanf(fp, "S%lu:", &n) != 1 || n > (1ul << 20))
		return NULL;
	s = malloc(n + 1);
	if (s == NULL || fread(s, 1, n, fp) != n) {
		free(s);
		return NULL;
	}
	s[n] = '\0';
	return s;
}

static int
read_case(FILE *fp, struct diff_case *c, char **allow, char **deny)
{
	char *cnt = read_str(fp), *k, *v;
	long n, i;

	if (cnt == NULL)
		return -1;
	n = atol(cnt);
	free(cnt);
	memset(c, 0, sizeof(*c));
	c->server_port = -1;
	c->client_port = -1;
	*allow = read_str(fp);
	*deny = read_str(fp);
	if (*allow == NULL || *deny == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		k = read_str(fp);
		v = read_str(fp);
		if (k == NULL || v == NULL)
			return -1;
		if (strcmp(k, "daemon") == 0)
			c->daemon = v;
		else if (strcmp(k, "client") == 0)
			c->client = v;
		else if (strcmp(k, "name") == 0)
			c->name = v;
		else if (strcmp(k, "user") == 0)
			c->user = v;
		else if (strcmp(k, "server") == 0)
			c->server = v;
		else if (strcmp(k, "server-name") == 0)
			c->server_name = v;
		else if (strcmp(k, "server-port") == 0)
			c->server_port = atoi(v);
		else if (strcmp(k, "client-port") == 0)
			c->client_port = atoi(v);
		else if (strcmp(k, "expand") == 0 &&
		    c->nexpand < DIFF_MAX_EXPANDS)
			c->expand[c->nexpand++] = v;
		else
			return -1;
		free(k);
	}
	return 0;
}

/*
 * `diff_oracle_helper resolve ADDR...`: print, one per line, the client
 * host name libwrap itself would find for each address (sock_hostname(),
 * the real double-reverse look-up), for comparison with wrapd's resolver.
 */
static int
resolve_main(int argc, char **argv)
{
	int i;

	for (i = 2; i < argc; i++) {
		struct request_info r;
		struct sockaddr_storage ss;
		char num[NI_MAXHOST];

		if (oracle_sockaddr(argv[i], 0, &ss, num, sizeof(num)) != 0)
			return 2;
		request_init(&r, RQ_CLIENT_SIN, (struct sockaddr *)&ss, 0);
		sock_methods(&r);
		printf("%s\n", eval_hostname(r.client));
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct diff_case c;
	char *allow, *deny, num[32];
	int fds[2], status;
	pid_t pid;
	struct diff_buf out;
	char buf[4096];
	ssize_t got;

	if (argc > 1 && strcmp(argv[1], "resolve") == 0)
		return resolve_main(argc, argv);
	while (read_case(stdin, &c, &allow, &deny) == 0) {
		if (pipe(fds) != 0)
			return 1;
		fflush(stdout);
		pid = fork();
		if (pid < 0)
			return 1;
		if (pid == 0) {
			close(fds[0]);
			oracle_run(&c, allow, deny, fds[1]);
		}
		close(fds[1]);
		memset(&out, 0, sizeof(out));
		diff_buf_add(&out, "", 0);
		while ((got = read(fds[0], buf, sizeof(buf))) != 0) {
			if (got < 0 && errno == EINTR)
				continue;
			if (got < 0)
				break;
			diff_buf_add(&out, buf, (size_t)got);
		}
		close(fds[0]);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		snprintf(num, sizeof(num), "%ld", (long)pid);
		printf("S%zu:%s", strlen(num), num);
		snprintf(num, sizeof(num), "%d", status);
		printf("S%zu:%s", strlen(num), num);
		printf("S%zu:", out.len);
		fwrite(out.p, 1, out.len, stdout);
		fflush(stdout);
		diff_buf_free(&out);
		/* Each case is freed with the process; these few are not. */
		free(allow);
		free(deny);
	}
	return 0;
}
