/*
 * import_inetd.c - read an inetd.conf (openbsd-inetd's syntax, as Debian's
 * update-inetd writes it) into imported services.
 *
 *   [host[,host...]:]service  stream  tcp|tcp4|tcp6|tcp46  wait|nowait[.max]
 *   user[:group|.group]  server-program  [argv0 args...]
 *
 * A line that starts with a space or tab continues the entry before it; a
 * line "host:" alone sets the host of the entries after it ("*:" resets);
 * '#' starts a comment line ("#<off>#" is update-inetd's disabled entry).
 * A tcpd-wrapped entry (/usr/sbin/tcpd PROGRAM ARGS) runs PROGRAM with the
 * daemon name tcpd would use, PROGRAM's base name; UDP, RPC and internal
 * services have no wrapd equivalent and are skipped with a note.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "import_inetd.h"

#define IMPORT_INETD_MAX_FIELDS (6 + IMPORT_SVC_MAX_ARGV)
#define IMPORT_INETD_TCPD       "/usr/sbin/tcpd"
#define IMPORT_INETD_REAL_DIR   "/usr/sbin" /* Debian's tcpd REAL_DAEMON_DIR */
#define IMPORT_INETD_MAX_ENTRY  65536

struct import_inetd_entry {
	char *f[IMPORT_INETD_MAX_FIELDS];
	size_t n;
	unsigned line;
};

