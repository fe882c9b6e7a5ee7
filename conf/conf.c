/*
 * conf.c - the conf object: create, load, free; error collection.
 *
 * Loading is three passes over one buffer: libyaml builds a node tree
 * (conf_yaml.c), the schema table walks it (conf_schema.c), and only when
 * every value was acceptable do the cross-field checks run (conf_validate.c),
 * because checks like "listen addresses are unique" mean little while some
 * of those addresses failed to parse.
 *
 * Memory: the sizes involved are bounded (CONF_MAX_FILE_SIZE), so an
 * allocation failure here means the process is already lost; the x-helpers
 * abort rather than threading ENOMEM through every parser.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf_int.h"

static void *
conf__xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (q == NULL)
		abort();
	return q;
}

char *
conf__memdup(const char *s, size_t len)
{
	char *p = conf__xrealloc(NULL, len + 1);
	if (len > 0)
		memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *
conf__strdup(const char *s)
{
	return s == NULL ? NULL : conf__memdup(s, strlen(s));
}

/* A formatted string in a new allocation; ap is left unused. */
static char *conf__vasprintf(const char *fmt, va_list ap)
    __attribute__((format(printf, 1, 0)));

static char *
conf__vasprintf(const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		abort();
	char *p = conf__xrealloc(NULL, (size_t)n + 1);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	return p;
}

char *
conf__asprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *p = conf__vasprintf(fmt, ap);
	va_end(ap);
	return p;
}

void
conf__errv(struct conf_errs *errs, const char *file, unsigned line,
    unsigned col, const char *fmt, va_list ap)
{
	char *msg = conf__vasprintf(fmt, ap);
	if (errs->n == errs->cap) {
		errs->cap = errs->cap ? errs->cap * 2 : 8;
		errs->v = conf__xrealloc(errs->v, errs->cap * sizeof *errs->v);
	}
	struct conf_err *e = &errs->v[errs->n++];
	e->file = conf__strdup(file);
	e->line = line;
	e->col = col;
	e->msg = msg;
}

