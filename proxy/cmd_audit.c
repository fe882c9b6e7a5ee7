/*
 * cmd_audit.c - `wrapd audit`: which services of this host can be reached
 * from outside without passing through wrapd, and the `services:` entries
 * that would put them behind it.
 *
 * The sockets and their processes come from /proc (audit_proc.h); which
 * ones wrapd fronts comes from a wrapd configuration (a service whose TCP
 * backend is the socket's address).  Each socket gets one status:
 *
 *   wrapd     held by a wrapd process: a front, fine;
 *   wrapped   a wrapd service's backend, on loopback: fine;
 *   bypass    a wrapd service's backend, but on a wildcard or public
 *             address: clients can go around wrapd (a problem);
 *   exposed   reachable from outside, not behind wrapd (a problem for
 *             TCP; for UDP, which wrapd cannot front, only a fact);
 *   loopback  reachable from this host only: fine.
 *
 * Exit 0 when no TCP socket is exposed or bypassable, 1 when one is (or
 * the configuration or /proc cannot be read: the answer is unknown, so not
 * "all clear"), 2 on usage errors.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "audit_proc.h"
#include "cli_json.h"
#include "commands.h"
#include "conf.h"

#define AUDIT_BACKEND_OFFSET 10000 /* a proposed backend port: port+10000 */

enum audit_status {
	AUDIT_LOOPBACK,
	AUDIT_WRAPD,
	AUDIT_WRAPPED,
	AUDIT_BYPASS,
	AUDIT_EXPOSED,
};

static const char *const audit_status_names[] = {
    "loopback", "wrapd", "wrapped", "bypass", "exposed"};

/* A proposed services: entry; rows of one process and port share one. */
struct audit_proposal {
	char name[80];
	char daemon[80];
	pid_t pid;
	uint16_t port;
	char listen[4][64];
	size_t nlisten;
	unsigned backend_port; /* on 127.0.0.1 */
};

struct audit_row {
	const struct audit_proc_sock *sock;
	enum audit_status status;
	const char *service; /* the wrapd service it is a backend of */
	struct audit_proposal *proposal;
};

struct audit {
	struct audit_proc_socks socks;
	struct audit_row *rows;
	size_t nrows;
	struct audit_proposal *props;
	size_t nprops;
	struct wrapd_conf *conf; /* NULL: nothing is wrapped */
};

static void
cmd_audit_usage(FILE *fp)
{
	fputs("usage: wrapd audit [--config FILE] [--json]\n"
	      "\n"
	      "Lists the listening TCP and UDP sockets of this host (from "
	      "/proc) and their\n"
	      "processes, says which are reachable from outside and which "
	      "wrapd fronts,\n"
	      "and proposes a services: entry for each exposed TCP service.\n"
	      "\n"
	      "  -c, --config FILE  the wrapd configuration that says what is "
	      "wrapped\n"
	      "                     (default " CONF_DEFAULT_PATH
	      "; a missing default\n"
	      "                     means nothing is wrapped)\n"
	      "      --json         a JSON list of objects instead of the "
	      "table\n"
	      "  -h, --help         this text\n"
	      "\n"
	      "Exit status: 0 nothing exposed outside wrapd, 1 something is "
	      "(or the\n"
	      "answer is unknown), 2 usage error.\n",
	    fp);
}

/* The socket address as text, IPv6 without brackets. */
static void
cmd_audit_addr_text(const struct audit_proc_sock *s, char *buf, size_t size)
{
	if (inet_ntop(s->family, s->addr, buf, (socklen_t)size) == NULL)
		snprintf(buf, size, "?");
}

/* "0.0.0.0:22" or "[::]:22", as wrapd.yaml writes a listen address. */
static void
cmd_audit_endpoint_text(const struct audit_proc_sock *s, char *buf, size_t size)
{
	char a[INET6_ADDRSTRLEN];

	cmd_audit_addr_text(s, a, sizeof a);
	snprintf(buf, size, s->family == AF_INET6 ? "[%s]:%u" : "%s:%u", a,
	    (unsigned)s->port);
}

