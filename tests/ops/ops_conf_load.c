/*
 * ops_conf_load.c - load wrapd.yaml files with wrapd's own configuration
 * loader (conf_load_file), as `wrapd --config` would, without starting
 * anything: prints every error as file:line:col and exits 0 (all load) or
 * 1.  The import tests check their output with it.
 */
#include <stdio.h>

#include "conf.h"

int
main(int argc, char **argv)
{
	int i, rc = 0;

	for (i = 1; i < argc; i++) {
		struct conf_errs errs = {0};
		struct wrapd_conf *c = conf_load_file(argv[i], &errs);

		if (c == NULL) {
			conf_errs_print(&errs, stdout);
			rc = 1;
		} else {
			printf("%s: %zu service(s)\n", argv[i], c->nservices);
			conf_free(c);
		}
		conf_errs_free(&errs);
	}
	return argc < 2 ? 2 : rc;
}