static void conf__errs_add(struct conf_errs *errs, const char *file,
    unsigned line, unsigned col, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void
conf__errs_add(struct conf_errs *errs, const char *file, unsigned line,
    unsigned col, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	conf__errv(errs, file, line, col, fmt, ap);
	va_end(ap);
}

/*
 * A broken file can produce an error per line; after CONF_MAX_ERRORS more
 * of them help nobody, and the cap bounds the work a hostile file causes.
 */
void
conf__err(
    struct conf_ctx *cx, unsigned line, unsigned col, const char *fmt, ...)
{
	if (cx->full)
		return;
	if (cx->nerr++ >= CONF_MAX_ERRORS) {
		conf__errs_add(cx->errs, cx->file, line, col,
		    "too many errors, giving up");
		cx->full = true;
		return;
	}
	va_list ap;
	va_start(ap, fmt);
	conf__errv(cx->errs, cx->file, line, col, fmt, ap);
	va_end(ap);
}

void
conf_errs_free(struct conf_errs *e)
{
	if (e == NULL)
		return;
	for (size_t i = 0; i < e->n; i++) {
		free(e->v[i].file);
		free(e->v[i].msg);
	}
	free(e->v);
	e->v = NULL;
	e->n = e->cap = 0;
}

int
conf_err_format(
    const struct conf_err *e, const char *kind, char *buf, size_t size)
{
	const char *file = e->file ? e->file : "wrapd";

	if (e->line == 0)
		return snprintf(buf, size, "%s: %s%s", file, kind, e->msg);
	if (e->col == 0)
		return snprintf(
		    buf, size, "%s:%u: %s%s", file, e->line, kind, e->msg);
	return snprintf(
	    buf, size, "%s:%u:%u: %s%s", file, e->line, e->col, kind, e->msg);
}

void
conf_errs_print(const struct conf_errs *e, FILE *fp)
{
	char msg[CONF_ERR_TEXT_MAX];

	for (size_t i = 0; e != NULL && i < e->n; i++) {
		conf_err_format(&e->v[i], "", msg, sizeof msg);
		fprintf(fp, "%s\n", msg);
	}
}

struct wrapd_conf *
conf_new(void)
{
	struct wrapd_conf *c = calloc(1, sizeof *c);
	if (c == NULL)
		return NULL;
	if (conf__schema_defaults(CONF_SCOPE_TOP, c) != 0) {
		conf_free(c);
		return NULL;
	}
	return c;
}

static void
conf__service_clear(struct conf_service *s)
{
	free(s->name);
	free(s->daemon);
	for (size_t i = 0; i < s->nlisten; i++) {
		free(s->listen[i].text);
		free(s->listen[i].host);
	}
	free(s->listen);
	free(s->backend);
	free(s->backend_host);
	free(s->proxy_from);
	for (size_t i = 0; s->exec_argv != NULL && s->exec_argv[i]; i++)
		free(s->exec_argv[i]);
	free(s->exec_argv);
	free(s->on_deny.reply);
	free(s->on_deny.mail);
	free(s->user);
	free(s->group);
	conf__times_free(s);
}

void
conf_free(struct wrapd_conf *c)
{
	if (c == NULL)
		return;
	free(c->path);
	free(c->allow_path);
	free(c->deny_path);
	free(c->user);
	free(c->control);
	free(c->metrics);
	free(c->syslog_facility);
	free(c->actions.sendmail);
	free(c->geoip_country);
	free(c->geoip_asn);
	for (size_t i = 0; i < c->nservices; i++)
		conf__service_clear(&c->services[i]);
	free(c->services);
	if (c->warnings != NULL) {
		conf_errs_free(c->warnings);
		free(c->warnings);
	}
	free(c);
}

/* A service with every default but no name: the file parser fills it. */
struct conf_service *
conf__service_new(struct wrapd_conf *c)
{
	c->services = conf__xrealloc(
	    c->services, (c->nservices + 1) * sizeof *c->services);
	struct conf_service *s = &c->services[c->nservices];
	memset(s, 0, sizeof *s);
	if (conf__schema_defaults(CONF_SCOPE_SERVICE, s) != 0)
		abort(); /* the built-in defaults are tested to parse */
	c->nservices++;
	return s;
}

struct conf_service *
conf_service_add(struct wrapd_conf *c, const char *name)
{
	if (c == NULL || name == NULL ||
	    conf__check_name(name, strlen(name)) != NULL)
		return NULL;
	struct conf_service *s = conf__service_new(c);
	s->name = conf__strdup(name);
	s->daemon = conf__strdup(name);
	return s;
}

int
conf_service_add_listen(struct conf_service *s, const char *text, char **err)
{
	struct conf_listen l;
	if (conf_parse_listen(text, &l, err) != 0)
		return -1;
	s->listen =
	    conf__xrealloc(s->listen, (s->nlisten + 1) * sizeof *s->listen);
	s->listen[s->nlisten++] = l;
	return 0;
}

int
conf_service_set_exec(struct conf_service *s, char *const argv[], char **err)
{
	size_t n = 0;
	while (argv != NULL && argv[n] != NULL)
		n++;
	if (n == 0) {
		if (err != NULL)
			*err = conf__strdup("exec needs a program to run");
		return -1;
	}
	if (argv[0][0] != '/') {
		if (err != NULL)
			*err = conf__asprintf("exec: program \"%s\" must be an "
			                      "absolute path",
			    argv[0]);
		return -1;
	}
	for (size_t i = 0; s->exec_argv != NULL && s->exec_argv[i]; i++)
		free(s->exec_argv[i]);
	free(s->exec_argv);
	s->exec_argv = conf__xrealloc(NULL, (n + 1) * sizeof *s->exec_argv);
	for (size_t i = 0; i < n; i++)
		s->exec_argv[i] = conf__strdup(argv[i]);
	s->exec_argv[n] = NULL;
	s->exec_argc = n;
	s->backend_kind = CONF_BACKEND_EXEC;
	return 0;
}

/*
 * Relative rule paths are taken relative to the configuration file's
 * directory, made absolute now: wrapd may chdir("/") later and re-read the
 * rules on SIGHUP.
 */
static char *
conf__dir_of(const char *name)
{
	char cwd[4096];
	const char *slash = name ? strrchr(name, '/') : NULL;
	if (slash != NULL && name[0] == '/')
		return slash == name
		    ? conf__strdup("/")
		    : conf__memdup(name, (size_t)(slash - name));
	if (getcwd(cwd, sizeof cwd) == NULL)
		snprintf(cwd, sizeof cwd, ".");
	if (slash == NULL)
		return conf__strdup(cwd);
	return conf__asprintf(
	    "%s/%.*s", strcmp(cwd, "/") ? cwd : "", (int)(slash - name), name);
}

/*
 * The passes find errors out of order (a missing key is noticed at the end
 * of its mapping); people read them top to bottom.  Stable, and the final
 * "too many errors" stays last.
 */
static void
conf__errs_sort(struct conf_err *v, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		struct conf_err x = v[i];
		size_t j = i;
		while (j > 0 &&
		    (v[j - 1].line > x.line ||
		        (v[j - 1].line == x.line && v[j - 1].col > x.col))) {
			v[j] = v[j - 1];
			j--;
		}
		v[j] = x;
	}
}

