/*
 * deliver_exec.c - inetd "nowait" delivery: run the service's program with
 * the accepted connection as its file descriptors 0, 1 and 2.
 *
 * The child gets the socket in blocking mode (as inetd and tcpd hand it
 * over) and these extra environment variables, CGI-style:
 *   REMOTE_ADDR, REMOTE_PORT   the client
 *   SERVER_ADDR, SERVER_PORT   the address the client connected to
 *   REMOTE_HOST                the client host name, if looked up
 *   REMOTE_IDENT               the ident user, if looked up
 *   WRAPD_SERVICE              the service name
 * REMOTE_HOST and REMOTE_IDENT come from the network (the client runs its
 * own ident server and DNS): they are exported only as a %-expansion
 * would give them, cut and sanitised by acl_expand_sanitise(), never raw.
 * It inherits no other descriptor: every fd wrapd opens is close-on-exec.
 * It runs as the service's user and group if it has them (inetd's user
 * field), else as wrapd.
 * The connection's log line is written when the program exits.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conn.h"
#include "deliver.h"
#include "log.h"
#include "server.h"
#include "snapshot.h"
#include "worker.h"

extern char **environ;

#define EXEC_EXTRA_ENV 8

static int
deliver_exec_env_ours(const char *e)
{
	static const char *const ours[] = {
	    "REMOTE_ADDR=", "REMOTE_PORT=", "SERVER_ADDR=", "SERVER_PORT=",
	    "REMOTE_HOST=", "REMOTE_IDENT=", "WRAPD_SERVICE="};
	size_t i;

	for (i = 0; i < sizeof(ours) / sizeof(ours[0]); i++)
		if (strncmp(e, ours[i], strlen(ours[i])) == 0)
			return 1;
	return 0;
}

static char *
deliver_exec_var(const char *k, const char *v)
{
	size_t n = strlen(k) + strlen(v) + 2;
	char *p = malloc(n);

	if (p != NULL)
		snprintf(p, n, "%s=%s", k, v);
	return p;
}

/* A network-given fact, as %n / %u would show it to a command. */
static char *
deliver_exec_fact_var(const char *k, const char *v)
{
	char clean[ACL_STRING_MAX];

	if (v == NULL)
		return NULL;
	acl_expand_sanitise(clean, sizeof(clean), v);
	return deliver_exec_var(k, clean);
}

static char *
deliver_exec_addr_var(const char *k, const struct conn_addr *ca, int port)
{
	char a[64], num[8];

	if (ca->a.family == AF_UNSPEC)
		return NULL;
	if (port) {
		snprintf(num, sizeof(num), "%u", (unsigned)ca->port);
		return deliver_exec_var(k, num);
	}
	acl_addr_format(&ca->a, a, sizeof(a));
	return deliver_exec_var(k, a);
}

/* environ minus our names, plus ours.  Extra entries are malloc'd. */
static char **
deliver_exec_env(const struct conn *c, char **extra, size_t *nextra)
{
	/* The rule's setenv options (action_conn.c) apply to the daemon. */
	char **base = c->action_env != NULL ? c->action_env : environ;
	size_t n = 0, i, k = 0;
	char **env;

	while (base[n] != NULL)
		n++;
	if ((env = calloc(n + EXEC_EXTRA_ENV + 1, sizeof(char *))) == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		if (!deliver_exec_env_ours(base[i]))
			env[k++] = base[i];
	*nextra = 0;
	extra[(*nextra)++] =
	    deliver_exec_addr_var("REMOTE_ADDR", &c->client, 0);
	extra[(*nextra)++] =
	    deliver_exec_addr_var("REMOTE_PORT", &c->client, 1);
	extra[(*nextra)++] =
	    deliver_exec_addr_var("SERVER_ADDR", &c->server, 0);
	extra[(*nextra)++] =
	    deliver_exec_addr_var("SERVER_PORT", &c->server, 1);
	extra[(*nextra)++] =
	    deliver_exec_fact_var("REMOTE_HOST", c->client_name);
	extra[(*nextra)++] = deliver_exec_fact_var("REMOTE_IDENT", c->user);
	extra[(*nextra)++] =
	    deliver_exec_var("WRAPD_SERVICE", c->snap->svc[c->svc].conf->name);
	for (i = 0; i < *nextra; i++)
		if (extra[i] != NULL)
			env[k++] = extra[i];
	env[k] = NULL;
	return env;
}

static void
deliver_exec_exit_cb(uv_process_t *p, int64_t status, int term_signal)
{
	struct conn *c = p->data;

	c->exit_status = term_signal ? -(int64_t)term_signal : status;
	conn_close(c, term_signal ? "signal" : "exit");
}

void
deliver_exec(struct conn *c)
{
	const struct conf_service *cs = c->snap->svc[c->svc].conf;
	uv_process_options_t o;
	uv_stdio_container_t io[3];
	char *extra[EXEC_EXTRA_ENV];
	size_t nextra = 0, i;
	char **env;
	int fd = c->fd[0], fl, rc;

	if ((c->proc = calloc(1, sizeof(*c->proc))) == NULL ||
	    (env = deliver_exec_env(c, extra, &nextra)) == NULL) {
		free(c->proc);
		c->proc = NULL;
		conn_abort(c, "out-of-memory");
		return;
	}
	/* The program expects an ordinary, blocking socket. */
	if ((fl = fcntl(fd, F_GETFL)) >= 0)
		(void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	memset(&o, 0, sizeof(o));
	for (i = 0; i < 3; i++) {
		io[i].flags = UV_INHERIT_FD;
		io[i].data.fd = fd;
	}
	o.file = cs->exec_argv[0];
	o.args = cs->exec_argv;
	o.env = env;
	o.stdio = io;
	o.stdio_count = 3;
	o.exit_cb = deliver_exec_exit_cb;
	/*
	 * The service's account, resolved at load (conf_account.c).  libuv
	 * sets the group, then the user, in the child, after setgroups(0):
	 * the program has no supplementary groups.
	 */
	if (cs->has_gid) {
		o.flags |= UV_PROCESS_SETGID;
		o.gid = cs->gid;
	}
	if (cs->has_uid) {
		o.flags |= UV_PROCESS_SETUID;
		o.uid = cs->uid;
	}
	c->proc->data = c;
	rc = uv_spawn(&c->w->loop, c->proc, &o);
	for (i = 0; i < nextra; i++)
		free(extra[i]);
	free(env);
	if (rc != 0) {
		log_warnx("conn=%llu service=%s exec %s: %s",
		    (unsigned long long)c->id, cs->name, cs->exec_argv[0],
		    uv_strerror(rc));
		/*
		 * uv_spawn() initialised the handle even when it failed, so
		 * it must be closed like any other: conn_abort() does it.
		 */
		c->exit_status = 127;
		conn_abort(c, "exec-failed");
		return;
	}
	conn_set_state(c, CONN_EXEC);
	/* The child owns the connection now; our copy goes. */
	conn_close_side(c, 0);
}
