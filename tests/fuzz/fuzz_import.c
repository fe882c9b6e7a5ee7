/*
 * fuzz_import.c - `wrapd import`'s readers on arbitrary bytes: the first
 * byte picks inetd.conf (even) or xinetd (odd), the rest is the file.
 * Everything a reader keeps is then written out as wrapd.yaml and rules.
 *
 * Checks: memory safety (ASan), and that what is written is what the
 * readers promise import.h: every value printable text, every name one
 * that wrapd.yaml accepts (abort otherwise).
 *
 * xinetd's include and includedir would read this machine's files: the
 * harness spells them differently, so an input never leaves its buffer.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "import.h"
#include "import_inetd.h"
#include "import_xinetd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_import_no_includes(char *text, size_t len)
{
	char *p = text;

	while ((p = memmem(p, len - (size_t)(p - text), "include", 7)) != NULL)
		p[4] = 'X'; /* "inclXde" */
}

static void
fuzz_import_check(const struct import_set *set)
{
	for (size_t i = 0; i < set->n; i++) {
		const struct import_svc *s = &set->v[i];

		if (!import_name_ok(s->name) || !import_name_ok(s->daemon))
			abort();
		for (size_t j = 0; j < s->nlisten; j++)
			if (!import_text_ok(s->listen[j]))
				abort();
		for (size_t j = 0; j < s->argc; j++)
			if (!import_text_ok(s->argv[j]))
				abort();
		if ((s->backend && !import_text_ok(s->backend)) ||
		    (s->user && !import_account_ok(s->user)) ||
		    (s->group && !import_account_ok(s->group)) ||
		    (s->allow && !import_text_ok(s->allow)) ||
		    (s->deny && !import_text_ok(s->deny)))
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct import_set set = {0};
	char path[64], *text;
	FILE *out;
	int fd;

	if (size < 1 || size > 65536)
		return 0;
	if ((text = malloc(size)) == NULL)
		return 0;
	memcpy(text, data + 1, size - 1);
	fuzz_import_no_includes(text, size - 1);
	fd = memfd_create("fuzz-import", MFD_CLOEXEC);
	if (fd < 0 || write(fd, text, size - 1) != (ssize_t)(size - 1))
		abort();
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	set.notes_fp = out = fopen("/dev/null", "we");
	if (out == NULL)
		abort();
	if (data[0] % 2 == 0)
		(void)import_inetd(&set, path);
	else
		(void)import_xinetd(&set, path);
	fuzz_import_check(&set);
	(void)import_write_yaml(out, &set, path, "/a", "/d");
	(void)import_write_rules(out, &set, true);
	(void)import_write_rules(out, &set, false);
	import_set_free(&set);
	fclose(out);
	close(fd);
	free(text);
	return 0;
}
