/*
 * fuzz_conf.c - YAML bytes into conf_load_mem().
 *
 * Whatever the input, loading must either return a conf or a non-empty list
 * of errors (never both, never neither), every error must carry a file name
 * and message, and a loaded conf must pass conf_validate() again: the file
 * parser may never hand the proxy something its own checks reject.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *
fuzz_dump(const struct wrapd_conf *c, size_t *len)
{
	char *buf = NULL;
	FILE *fp = open_memstream(&buf, len);
	if (fp == NULL || conf_dump(c, fp) != 0)
		abort();
	fclose(fp);
	return buf;
}

/*
 * The dump is the canonical form: it must load without error and dump
 * again to the very same bytes.
 */
static void
fuzz_dump_round_trip(const struct wrapd_conf *c)
{
	size_t len1, len2;
	char *d1 = fuzz_dump(c, &len1);
	struct conf_errs errs = {0};
	struct wrapd_conf *c2 = conf_load_mem("fuzz.yaml", d1, len1, &errs);
	if (c2 == NULL || errs.n != 0)
		abort();
	char *d2 = fuzz_dump(c2, &len2);
	if (len1 != len2 || memcmp(d1, d2, len1) != 0)
		abort();
	free(d1);
	free(d2);
	conf_free(c2);
	conf_errs_free(&errs);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf_errs errs = {0};
	struct wrapd_conf *c =
	    conf_load_mem("fuzz.yaml", (const char *)data, size, &errs);
	if ((c == NULL) == (errs.n == 0))
		abort();
	for (size_t i = 0; i < errs.n; i++)
		if (errs.v[i].file == NULL || errs.v[i].msg == NULL ||
		    errs.v[i].msg[0] == '\0')
			abort();
	if (c != NULL) {
		struct conf_errs again = {0};
		if (conf_validate(c, &again) != 0 || again.n != 0)
			abort();
		for (size_t i = 0; i < c->nservices; i++) {
			const struct conf_service *s = &c->services[i];
			if (s->name == NULL || s->daemon == NULL ||
			    s->nlisten == 0)
				abort();
			if ((s->on_deny.reply == NULL &&
			        s->on_deny.reply_len != 0) ||
			    s->on_deny.reply_len > 4096)
				abort();
			if ((s->backend != NULL) == (s->exec_argv != NULL))
				abort();
		}
		conf_errs_free(&again);
		fuzz_dump_round_trip(c);
	}
	conf_errs_free(&errs);
	conf_free(c);
	return 0;
}