/* Does a TCP backend written as host (numeric) and port reach socket s? */
static bool
cmd_audit_backend_reaches(
    const char *host, uint16_t port, const struct audit_proc_sock *s)
{
	unsigned char b[16], mapped[16] = {[10] = 0xff, [11] = 0xff};

	if (host == NULL || port != s->port || s->proto != IPPROTO_TCP)
		return false;
	if (inet_pton(AF_INET, host, b) == 1) {
		if (s->family == AF_INET)
			return audit_proc_is_wildcard(AF_INET, s->addr) ||
			    memcmp(b, s->addr, 4) == 0;
		/* [::] takes IPv4 too unless IPV6_V6ONLY; ::ffff:a.b.c.d */
		memcpy(mapped + 12, b, 4);
		return audit_proc_is_wildcard(AF_INET6, s->addr) ||
		    memcmp(mapped, s->addr, 16) == 0;
	}
	if (inet_pton(AF_INET6, host, b) == 1 && s->family == AF_INET6)
		return audit_proc_is_wildcard(AF_INET6, s->addr) ||
		    memcmp(b, s->addr, 16) == 0;
	return false;
}

/* The name of the wrapd service whose backend s is, or NULL. */
static const char *
cmd_audit_fronting_service(
    const struct wrapd_conf *c, const struct audit_proc_sock *s)
{
	size_t i;

	for (i = 0; c != NULL && i < c->nservices; i++) {
		const struct conf_service *svc = &c->services[i];

		if (svc->backend_kind == CONF_BACKEND_TCP &&
		    cmd_audit_backend_reaches(
		        svc->backend_host, svc->backend_port, s))
			return svc->name;
	}
	return NULL;
}

static void
cmd_audit_classify(const struct wrapd_conf *c, struct audit_row *r)
{
	const struct audit_proc_sock *s = r->sock;
	bool exposed = !audit_proc_is_loopback(s->family, s->addr);

	r->service = cmd_audit_fronting_service(c, s);
	if (s->by_wrapd)
		r->status = AUDIT_WRAPD;
	else if (r->service != NULL)
		r->status = exposed ? AUDIT_BYPASS : AUDIT_WRAPPED;
	else
		r->status = exposed ? AUDIT_EXPOSED : AUDIT_LOOPBACK;
}

static bool
cmd_audit_row_exposed(const struct audit_row *r)
{
	return !audit_proc_is_loopback(r->sock->family, r->sock->addr);
}

/* A problem the exit status reports: TCP reachable around wrapd. */
static bool
cmd_audit_row_problem(const struct audit_row *r)
{
	return r->sock->proto == IPPROTO_TCP &&
	    (r->status == AUDIT_EXPOSED || r->status == AUDIT_BYPASS);
}

static bool
cmd_audit_name_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 64)
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		        (s[i] >= 'A' && s[i] <= 'Z') ||
		        (s[i] >= '0' && s[i] <= '9') || s[i] == '.' ||
		        s[i] == '_' || s[i] == '-'))
			return false;
	return true;
}

/* Is name taken by a configured service or an earlier proposal? */
static bool
cmd_audit_name_taken(const struct audit *a, const char *name)
{
	size_t i;

	for (i = 0; a->conf != NULL && i < a->conf->nservices; i++)
		if (strcmp(a->conf->services[i].name, name) == 0)
			return true;
	for (i = 0; i < a->nprops; i++)
		if (strcmp(a->props[i].name, name) == 0)
			return true;
	return false;
}

static bool
cmd_audit_port_used(const struct audit *a, unsigned port)
{
	size_t i;

	for (i = 0; i < a->socks.n; i++)
		if (a->socks.v[i].proto == IPPROTO_TCP &&
		    a->socks.v[i].port == port)
			return true;
	for (i = 0; i < a->nprops; i++)
		if (a->props[i].backend_port == port)
			return true;
	return false;
}

