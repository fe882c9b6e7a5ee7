/*
 * conf_test.h - helpers shared by the conf/ unit tests.
 *
 * Every expected error is written as "file:line:col: words", where the
 * position must match exactly and the words must appear in the message.
 * The number of errors must match too, so an extra or missing error fails.
 */
#ifndef WRAPD_CONF_TEST_H
#define WRAPD_CONF_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "conf.h"

/* A service that is valid on its own, to append to top-level tests. */
#define SVC                                                                    \
	"services:\n"                                                          \
	"  - name: s\n"                                                        \
	"    listen: [\"127.0.0.1:1\"]\n"                                      \
	"    backend: \"127.0.0.1:2\"\n"

static inline struct wrapd_conf *
load(const char *yaml, struct conf_errs *e)
{
	return conf_load_mem("t.yaml", yaml, strlen(yaml), e);
}

/* conf_dump() of c into a malloc'd string. */
static inline char *
dump_conf(const struct wrapd_conf *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);
	assert_non_null(fp);
	assert_int_equal(conf_dump(c, fp), 0);
	fclose(fp);
	return buf;
}

/* Load text that must be accepted; print the errors if it is not. */
static inline struct wrapd_conf *
load_ok(const char *yaml)
{
	struct conf_errs e = {0};
	struct wrapd_conf *c = load(yaml, &e);
	if (c == NULL || e.n != 0) {
		conf_errs_print(&e, stderr);
		fprintf(stderr, "--- in:\n%s---\n", yaml);
	}
	assert_non_null(c);
	assert_int_equal(e.n, 0);
	conf_errs_free(&e);
	return c;
}

static inline void
check_errs(const struct conf_errs *e, const char *const *want, size_t nwant,
    const char *yaml)
{
	bool ok = e->n == nwant;
	for (size_t i = 0; ok && i < nwant; i++) {
		char pos[256];
		const struct conf_err *x = &e->v[i];
		snprintf(
		    pos, sizeof pos, "%s:%u:%u: ", x->file, x->line, x->col);
		size_t pl = strlen(pos);
		if (strncmp(want[i], pos, pl) != 0 ||
		    strstr(x->msg, want[i] + pl) == NULL)
			ok = false;
	}
	if (!ok) {
		fprintf(stderr, "--- in:\n%s--- want:\n", yaml);
		for (size_t i = 0; i < nwant; i++)
			fprintf(stderr, "%s\n", want[i]);
		fprintf(stderr, "--- got:\n");
		conf_errs_print(e, stderr);
	}
	assert_true(ok);
}

/* The text must be rejected with exactly these errors. */
static inline void
expect_errs_(const char *yaml, const char *const *want, size_t nwant)
{
	struct conf_errs e = {0};
	struct wrapd_conf *c = load(yaml, &e);
	assert_null(c);
	check_errs(&e, want, nwant, yaml);
	conf_errs_free(&e);
}

#define EXPECT_ERRS(yaml, ...)                                                 \
	expect_errs_((yaml), (const char *const[]){__VA_ARGS__},               \
	    sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))

#endif /* WRAPD_CONF_TEST_H */
