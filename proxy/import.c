/*
 * import.c - the set of imported services and its output (see
 * import.h).
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cli_text.h"
#include "import.h"

#define IMPORT_SVC_TEXT_MAX 1024

char *
import_strdup(const char *s)
{
	char *d = strdup(s);

	if (d == NULL) {
		fputs("wrapd import: out of memory\n", stderr);
		exit(1);
	}
	return d;
}

void
import_note(struct import_set *set, const char *file, unsigned line,
    const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	cli_text(set->notes_fp, file);
	if (line > 0)
		fprintf(set->notes_fp, ":%u", line);
	fputs(": note: ", set->notes_fp);
	cli_text(set->notes_fp, msg);
	fputs("\n", set->notes_fp);
	set->notes++;
}

bool
import_text_ok(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++, n++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e ||
		    n >= IMPORT_SVC_TEXT_MAX)
			return false;
	return true;
}

bool
import_name_ok(const char *s)
{
	size_t n;

	for (n = 0; s[n] != '\0'; n++)
		if (!((s[n] >= 'a' && s[n] <= 'z') ||
		        (s[n] >= 'A' && s[n] <= 'Z') ||
		        (s[n] >= '0' && s[n] <= '9') || s[n] == '.' ||
		        s[n] == '_' || s[n] == '-'))
			return false;
	return n >= 1 && n <= 64;
}

bool
import_account_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 32 || s[0] == '-')
		return false;
	/* a machine account's trailing '$' is allowed, as useradd does */
	if (s[n - 1] == '$') {
		char tmp[33];

		memcpy(tmp, s, n - 1);
		tmp[n - 1] = '\0';
		return n == 1 || import_name_ok(tmp);
	}
	return import_name_ok(s);
}

static bool
import_name_taken(const struct import_set *set, const char *name)
{
	size_t i;

	for (i = 0; i < set->n; i++)
		if (strcmp(set->v[i].name, name) == 0)
			return true;
	return false;
}

struct import_svc *
import_add(
    struct import_set *set, const char *name, const char *file, unsigned line)
{
	struct import_svc *s;
	char unique[80];
	unsigned k;

	if (set->n >= IMPORT_SVC_MAX)
		return NULL;
	if (set->n == set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 16;
		struct import_svc *v = realloc(set->v, cap * sizeof *v);

		if (v == NULL)
			return NULL;
		set->v = v;
		set->cap = cap;
	}
	/* finger, finger-2, finger-3...: the first keeps the plain name */
	snprintf(unique, sizeof unique, "%s", name);
	for (k = 2; import_name_taken(set, unique) && k < 100000; k++)
		snprintf(unique, sizeof unique, "%.56s-%u", name, k);
	s = &set->v[set->n++];
	memset(s, 0, sizeof *s);
	s->name = import_strdup(unique);
	s->file = import_strdup(file);
	s->line = line;
	return s;
}

static void
import_free(struct import_svc *s)
{
	size_t i;

	free(s->name);
	free(s->daemon);
	for (i = 0; i < s->nlisten; i++)
		free(s->listen[i]);
	for (i = 0; i < s->argc; i++)
		free(s->argv[i]);
	free(s->backend);
	free(s->user);
	free(s->group);
	free(s->allow);
	free(s->deny);
	free(s->file);
	for (i = 0; i < s->ntimes; i++)
		free(s->access_times[i]);
}

void
import_drop_last(struct import_set *set)
{
	if (set->n > 0)
		import_free(&set->v[--set->n]);
}

static bool
import_same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	    (a != NULL && b != NULL && strcmp(a, b) == 0);
}

struct import_svc *
import_twin(struct import_set *set, const struct import_svc *s)
{
	size_t i, j;

	for (i = 0; i < set->n; i++) {
		struct import_svc *t = &set->v[i];
		bool same = t != s && t->argc == s->argc &&
		    t->nlisten < IMPORT_SVC_MAX_LISTEN &&
		    import_same(t->daemon, s->daemon) &&
		    import_same(t->user, s->user) &&
		    import_same(t->group, s->group) &&
		    import_same(t->backend, s->backend) &&
		    t->max_connections == s->max_connections &&
		    t->ntimes == 0 && s->ntimes == 0;

		for (j = 0; same && j < s->argc; j++)
			same = strcmp(t->argv[j], s->argv[j]) == 0;
		if (same)
			return t;
	}
	return NULL;
}

void
import_set_free(struct import_set *set)
{
	size_t i;

	for (i = 0; i < set->n; i++)
		import_free(&set->v[i]);
	free(set->v);
	set->v = NULL;
	set->n = set->cap = 0;
}

