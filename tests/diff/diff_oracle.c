/*
 * diff_oracle.c - run libwrap's side of a case through diff_oracle_helper
 * (next to this executable, or $DIFF_ORACLE): it is started once with
 * posix_spawn() and forks one child per case (see diff_oracle_helper.c for
 * the protocol).  The driver itself never forks, which keeps the ASan build
 * fast.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "diff.h"

extern char **environ;

static const char *
helper_path(void)
{
	static char path[PATH_MAX];
	char *slash;
	ssize_t n;

	if (path[0] != '\0')
		return path;
	if (getenv("DIFF_ORACLE") != NULL) {
		snprintf(path, sizeof(path), "%s", getenv("DIFF_ORACLE"));
		return path;
	}
	n = readlink("/proc/self/exe", path, sizeof(path) - 32);
	if (n <= 0) {
		snprintf(path, sizeof(path), "./diff_oracle_helper");
		return path;
	}
	path[n] = '\0';
	slash = strrchr(path, '/');
	snprintf(slash + 1, sizeof(path) - (size_t)(slash + 1 - path),
	    "diff_oracle_helper");
	return path;
}

/* Parse one "S<len>:<bytes>" item of the child's answer. */
static char *
get_str(const char **p, const char *end)
{
	char *colon, *s;
	unsigned long n;

	if (*p >= end || (**p != 'S' && **p != 'N'))
		return NULL;
	n = strtoul(*p + 1, &colon, 10);
	if (colon >= end || *colon != ':' || (size_t)(end - colon - 1) < n)
		return NULL;
	s = malloc(n + 1);
	if (s == NULL)
		abort();
	memcpy(s, colon + 1, n);
	s[n] = '\0';
	*p = colon + 1 + n;
	return s;
}

static pid_t helper_pid = -1;
static FILE *helper_in;  /* we write requests */
static FILE *helper_out; /* we read answers */

static void
put(FILE *fp, const char *s)
{
	fprintf(fp, "S%zu:", strlen(s));
	fputs(s, fp);
}

static int
helper_start(void)
{
	int in[2], out[2], rc;
	char *argv[] = {(char *)"diff_oracle_helper", NULL};
	posix_spawn_file_actions_t fa;

	if (helper_pid > 0)
		return 0;
	if (pipe(in) != 0)
		return -1;
	if (pipe(out) != 0) {
		close(in[0]);
		close(in[1]);
		return -1;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_addclose(&fa, in[0]);
	posix_spawn_file_actions_addclose(&fa, in[1]);
	posix_spawn_file_actions_addclose(&fa, out[0]);
	posix_spawn_file_actions_addclose(&fa, out[1]);
	rc = posix_spawn(&helper_pid, helper_path(), &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(in[0]);
	close(out[1]);
	if (rc != 0) {
		fprintf(
		    stderr, "cannot run %s: %s\n", helper_path(), strerror(rc));
		close(in[1]);
		close(out[0]);
		helper_pid = -1;
		return -1;
	}
	helper_in = fdopen(in[1], "w");
	helper_out = fdopen(out[0], "r");
	if (helper_in == NULL || helper_out == NULL)
		return -1;
	return 0;
}

void
diff_oracle_stop(void)
{
	int status;

	if (helper_pid <= 0)
		return;
	fclose(helper_in);
	fclose(helper_out);
	while (waitpid(helper_pid, &status, 0) < 0 && errno == EINTR)
		;
	helper_pid = -1;
}

/* Read one "S<len>:bytes" item of the helper's answer. */
static char *
read_item(FILE *fp)
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

int
diff_oracle(const struct diff_case *c, const char *dir, const char *allow_path,
    const char *deny_path, struct diff_outcome *o, long *child_pid)
{
	const char *kv[2 * (8 + DIFF_MAX_EXPANDS)];
	char sport[16], cport[16], cnt[16], *s, *pid_s, *st_s;
	int nkv = 0, status;
	const char *p, *end;
	size_t i;

	(void)dir;
	memset(o, 0, sizeof(*o));
	o->verdict = DIFF_FAILED;
	if (helper_start() != 0) {
		snprintf(o->log, sizeof(o->log), "libwrap helper not running");
		return -1;
	}
#define KV(k, v)                                                               \
	do {                                                                   \
		if ((v) != NULL) {                                             \
			kv[nkv++] = (k);                                       \
			kv[nkv++] = (v);                                       \
		}                                                              \
	} while (0)
	KV("daemon", c->daemon);
	KV("client", c->client);
	KV("name", c->name);
	KV("user", c->user);
	KV("server", c->server);
	KV("server-name", c->server_name);
	if (c->server_port >= 0) {
		snprintf(sport, sizeof(sport), "%d", c->server_port);
		KV("server-port", sport);
	}
	if (c->client_port >= 0) {
		snprintf(cport, sizeof(cport), "%d", c->client_port);
		KV("client-port", cport);
	}
	for (i = 0; i < c->nexpand; i++)
		KV("expand", c->expand[i]);
#undef KV
	snprintf(cnt, sizeof(cnt), "%d", nkv / 2);
	put(helper_in, cnt);
	put(helper_in, allow_path);
	put(helper_in, deny_path);
	for (i = 0; i < (size_t)nkv; i++)
		put(helper_in, kv[i]);
	if (fflush(helper_in) != 0) {
		snprintf(o->log, sizeof(o->log), "libwrap helper died");
		diff_oracle_stop();
		return -1;
	}
	pid_s = read_item(helper_out);
	st_s = read_item(helper_out);
	s = read_item(helper_out);
	if (pid_s == NULL || st_s == NULL || s == NULL) {
		free(pid_s);
		free(st_s);
		free(s);
		snprintf(o->log, sizeof(o->log), "libwrap helper died");
		diff_oracle_stop();
		return -1;
	}
	*child_pid = atol(pid_s);
	status = atoi(st_s);
	free(pid_s);
	free(st_s);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		snprintf(o->log, sizeof(o->log),
		    "libwrap child failed (status 0x%x)", status);
		free(s);
		return -1;
	}
	p = s;
	end = s + strlen(s);
	o->verdict = DIFF_FAILED;
	{
		char *v = get_str(&p, end), *f = NULL, *l = NULL;

		if (v != NULL)
			f = get_str(&p, end);
		if (f != NULL)
			l = get_str(&p, end);
		if (l != NULL) {
			o->verdict = (enum diff_verdict)atoi(v);
			snprintf(o->file, sizeof(o->file), "%s", f);
			o->line = atoi(l);
		}
		free(v);
		free(f);
		free(l);
		if (l == NULL)
			goto bad;
	}
	for (i = 0; i < c->nexpand; i++)
		if ((o->expanded[i] = get_str(&p, end)) == NULL)
			goto bad;
	{
		char *log = get_str(&p, end);

		if (log == NULL)
			goto bad;
		snprintf(o->log, sizeof(o->log), "%s", log);
		free(log);
	}
	free(s);
	return 0;
bad:
	o->verdict = DIFF_FAILED;
	snprintf(o->log, sizeof(o->log), "bad answer from libwrap child");
	free(s);
	return -1;
}