/* A loopback port for the daemon to move to: port+10000 or the next free. */
static unsigned
cmd_audit_backend_port(const struct audit *a, uint16_t port)
{
	unsigned p = port + AUDIT_BACKEND_OFFSET, tries;

	for (tries = 0; tries < 65535; tries++, p++) {
		if (p > 65535)
			p = 1024;
		if (p != port && !cmd_audit_port_used(a, p))
			return p;
	}
	return 0;
}

/* Name the proposal: /etc/services' name, else the process, else tcp-PORT. */
static void
cmd_audit_proposal_names(
    struct audit *a, struct audit_proposal *p, const struct audit_proc_sock *s)
{
	struct servent *se = getservbyport(htons(s->port), "tcp");
	bool comm_ok = s->pid != 0 && cmd_audit_name_ok(s->comm);

	if (se != NULL && cmd_audit_name_ok(se->s_name))
		snprintf(p->name, sizeof p->name, "%s", se->s_name);
	else if (comm_ok)
		snprintf(p->name, sizeof p->name, "%s", s->comm);
	else
		snprintf(p->name, sizeof p->name, "tcp-%u", (unsigned)s->port);
	if (cmd_audit_name_taken(a, p->name)) {
		char base[64];

		snprintf(base, sizeof base, "%.56s", p->name);
		snprintf(
		    p->name, sizeof p->name, "%s-%u", base, (unsigned)s->port);
	}
	/* hosts.allow matches the process name (argv[0]'s base name). */
	snprintf(
	    p->daemon, sizeof p->daemon, "%s", comm_ok ? s->comm : p->name);
}

/* The proposal for row r: one per process and port, new or shared. */
static struct audit_proposal *
cmd_audit_propose(struct audit *a, const struct audit_proc_sock *s)
{
	struct audit_proposal *p;
	size_t i;

	for (i = 0; i < a->nprops; i++) {
		p = &a->props[i];
		if (p->port == s->port && p->pid == s->pid && s->pid != 0) {
			if (p->nlisten < 4)
				cmd_audit_endpoint_text(s,
				    p->listen[p->nlisten++],
				    sizeof p->listen[0]);
			return p;
		}
	}
	p = &a->props[a->nprops];
	memset(p, 0, sizeof *p);
	p->pid = s->pid;
	p->port = s->port;
	cmd_audit_proposal_names(a, p, s);
	cmd_audit_endpoint_text(s, p->listen[0], sizeof p->listen[0]);
	p->nlisten = 1;
	p->backend_port = cmd_audit_backend_port(a, s->port);
	a->nprops++;
	return p;
}

static int
cmd_audit_by_place(const void *x, const void *y)
{
	const struct audit_row *a = x, *b = y;

	if (a->sock->proto != b->sock->proto)
		return a->sock->proto == IPPROTO_TCP ? -1 : 1;
	if (a->sock->port != b->sock->port)
		return a->sock->port < b->sock->port ? -1 : 1;
	if (a->sock->family != b->sock->family)
		return a->sock->family == AF_INET ? -1 : 1;
	return memcmp(a->sock->addr, b->sock->addr, 16);
}

/*
 * One row for the sockets of one address and port held by one process:
 * wrapd opens one SO_REUSEPORT socket per worker, and so do other servers.
 * The rows are sorted; returns how many are left.
 */
static size_t
cmd_audit_merge_reuseport(struct audit_row *rows, size_t n)
{
	size_t i, out = 0;

	for (i = 0; i < n; i++) {
		const struct audit_proc_sock *s = rows[i].sock, *p;

		if (out > 0) {
			p = rows[out - 1].sock;
			if (cmd_audit_by_place(&rows[out - 1], &rows[i]) == 0 &&
			    p->pid == s->pid && p->pid != 0 &&
			    rows[out - 1].status == rows[i].status)
				continue;
		}
		rows[out++] = rows[i];
	}
	return out;
}