char *
import_listen_text(const char *host, int family, unsigned port)
{
	unsigned char a[16];
	char buf[INET6_ADDRSTRLEN + 16];

	if (host == NULL || strcmp(host, "*") == 0)
		host = family == AF_INET6 ? "::" : "0.0.0.0";
	if (inet_pton(AF_INET, host, a) == 1)
		snprintf(buf, sizeof buf, "%s:%u", host, port);
	else if (inet_pton(AF_INET6, host, a) == 1)
		snprintf(buf, sizeof buf, "[%s]:%u", host, port);
	else
		return NULL;
	return import_strdup(buf);
}

unsigned
import_tcp_port(const char *service)
{
	struct servent *se;
	char *end;
	unsigned long n;

	if (service[0] >= '0' && service[0] <= '9') {
		n = strtoul(service, &end, 10);
		return *end == '\0' && n > 0 && n <= 65535 ? (unsigned)n : 0;
	}
	se = getservbyname(service, "tcp");
	return se != NULL ? ntohs((uint16_t)se->s_port) : 0;
}

/* A YAML double-quoted string: the text is printable ASCII already. */
static void
import_yaml_str(FILE *fp, const char *s)
{
	putc('"', fp);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			putc('\\', fp);
		putc(*s, fp);
	}
	putc('"', fp);
}

static void
import_yaml_list(FILE *fp, const char *key, char *const *v, size_t n)
{
	size_t i;

	fprintf(fp, "    %s: [", key);
	for (i = 0; i < n; i++) {
		fputs(i ? ", " : "", fp);
		import_yaml_str(fp, v[i]);
	}
	fputs("]\n", fp);
}

static void
import_yaml_key(FILE *fp, const char *key, const char *value)
{
	if (value == NULL)
		return;
	fprintf(fp, "    %s: ", key);
	import_yaml_str(fp, value);
	fputs("\n", fp);
}

static void
import_yaml_service(FILE *fp, const struct import_svc *s)
{
	fputs("  # from ", fp);
	cli_text(fp, s->file); /* a comment: one line, no control bytes */
	fprintf(fp, ":%u\n", s->line);
	fputs("  - name: ", fp);
	import_yaml_str(fp, s->name);
	fputs("\n", fp);
	import_yaml_key(fp, "daemon", s->daemon);
	import_yaml_list(fp, "listen", s->listen, s->nlisten);
	if (s->backend != NULL)
		import_yaml_key(fp, "backend", s->backend);
	else
		import_yaml_list(fp, "exec", s->argv, s->argc);
	import_yaml_key(fp, "user", s->user);
	import_yaml_key(fp, "group", s->group);
	if (s->max_connections > 0)
		fprintf(fp, "    max_connections: %u\n", s->max_connections);
	if (s->per_source > 0)
		fprintf(
		    fp, "    per_source: { connections: %u }\n", s->per_source);
	if (s->ntimes > 0)
		import_yaml_list(
		    fp, "access_times", s->access_times, s->ntimes);
}

int
import_write_yaml(FILE *fp, const struct import_set *set, const char *source,
    const char *allow_path, const char *deny_path)
{
	size_t i;

	fputs("# wrapd.yaml written by wrapd import from ", fp);
	cli_text(fp, source);
	fputs("\n# Check it, then: wrapd --config FILE (see wrapd.yaml(5)).\n",
	    fp);
	if (allow_path != NULL && deny_path != NULL) {
		fputs("rules:\n", fp);
		import_yaml_key(fp, "allow", allow_path);
		import_yaml_key(fp, "deny", deny_path);
	}
	fputs("services:\n", fp);
	for (i = 0; i < set->n; i++)
		import_yaml_service(fp, &set->v[i]);
	return fflush(fp) == 0 && !ferror(fp) ? 0 : -1;
}

size_t
import_write_rules(FILE *fp, const struct import_set *set, bool allow)
{
	size_t i, n = 0;

	for (i = 0; i < set->n; i++) {
		const struct import_svc *s = &set->v[i];
		const char *list = NULL, *except = NULL;

		if (allow && s->allow != NULL && s->allow[0] != '\0') {
			list = s->allow; /* only_from, minus no_access */
			except = s->deny;
		} else if (!allow && s->allow != NULL) {
			list = "ALL"; /* not in only_from: denied */
		} else if (!allow && s->deny != NULL) {
			list = s->deny;
		}
		if (list == NULL)
			continue;
		fprintf(fp, "%s: %s%s%s\n", s->daemon, list,
		    except ? " EXCEPT " : "", except ? except : "");
		n++;
	}
	return n;
}