static const char *
import_inetd_base(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* Split "user:group" / "user.group" into the service's accounts. */
static int
import_inetd_account(struct import_set *set, const char *file, unsigned line,
    const char *field, struct import_svc *s)
{
	char buf[128], *sep;

	snprintf(buf, sizeof buf, "%s", field);
	if ((sep = strchr(buf, ':')) == NULL)
		sep = strchr(buf, '.');
	if (sep != NULL)
		*sep++ = '\0';
	if (!import_account_ok(buf) ||
	    (sep != NULL && !import_account_ok(sep))) {
		import_note(set, file, line,
		    "user \"%s\" is not a user name: skipped", field);
		return -1;
	}
	s->user = import_strdup(buf);
	if (sep != NULL)
		s->group = import_strdup(sep);
	return 0;
}

/* The program and its arguments; tcpd's real program if it is tcpd. */
static int
import_inetd_program(struct import_set *set, const char *file,
    const struct import_inetd_entry *e, struct import_svc *s)
{
	const char *server = e->f[5], *argv0 = e->n > 6 ? e->f[6] : server;
	char real[1024];
	size_t i, first = 7;

	if (strcmp(server, IMPORT_INETD_TCPD) == 0 ||
	    strcmp(import_inetd_base(server), "tcpd") == 0) {
		/* tcpd runs argv[0], from /usr/sbin when it is relative */
		if (argv0[0] == '/')
			snprintf(real, sizeof real, "%s", argv0);
		else
			snprintf(real, sizeof real, "%s/%s",
			    IMPORT_INETD_REAL_DIR, argv0);
		server = real;
	} else if (server[0] != '/') {
		import_note(set, file, e->line,
		    "server \"%s\" is not an absolute path: skipped", server);
		return -1;
	} else if (strcmp(import_inetd_base(server),
	               import_inetd_base(argv0)) != 0) {
		import_note(set, file, e->line,
		    "argv[0] \"%s\" is not mapped: the program gets its path "
		    "\"%s\" as argv[0]",
		    argv0, server);
	}
	s->daemon = import_strdup(import_inetd_base(argv0));
	if (!import_name_ok(s->daemon)) {
		import_note(set, file, e->line,
		    "daemon name \"%s\" is not usable in wrapd.yaml: skipped",
		    s->daemon);
		return -1;
	}
	s->argv[s->argc++] = import_strdup(server);
	for (i = first; i < e->n; i++)
		s->argv[s->argc++] = import_strdup(e->f[i]);
	return 0;
}

/* Listen addresses for the hosts (a comma list, or NULL) and protocol. */
static int
import_inetd_listen(struct import_set *set, const char *file, unsigned line,
    const char *host_list, const char *proto, unsigned port,
    struct import_svc *s)
{
	char hosts[1024];
	static const char *const any[] = {"*", NULL};
	char *save = NULL, *h;
	bool v4 = strcmp(proto, "tcp6") != 0 && strcmp(proto, "tcp46") != 0;
	bool v6 = strcmp(proto, "tcp4") != 0;

	if (host_list == NULL || strcmp(host_list, "*") == 0) {
		/* wrapd's [::] is dual-stack: "tcp" (both families in
		 * openbsd-inetd) and tcp46 are one [::] listener */
		s->listen[s->nlisten++] =
		    import_listen_text(any[0], v6 ? AF_INET6 : AF_INET, port);
		if (!v4)
			import_note(set, file, line,
			    "%s: tcp6 becomes [::]:%u, which also accepts "
			    "IPv4 clients",
			    s->name, port);
		return 0;
	}
	snprintf(hosts, sizeof hosts, "%s", host_list);
	for (h = strtok_r(hosts, ",", &save); h != NULL;
	     h = strtok_r(NULL, ",", &save)) {
		size_t len = strlen(h);
		char *text;

		if (len > 2 && h[0] == '[' && h[len - 1] == ']') {
			h[len - 1] = '\0';
			h++;
		}
		text = import_listen_text(
		    h, strchr(h, ':') ? AF_INET6 : AF_INET, port);
		if (text == NULL || s->nlisten == IMPORT_SVC_MAX_LISTEN) {
			import_note(set, file, line,
			    "listen host \"%s\" is not a numeric address (or "
			    "one too many): skipped; write the address",
			    h);
			free(text);
			return -1;
		}
		s->listen[s->nlisten++] = text;
	}
	return 0;
}

/* Are the fields printable text?  Notes and returns false if not. */
static bool
import_inetd_text(struct import_set *set, const char *file,
    const struct import_inetd_entry *e)
{
	size_t i;

	for (i = 0; i < e->n; i++)
		if (!import_text_ok(e->f[i])) {
			import_note(set, file, e->line,
			    "field %zu has control or non-ASCII bytes: skipped",
			    i + 1);
			return false;
		}
	return true;
}

/* Is the entry a TCP stream service wrapd can run?  Notes why not. */
static bool
import_inetd_wanted(struct import_set *set, const char *file,
    const struct import_inetd_entry *e, const char *svc)
{
	const char *proto = e->f[2];

	if (strncmp(proto, "rpc/", 4) == 0 || strchr(svc, '/') != NULL) {
		import_note(set, file, e->line,
		    "%s: RPC services are not mapped: skipped", svc);
		return false;
	}
	if (strcmp(e->f[1], "stream") != 0 || strncmp(proto, "udp", 3) == 0) {
		import_note(set, file, e->line,
		    "%s: %s/%s: wrapd serves TCP streams only: skipped", svc,
		    e->f[1], proto);
		return false;
	}
	if (strcmp(proto, "tcp") != 0 && strcmp(proto, "tcp4") != 0 &&
	    strcmp(proto, "tcp6") != 0 && strcmp(proto, "tcp46") != 0) {
		import_note(set, file, e->line,
		    "%s: protocol \"%s\" is not mapped (sndbuf, rcvbuf, "
		    "unix): skipped",
		    svc, proto);
		return false;
	}
	if (strcmp(e->f[5], "internal") == 0) {
		import_note(set, file, e->line,
		    "%s: inetd's internal services are not mapped: skipped",
		    svc);
		return false;
	}
	return true;
}

/* wait / nowait[.max]: nowait is what exec does; wait is one at a time. */
static void
import_inetd_flags(struct import_set *set, const char *file,
    const struct import_inetd_entry *e, struct import_svc *s)
{
	const char *dot = strchr(e->f[3], '.');
	size_t len = dot ? (size_t)(dot - e->f[3]) : strlen(e->f[3]);

	if (len == 4 && strncmp(e->f[3], "wait", 4) == 0) {
		s->max_connections = 1;
		import_note(set, file, e->line,
		    "%s: \"wait\" becomes max_connections: 1; the program "
		    "gets each connection, not the listening socket",
		    s->name);
	}
	if (dot != NULL)
		import_note(set, file, e->line,
		    "%s: \"%s\": the rate .max (per minute) is not mapped",
		    s->name, e->f[3]);
}

/*
 * Add a listen address to a twin: "[::]:P" takes in "0.0.0.0:P" (wrapd's
 * [::] is dual-stack and the two would not both bind); text is taken over.
 */
static void
import_inetd_merge_listen(struct import_svc *t, char *text)
{
	const char *colon = strrchr(text, ':');
	char v4[32];
	size_t i;

	snprintf(v4, sizeof v4, "0.0.0.0%s", colon);
	for (i = 0; i < t->nlisten; i++) {
		const char *tc = strrchr(t->listen[i], ':');

		if (strcmp(tc, colon) != 0)
			continue;
		if (strcmp(t->listen[i], text) == 0 ||
		    (strncmp(t->listen[i], "[::]:", 5) == 0 &&
		        strcmp(text, v4) == 0)) {
			free(text); /* already covered */
			return;
		}
		if (strncmp(text, "[::]:", 5) == 0 &&
		    strcmp(t->listen[i], v4) == 0) {
			free(t->listen[i]);
			t->listen[i] = text;
			return;
		}
	}
	t->listen[t->nlisten++] = text;
}

static void
import_inetd_entry(struct import_set *set, const char *file,
    struct import_inetd_entry *e, char **default_host)
{
	char *svc = e->f[0], *hosts = NULL, *colon;
	struct import_svc *s, *twin;
	unsigned port;

	if (e->n == 1 && (colon = strrchr(svc, ':')) != NULL &&
	    colon[1] == '\0') {
		*colon = '\0';
		free(*default_host);
		*default_host =
		    strcmp(svc, "*") == 0 ? NULL : import_strdup(svc);
		return;
	}
	if (e->n < 6) {
		import_note(set, file, e->line,
		    "an entry needs 6 fields, this one has %zu: skipped", e->n);
		return;
	}
	if (!import_inetd_text(set, file, e))
		return;
	if ((colon = strrchr(svc, ':')) != NULL) {
		*colon = '\0';
		hosts = svc;
		svc = colon + 1;
	} else {
		hosts = *default_host;
	}
	if (!import_inetd_wanted(set, file, e, svc))
		return;
	if ((port = import_tcp_port(svc)) == 0 || !import_name_ok(svc)) {
		import_note(set, file, e->line,
		    "service \"%s\" has no TCP port in /etc/services: skipped",
		    svc);
		return;
	}
	if ((s = import_add(set, svc, file, e->line)) == NULL) {
		import_note(set, file, e->line, "too many services: skipped");
		return;
	}
	import_inetd_flags(set, file, e, s);
	if (import_inetd_account(set, file, e->line, e->f[4], s) != 0 ||
	    import_inetd_program(set, file, e, s) != 0 ||
	    import_inetd_listen(set, file, e->line, hosts, e->f[2], port, s) !=
	        0) {
		import_drop_last(set);
		return;
	}
	/* "finger ... tcp4" and "finger ... tcp6": one service, two
	 * addresses */
	if (strcmp(s->name, svc) != 0 && (twin = import_twin(set, s)) &&
	    strcmp(twin->name, svc) == 0 &&
	    twin->nlisten + s->nlisten <= IMPORT_SVC_MAX_LISTEN) {
		for (size_t i = 0; i < s->nlisten; i++) {
			import_inetd_merge_listen(twin, s->listen[i]);
			s->listen[i] = NULL;
		}
		s->nlisten = 0;
		import_drop_last(set);
	}
}

/* Split an entry's text into fields (in place). */
static void
import_inetd_split(char *text, struct import_inetd_entry *e)
{
	char *save = NULL, *p;

	e->n = 0;
	for (p = strtok_r(text, " \t\r\n", &save);
	     p != NULL && e->n < IMPORT_INETD_MAX_FIELDS;
	     p = strtok_r(NULL, " \t\r\n", &save))
		e->f[e->n++] = p;
	if (p != NULL)
		e->n = IMPORT_INETD_MAX_FIELDS + 1; /* too many: flagged */
}

static void
import_inetd_flush(struct import_set *set, const char *file, char *text,
    unsigned line, char **default_host)
{
	struct import_inetd_entry e;

	if (text[0] == '\0')
		return;
	import_inetd_split(text, &e);
	e.line = line;
	if (e.n > IMPORT_INETD_MAX_FIELDS) {
		import_note(set, file, line, "more than %d arguments: skipped",
		    IMPORT_SVC_MAX_ARGV);
		return;
	}
	if (e.n > 0)
		import_inetd_entry(set, file, &e, default_host);
}

int
import_inetd(struct import_set *set, const char *file)
{
	char *line = NULL, *entry = NULL, *default_host = NULL;
	size_t cap = 0, elen = 0;
	unsigned lineno = 0, start = 0;
	ssize_t len;
	FILE *fp;

	if ((fp = fopen(file, "re")) == NULL) {
		fprintf(
		    stderr, "wrapd import: %s: %s\n", file, strerror(errno));
		set->failed = true;
		return -1;
	}
	entry = calloc(1, IMPORT_INETD_MAX_ENTRY);
	if (entry == NULL) {
		fclose(fp);
		return -1;
	}
	while ((len = getline(&line, &cap, fp)) > 0) {
		lineno++;
		if (line[0] == '#') {
			if (strncmp(line, "#<off>#", 7) == 0)
				import_note(set, file, lineno,
				    "disabled by update-inetd (#<off>#): "
				    "skipped");
			continue;
		}
		if ((line[0] == ' ' || line[0] == '\t') && elen > 0 &&
		    strspn(line, " \t\r\n") < (size_t)len) {
			/* a continuation of the entry being read */
		} else {
			import_inetd_flush(
			    set, file, entry, start, &default_host);
			elen = 0;
			entry[0] = '\0';
			start = lineno;
		}
		if (elen + (size_t)len + 2 > IMPORT_INETD_MAX_ENTRY) {
			import_note(set, file, lineno,
			    "entry longer than %d bytes: skipped",
			    IMPORT_INETD_MAX_ENTRY);
			elen = 0;
			entry[0] = '\0';
			continue;
		}
		memcpy(entry + elen, " ", 1);
		memcpy(entry + elen + 1, line, (size_t)len + 1);
		elen += (size_t)len + 1;
	}
	import_inetd_flush(set, file, entry, start, &default_host);
	if (ferror(fp)) {
		fprintf(stderr, "wrapd import: %s: read error\n", file);
		set->failed = true;
	}
	free(line);
	free(entry);
	free(default_host);
	fclose(fp);
	return set->failed ? -1 : 0;
}