static int
cmd_audit_build(struct audit *a)
{
	size_t i;

	a->rows = calloc(a->socks.n + 1, sizeof *a->rows);
	a->props = calloc(a->socks.n + 1, sizeof *a->props);
	if (a->rows == NULL || a->props == NULL)
		return -1;
	for (i = 0; i < a->socks.n; i++) {
		a->rows[i].sock = &a->socks.v[i];
		cmd_audit_classify(a->conf, &a->rows[i]);
	}
	qsort(a->rows, a->socks.n, sizeof *a->rows, cmd_audit_by_place);
	a->nrows = cmd_audit_merge_reuseport(a->rows, a->socks.n);
	for (i = 0; i < a->nrows; i++)
		if (a->rows[i].status == AUDIT_EXPOSED &&
		    a->rows[i].sock->proto == IPPROTO_TCP)
			a->rows[i].proposal =
			    cmd_audit_propose(a, a->rows[i].sock);
	return 0;
}

/*
 * A process name in the table: printable ASCII as it is, every other byte
 * (controls, bytes above 0x7e, space, backslash) as \xHH, so one name is
 * one column and no escape sequence reaches the terminal.
 */
static void
cmd_audit_text_name(FILE *fp, const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c > ' ' && c < 0x7f && c != '\\')
			putc(c, fp);
		else
			fprintf(fp, "\\x%02x", c);
	}
}

static void
cmd_audit_print_process(FILE *fp, const struct audit_proc_sock *s)
{
	char pid[24];
	int w = 0;

	if (s->pid == 0) {
		fputs("-                   ", fp);
		return;
	}
	/* Pad by what is printed: the escaped name has no fixed width. */
	snprintf(pid, sizeof pid, "[%ld]", (long)s->pid);
	cmd_audit_text_name(fp, s->comm);
	fputs(pid, fp);
	for (const char *p = s->comm; *p != '\0'; p++)
		w += ((unsigned char)*p > ' ' && (unsigned char)*p < 0x7f &&
		         *p != '\\')
		    ? 1
		    : 4;
	w += (int)strlen(pid);
	for (; w < 20; w++)
		putc(' ', fp);
}

static void
cmd_audit_print_note(FILE *fp, const struct audit_row *r)
{
	switch (r->status) {
	case AUDIT_WRAPD:
		fputs("wrapd's own listener", fp);
		break;
	case AUDIT_WRAPPED:
		fprintf(fp, "backend of wrapd service %s", r->service);
		break;
	case AUDIT_BYPASS:
		fprintf(fp,
		    "backend of wrapd service %s, reachable around wrapd: "
		    "bind it to loopback",
		    r->service);
		break;
	case AUDIT_EXPOSED:
		if (r->sock->proto == IPPROTO_UDP)
			fputs("UDP: wrapd cannot front it", fp);
		else if (r->proposal != NULL)
			fprintf(fp, "not behind wrapd: see service %s below",
			    r->proposal->name);
		break;
	case AUDIT_LOOPBACK:
		break;
	}
}

static void
cmd_audit_print_proposals(FILE *fp, const struct audit *a)
{
	size_t i, j;

	if (a->nprops == 0)
		return;
	fprintf(fp,
	    "\n# To put the exposed TCP services behind wrapd, add to %s\n"
	    "# and make each daemon listen on its backend address only:\n"
	    "services:\n",
	    a->conf && a->conf->path ? a->conf->path : CONF_DEFAULT_PATH);
	for (i = 0; i < a->nprops; i++) {
		const struct audit_proposal *p = &a->props[i];

		fprintf(fp, "  - name: %s\n", p->name);
		fprintf(fp, "    daemon: %s    # the name for hosts.allow\n",
		    p->daemon);
		fputs("    listen: [", fp);
		for (j = 0; j < p->nlisten; j++)
			fprintf(fp, "%s\"%s\"", j ? ", " : "", p->listen[j]);
		fputs("]\n", fp);
		fprintf(fp, "    backend: \"127.0.0.1:%u\"\n", p->backend_port);
	}
}

