/*
 * test_conf_metrics.c - the `metrics` key (issue 11): its values and
 * default, the errors at file:line:col, the flag's path through
 * conf_set(), the warning for an address that is not loopback, the dump.
 */
#include "conf_test.h"

static size_t
warnings(const struct wrapd_conf *c)
{
	return c->warnings != NULL ? c->warnings->n : 0;
}

static void
test_values(void **state)
{
	static const char *const quiet[] = {"127.0.0.1:9414", "127.1.2.3:1",
	    "\"[::1]:9414\"", "\"[::ffff:127.0.0.1]:9414\""};
	static const char *const loud[] = {"0.0.0.0:9414", "192.0.2.7:80",
	    "\"[::]:9414\"", "\"[2001:db8::1]:9414\"",
	    "\"[::ffff:10.0.0.1]:1\""};
	char yaml[256];
	struct wrapd_conf *c;
	size_t i;

	(void)state;
	c = load_ok(SVC);
	assert_null(c->metrics); /* off by default */
	conf_free(c);
	c = load_ok("metrics: null\n" SVC);
	assert_null(c->metrics);
	conf_free(c);
	for (i = 0; i < sizeof(quiet) / sizeof(quiet[0]); i++) {
		snprintf(yaml, sizeof(yaml), "metrics: %s\n" SVC, quiet[i]);
		c = load_ok(yaml);
		assert_non_null(c->metrics);
		assert_int_equal(warnings(c), 0);
		conf_free(c);
	}
	for (i = 0; i < sizeof(loud) / sizeof(loud[0]); i++) {
		snprintf(yaml, sizeof(yaml), "metrics: %s\n" SVC, loud[i]);
		c = load_ok(yaml);
		assert_int_equal(warnings(c), 1);
		assert_non_null(
		    strstr(c->warnings->v[0].msg, "is not a loopback address"));
		conf_free(c);
	}
}

static void
test_errors(void **state)
{
	(void)state;
	EXPECT_ERRS("metrics: localhost:9414\n" SVC,
	    "t.yaml:1:10: metrics \"localhost:9414\": expected ADDR:PORT "
	    "with a numeric address");
	EXPECT_ERRS("metrics: 9414\n" SVC, "t.yaml:1:10: metrics \"9414\"");
	EXPECT_ERRS("metrics: \"::1:9414\"\n" SVC, "t.yaml:1:10: metrics");
	EXPECT_ERRS("metrics: 127.0.0.1:0\n" SVC, "t.yaml:1:10: metrics");
	EXPECT_ERRS("metrics: 127.0.0.1:65536\n" SVC, "t.yaml:1:10: metrics");
	EXPECT_ERRS("metrics: systemd\n" SVC, "t.yaml:1:10: metrics");
	EXPECT_ERRS("metrics: [\"127.0.0.1:1\"]\n" SVC,
	    "t.yaml:1:10: metrics: expected ADDR:PORT or null, got a list");
}

/* --metrics goes through the key's row: the same check, the same
 * warning. */
static void
test_flag(void **state)
{
	struct conf_errs e = {0};
	struct wrapd_conf *c = load_ok(SVC);
	const char *v;

	(void)state;
	v = "127.0.0.1:9";
	assert_int_equal(
	    conf_set(c, NULL, "metrics", &v, 1, "--metrics", &e), 0);
	assert_string_equal(c->metrics, "127.0.0.1:9");
	v = "bogus";
	assert_int_equal(
	    conf_set(c, NULL, "metrics", &v, 1, "--metrics", &e), -1);
	assert_int_equal(e.n, 1);
	assert_non_null(strstr(e.v[0].msg, "metrics \"bogus\": expected"));
	assert_string_equal(c->metrics, "127.0.0.1:9");
	v = "0.0.0.0:9";
	assert_int_equal(
	    conf_set(c, NULL, "metrics", &v, 1, "--metrics", &e), 0);
	assert_int_equal(conf_validate(c, NULL), 0);
	assert_int_equal(warnings(c), 1);
	conf_errs_free(&e);
	conf_free(c);
}

static void
test_dump(void **state)
{
	struct wrapd_conf *c, *back;
	char *d;

	(void)state;
	c = load_ok("metrics: \"[::1]:9414\"\n" SVC);
	d = dump_conf(c);
	assert_non_null(strstr(d, "metrics: \"[::1]:9414\"\n"));
	back = load_ok(d);
	assert_string_equal(back->metrics, "[::1]:9414");
	free(d);
	conf_free(back);
	conf_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_values),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_flag),
	    cmocka_unit_test(test_dump),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