struct wrapd_conf *
conf_load_mem(
    const char *name, const char *text, size_t len, struct conf_errs *errs)
{
	struct conf_errs local = {0};
	struct conf_ctx cx = {0};
	cx.errs = errs != NULL ? errs : &local;
	cx.file = name != NULL ? name : "<config>";
	size_t before = cx.errs->n;

	struct wrapd_conf *c = conf_new();
	if (c == NULL)
		abort();
	c->path = conf__strdup(name);
	cx.conf = c;
	cx.dir = conf__dir_of(name);

	if (len > CONF_MAX_FILE_SIZE) {
		conf__err(&cx, 0, 0, "file too large (over %d bytes)",
		    CONF_MAX_FILE_SIZE);
	} else {
		struct conf_node *root = NULL;
		size_t syn = cx.errs->n;
		root = conf__yaml_load(&cx, text, len);
		if (cx.errs->n == syn)
			conf__schema_walk(&cx, root);
		conf__node_free(root);
	}
	if (cx.errs->n == before)
		conf_validate(c, cx.errs);
	free(cx.dir);
	/*
	 * Only when this load added errors: a valid file leaves v NULL, and
	 * NULL + 0 is undefined behaviour (clang's UBSan stops there).
	 */
	if (cx.errs->n > before)
		conf__errs_sort(cx.errs->v + before,
		    cx.errs->n - before - (cx.full ? 1 : 0));
	if (cx.errs->n != before) {
		conf_free(c);
		c = NULL;
	}
	conf_errs_free(&local);
	return c;
}

struct wrapd_conf *
conf_load_file(const char *path, struct conf_errs *errs)
{
	struct conf_errs local = {0};
	if (errs == NULL)
		errs = &local;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0) {
		conf__errs_add(errs, path, 0, 0, "%s", strerror(errno));
		if (fd >= 0)
			close(fd);
		conf_errs_free(&local);
		return NULL;
	}
	if (S_ISDIR(st.st_mode)) {
		conf__errs_add(errs, path, 0, 0, "%s", strerror(EISDIR));
		close(fd);
		conf_errs_free(&local);
		return NULL;
	}
	/* Read up to one byte past the limit to tell "too large" apart. */
	size_t cap = 8192, len = 0;
	char *buf = conf__xrealloc(NULL, cap);
	for (;;) {
		if (len == cap) {
			if (cap > CONF_MAX_FILE_SIZE)
				break;
			cap *= 2;
			buf = conf__xrealloc(buf, cap);
		}
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			conf__errs_add(errs, path, 0, 0, "%s", strerror(errno));
			free(buf);
			close(fd);
			conf_errs_free(&local);
			return NULL;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	struct wrapd_conf *c = conf_load_mem(path, buf, len, errs);
	free(buf);
	conf_errs_free(&local);
	return c;
}