static void
cmd_audit_print_table(FILE *fp, const struct audit *a)
{
	char addr[INET6_ADDRSTRLEN];
	int width = 9; /* "127.0.0.1": the column fits its widest address */
	size_t i;

	for (i = 0; i < a->nrows; i++) {
		cmd_audit_addr_text(a->rows[i].sock, addr, sizeof addr);
		if ((int)strlen(addr) > width)
			width = (int)strlen(addr);
	}
	fprintf(fp, "%-5s %-*s %-5s %-20s %-8s %s\n", "PROTO", width, "ADDRESS",
	    "PORT", "PROCESS", "STATUS", "NOTE");
	for (i = 0; i < a->nrows; i++) {
		const struct audit_row *r = &a->rows[i];

		cmd_audit_addr_text(r->sock, addr, sizeof addr);
		fprintf(fp, "%-5s %-*s %-5u ",
		    r->sock->proto == IPPROTO_TCP ? "tcp" : "udp", width, addr,
		    (unsigned)r->sock->port);
		cmd_audit_print_process(fp, r->sock);
		fprintf(fp, " %-8s ", audit_status_names[r->status]);
		cmd_audit_print_note(fp, r);
		fputs("\n", fp);
	}
	cmd_audit_print_proposals(fp, a);
}

/* "key":"value", (value escaped; NULL is null), then a comma if more. */
static void
cmd_audit_json_member(FILE *fp, const char *key, const char *value, bool more)
{
	cli_json_key(fp, key);
	cli_json_str(fp, value);
	if (more)
		fputs(",", fp);
}

static void
cmd_audit_json_proposal(FILE *fp, const struct audit_proposal *p)
{
	size_t j;

	if (p == NULL) {
		fputs("null", fp);
		return;
	}
	fputs("{", fp);
	cmd_audit_json_member(fp, "name", p->name, true);
	cmd_audit_json_member(fp, "daemon", p->daemon, true);
	cli_json_key(fp, "listen");
	fputs("[", fp);
	for (j = 0; j < p->nlisten; j++) {
		fputs(j ? "," : "", fp);
		cli_json_str(fp, p->listen[j]);
	}
	fputs("],", fp);
	fprintf(fp, "\"backend\":\"127.0.0.1:%u\"}", p->backend_port);
}

static void
cmd_audit_json_row(FILE *fp, const struct audit_row *r)
{
	char addr[INET6_ADDRSTRLEN];

	cmd_audit_addr_text(r->sock, addr, sizeof addr);
	fputs("{", fp);
	cmd_audit_json_member(
	    fp, "proto", r->sock->proto == IPPROTO_TCP ? "tcp" : "udp", true);
	cmd_audit_json_member(
	    fp, "family", r->sock->family == AF_INET ? "ipv4" : "ipv6", true);
	cmd_audit_json_member(fp, "address", addr, true);
	cli_json_key(fp, "port");
	cli_json_uint(fp, 1, r->sock->port);
	fputs(",", fp);
	cli_json_key(fp, "inode");
	cli_json_uint(fp, 1, r->sock->inode);
	fputs(",", fp);
	cli_json_key(fp, "process");
	if (r->sock->pid == 0) {
		fputs("null", fp);
	} else {
		fputs("{", fp);
		cmd_audit_json_member(fp, "name", r->sock->comm, true);
		cli_json_key(fp, "pid");
		cli_json_uint(fp, 1, (unsigned long)r->sock->pid);
		fputs("}", fp);
	}
	fprintf(fp, ",\"exposed\":%s,\"wrapped\":%s,\"wrapd\":%s,",
	    cmd_audit_row_exposed(r) ? "true" : "false",
	    r->status == AUDIT_WRAPD || r->status == AUDIT_WRAPPED ||
	            r->status == AUDIT_BYPASS
	        ? "true"
	        : "false",
	    r->status == AUDIT_WRAPD ? "true" : "false");
	cmd_audit_json_member(
	    fp, "status", audit_status_names[r->status], true);
	cmd_audit_json_member(fp, "service", r->service, true);
	cli_json_key(fp, "proposal");
	cmd_audit_json_proposal(fp, r->proposal);
	fputs("}", fp);
}

