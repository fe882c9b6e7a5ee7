/*
 * diff_main.c - driver of the differential test (wrapd vs libwrap).
 *
 *   diff_libwrap [-v] cases FILE...        curated cases (tests/diff/cases)
 *   diff_libwrap [-v] random [COUNT [SEED]]
 *
 * Environment for the random mode: DIFF_COUNT, DIFF_SEED (override the
 * arguments), DIFF_ONLY=N (run case N only, verbosely), DIFF_MAX_SECONDS
 * (stop early, default 450).  Exit 0 when every case agrees, 1 otherwise.
 */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "diff.h"

void diff_print_case(FILE *fp, const struct diff_case *c);

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Drop physical lines of t while the case still disagrees. */
static void
shrink_table(struct diff_case *c, struct diff_buf *t, const char *tmp)
{
	size_t start, end;
	struct diff_stats scratch;

	if (t->p == NULL)
		return;
	end = t->len;
	while (end > 0) {
		struct diff_buf save = {0};

		start = end - 1;
		while (start > 0 && t->p[start - 1] != '\n')
			start--;
		diff_buf_add(&save, t->p, t->len);
		memmove(t->p + start, t->p + end, t->len - end);
		t->len -= end - start;
		t->p[t->len] = '\0';
		memset(&scratch, 0, sizeof(scratch));
		if (diff_run_case(c, tmp, &scratch, 0) == 0) {
			/* Needed: put it back. */
			diff_buf_free(t);
			*t = save;
		} else {
			diff_buf_free(&save);
		}
		end = start;
	}
}

static void
shrink(struct diff_case *c, const char *tmp)
{
	shrink_table(c, &c->allow, tmp);
	shrink_table(c, &c->deny, tmp);
}

static int
run_random(const char *tmp, unsigned long count, unsigned long long seed,
    long only, struct diff_stats *st)
{
	unsigned long i;
	time_t t0 = time(NULL);
	long max_s =
	    getenv("DIFF_MAX_SECONDS") ? atol(getenv("DIFF_MAX_SECONDS")) : 450;
	size_t shown = 0;

	for (i = 0; i < count; i++) {
		struct diff_case c;

		if (only >= 0 && (long)i != only)
			continue;
		if (time(NULL) - t0 > max_s) {
			printf(
			    "# stopped after %lu cases: DIFF_MAX_SECONDS=%ld "
			    "reached\n",
			    i, max_s);
			break;
		}
		diff_gen_case(seed, i, &c);
		if (diff_run_case(&c, tmp, st, only >= 0) != 0 && only < 0) {
			if (shown++ < 10) {
				struct diff_stats scratch;

				memset(&scratch, 0, sizeof(scratch));
				shrink(&c, tmp);
				printf("\n# reproduce: DIFF_SEED=%llu "
				       "DIFF_ONLY=%lu (shrunk below)\n",
				    seed, i);
				diff_run_case(&c, tmp, &scratch, 1);
			}
		}
		diff_case_free(&c);
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct diff_stats st;
	char tmp[4096];
	const char *tdir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	int argi = 1, rc;

	memset(&st, 0, sizeof(st));
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argi < argc && strcmp(argv[argi], "-v") == 0) {
		st.verbose = 1;
		argi++;
	}
	if (argi >= argc) {
		fprintf(stderr,
		    "usage: diff_libwrap [-v] cases FILE... | "
		    "random [COUNT [SEED]]\n");
		return 2;
	}
	snprintf(tmp, sizeof(tmp), "%s/wrapd-diff.XXXXXX", tdir);
	if (mkdtemp(tmp) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	if (strcmp(argv[argi], "cases") == 0) {
		int i;

		for (i = argi + 1; i < argc; i++) {
			struct diff_case *cases = NULL;
			size_t n = 0, k;

			if (diff_parse_file(argv[i], &cases, &n) < 0)
				st.failures++;
			for (k = 0; k < n; k++) {
				diff_run_case(&cases[k], tmp, &st, 1);
				diff_case_free(&cases[k]);
			}
			free(cases);
		}
	} else if (strcmp(argv[argi], "random") == 0) {
		unsigned long count =
		    argi + 1 < argc ? strtoul(argv[argi + 1], NULL, 10) : 20000;
		unsigned long long seed =
		    argi + 2 < argc ? strtoull(argv[argi + 2], NULL, 10) : 1;
		long only = -1;

		if (getenv("DIFF_COUNT"))
			count = strtoul(getenv("DIFF_COUNT"), NULL, 10);
		if (getenv("DIFF_SEED"))
			seed = strtoull(getenv("DIFF_SEED"), NULL, 10);
		if (getenv("DIFF_ONLY")) {
			only = atol(getenv("DIFF_ONLY"));
			if ((unsigned long)only >= count)
				count = (unsigned long)only + 1;
		}
		printf("# random: seed %llu, %lu cases\n", seed, count);
		run_random(tmp, count, seed, only, &st);
	} else {
		fprintf(stderr, "diff_libwrap: unknown mode %s\n", argv[argi]);
		nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
		return 2;
	}
	diff_oracle_stop();
	nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	printf("\n# libwrap verdicts: %zu grant, %zu deny, %zu twist, %zu "
	       "failed; a rule matched in %zu\n",
	    st.by_verdict[DIFF_GRANT], st.by_verdict[DIFF_DENY],
	    st.by_verdict[DIFF_TWIST], st.by_verdict[DIFF_FAILED], st.matched);
	printf("# %zu cases, %zu mismatches, %zu libwrap/expect "
	       "disagreements, %zu failures, %zu known differences (mapped "
	       "address text in expansions; -v shows them)\n",
	    st.cases, st.mismatches, st.bad_expect, st.failures, st.known);
	if (st.skipped > 0)
		printf(
		    "# %zu needs-root cases skipped (not root)\n", st.skipped);
	rc = st.mismatches || st.bad_expect || st.failures || st.cases == 0;
	return rc;
}
