/*
 * fuzz_conf.c - YAML bytes into conf_load_mem().
 *
 * Whatever the input, loading must either return a conf or a non-empty list
 * of errors (never both, never neither), every error must carry a file name
 * and message, and a loaded conf must pass conf_validate() again: the file
 * parser may never hand the proxy something its own checks reject.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf_errs errs = {0};
	struct wrapd_conf *c = conf_load_mem("fuzz.yaml", (const char *)data,
	    size, &errs);
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
			if ((s->backend != NULL) ==
			    (s->exec_argv != NULL))
				abort();
		}
		conf_errs_free(&again);
	}
	conf_errs_free(&errs);
	conf_free(c);
	return 0;
}