static void
cmd_audit_print_json(FILE *fp, const struct audit *a)
{
	size_t i;

	fputs("[", fp);
	for (i = 0; i < a->nrows; i++) {
		fputs(i ? ",\n " : "", fp);
		cmd_audit_json_row(fp, &a->rows[i]);
	}
	fputs("]\n", fp);
}

/*
 * The configuration that says what is wrapped.  The default path may be
 * missing (nothing is wrapped); a file named with --config may not.
 * 0, or -1 with the errors printed.
 */
static int
cmd_audit_load_conf(const char *path, bool explicit_path, struct audit *a)
{
	struct conf_errs errs = {0};

	if (!explicit_path && access(path, F_OK) != 0 && errno == ENOENT)
		return 0;
	if ((a->conf = conf_load_file(path, &errs)) == NULL) {
		conf_errs_print(&errs, stderr);
		conf_errs_free(&errs);
		fprintf(stderr,
		    "wrapd audit: cannot tell what wrapd fronts without "
		    "the configuration\n");
		return -1;
	}
	conf_errs_free(&errs);
	return 0;
}

static void
cmd_audit_free(struct audit *a)
{
	audit_proc_free(&a->socks);
	free(a->rows);
	free(a->props);
	if (a->conf != NULL)
		conf_free(a->conf);
}

int
cmd_audit(int argc, char **argv)
{
	enum {
		OPT_JSON = 256
	};
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"json", no_argument, NULL, OPT_JSON},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *path = CONF_DEFAULT_PATH;
	bool explicit_path = false, json = false;
	struct audit a;
	char err[512];
	size_t i, problems = 0;
	int c;

	memset(&a, 0, sizeof a);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			explicit_path = true;
			break;
		case OPT_JSON:
			json = true;
			break;
		case 'h':
			cmd_audit_usage(stdout);
			return 0;
		default:
			fprintf(stderr, "wrapd audit: bad option %s\n",
			    argv[optind - 1]);
			cmd_audit_usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "wrapd audit: unexpected argument: %s\n",
		    argv[optind]);
		cmd_audit_usage(stderr);
		return 2;
	}
	if (cmd_audit_load_conf(path, explicit_path, &a) != 0)
		return 1;
	if (audit_proc_read("/proc", &a.socks, err, sizeof err) != 0) {
		fprintf(stderr, "wrapd audit: %s\n", err);
		cmd_audit_free(&a);
		return 1;
	}
	if (cmd_audit_build(&a) != 0) {
		fprintf(stderr, "wrapd audit: out of memory\n");
		cmd_audit_free(&a);
		return 1;
	}
	for (i = 0; i < a.nrows; i++)
		problems += cmd_audit_row_problem(&a.rows[i]);
	if (json)
		cmd_audit_print_json(stdout, &a);
	else
		cmd_audit_print_table(stdout, &a);
	if (!json)
		fprintf(stderr,
		    "wrapd audit: %zu listener(s), %zu TCP reachable around "
		    "wrapd\n",
		    a.nrows, problems);
	cmd_audit_free(&a);
	if (fflush(stdout) != 0 || ferror(stdout))
		return 1;
	return problems > 0 ? 1 : 0;
}
