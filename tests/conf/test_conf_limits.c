/*
 * test_conf_limits.c - the keys of "Beyond TCP Wrappers": per_source.rate,
 * ban, access_times and control: values, defaults, every error at its
 * file:line:col, and the dump.
 */
#include <stdbool.h>
#include <stdint.h>

#include "conf_test.h"

static void
test_values(void **state)
{
	(void)state;
	struct wrapd_conf *c = load_ok(
	    "control: /run/x/ctl.sock\n" SVC
	    "    per_source: { connections: 3, rate: 10/sec }\n"
	    "    ban: { after: 5, within: 60s, for: 1h, max_sources: 100 }\n"
	    "    access_times: [\"08:00-18:00\", \"Sat,sun 22:00-02:00\"]\n");
	const struct conf_service *s = &c->services[0];
	assert_string_equal(c->control, "/run/x/ctl.sock");
	assert_int_equal(s->per_source_connections, 3);
	assert_int_equal(s->per_source_rate_count, 10);
	assert_int_equal(s->per_source_rate_secs, 1);
	assert_int_equal(s->ban.after, 5);
	assert_int_equal(s->ban.within_ms, 60000);
	assert_int_equal(s->ban.for_ms, 3600000);
	assert_int_equal(s->ban.max_sources, 100);
	assert_int_equal(s->naccess_times, 2);
	assert_string_equal(s->access_times[1].text, "Sat,sun 22:00-02:00");
	assert_int_equal(s->access_times[1].days, 0x41); /* Sun, Sat */
	assert_int_equal(s->access_times[1].start, 22 * 60);
	assert_int_equal(s->access_times[1].end, 2 * 60);
	conf_free(c);
}

static void
test_defaults(void **state)
{
	(void)state;
	struct wrapd_conf *c = load_ok(SVC "    ban: { after: 2 }\n");
	const struct conf_service *s = &c->services[0];
	assert_string_equal(c->control, "/run/wrapd/control.sock");
	assert_int_equal(s->per_source_rate_count, 0);
	assert_int_equal(s->ban.within_ms, 600000);
	assert_int_equal(s->ban.for_ms, 600000);
	assert_int_equal(s->ban.max_sources, 4096);
	assert_null(s->access_times);
	conf_free(c);
	/* Without "ban", nobody is banned; "control: null" is no socket. */
	c = load_ok("control: null\n" SVC);
	assert_int_equal(c->services[0].ban.after, 0);
	assert_null(c->control);
	conf_free(c);
}

static void
test_errors(void **state)
{
	(void)state;
	EXPECT_ERRS(SVC "    per_source: { rate: 0/s }\n",
	    "t.yaml:5:25: per_source.rate: bad rate \"0/s\": the count must "
	    "be a number from 1");
	EXPECT_ERRS(SVC "    ban: { after: 0 }\n",
	    "t.yaml:5:19: ban.after: expected a whole number from 1 to "
	    "1000000, got \"0\"");
	EXPECT_ERRS(SVC "    ban: { for: 1h }\n",
	    "t.yaml:5:10: missing required key \"after\" in ban");
	EXPECT_ERRS(SVC "    ban: { after: 3, within: 500ms, for: 0 }\n",
	    "t.yaml:5:30: ban.within: \"500ms\" is out of range (1s to 24h)",
	    "t.yaml:5:42: ban.for: \"0\" is out of range (1s to 720h)");
	EXPECT_ERRS(SVC "    ban: { after: 3, max_sources: 15 }\n",
	    "t.yaml:5:35: ban.max_sources: expected a whole number from 16");
	EXPECT_ERRS(SVC "    ban: { after: 3, ever: 1 }\n",
	    "t.yaml:5:22: unknown key \"ever\" in ban (valid keys: after, "
	    "within, for, max_sources)");
	EXPECT_ERRS("control: run/ctl.sock\n" SVC,
	    "t.yaml:1:10: control \"run/ctl.sock\": must be an absolute path");
	EXPECT_ERRS("control: /" /* 108 bytes: one too many */
	            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n" SVC,
	    "t.yaml:1:10: must be at most 107 bytes");
}

/* Each bad window at its own line and column, with what is wrong. */
static void
test_access_times_errors(void **state)
{
	(void)state;
	EXPECT_ERRS(SVC "    access_times: [\"25:00-26:00\"]\n",
	    "t.yaml:5:20: access_times: \"25:00-26:00\": hour 25 is out of "
	    "range");
	EXPECT_ERRS(SVC "    access_times:\n"
	                "      - 08:00-18:00\n"
	                "      - \"10:60-11:00\"\n"
	                "      - Xyz 10:00-11:00\n"
	                "      - \"10:00-10:00\"\n"
	                "      - \"24:00-01:00\"\n"
	                "      - \"Mon-Fri\"\n"
	                "      - \"8:0-9:00\"\n"
	                "      - \"Sat 24:30-01:00\"\n"
	                "      - \"\\t10:00-11:00\"\n",
	    "t.yaml:7:9: minute 60 is out of range (00 to 59)",
	    "t.yaml:8:9: unknown day \"Xyz\"",
	    "t.yaml:9:9: starts and ends at the same time",
	    "t.yaml:10:9: 24:00 can only end a window",
	    "t.yaml:11:9: expected [DAYS ]HH:MM-HH:MM",
	    "t.yaml:12:9: expected [DAYS ]HH:MM-HH:MM",
	    "t.yaml:13:9: hour 24 is out of range",
	    "t.yaml:14:9: a window contains a control character");
	EXPECT_ERRS(SVC "    access_times: []\n",
	    "t.yaml:5:19: access_times: the list is empty");
	EXPECT_ERRS(SVC "    access_times: \"08:00-18:00\"\n",
	    "t.yaml:5:19: access_times: expected a list");
	EXPECT_ERRS(SVC "    access_times: [[1]]\n",
	    "t.yaml:5:20: access_times: each window is a string");
}

/* The windows as parsed: days, start, end (crossing midnight or not). */
static void
test_parse_timewin(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		unsigned days, start, end;
	} good[] = {
	    {"08:00-18:00", 0x7f, 480, 1080},
	    {"8:00 - 9:30", 0x7f, 480, 570},
	    {"22:00-02:00", 0x7f, 1320, 120},
	    {"00:00-24:00", 0x7f, 0, 1440},
	    {"22:00-00:00", 0x7f, 1320, 0},
	    {"Mon-Fri 08:00-18:00", 0x3e, 480, 1080},
	    {"Fri-Mon 08:00-18:00", 0x63, 480, 1080},
	    {"sat,SUN 10:00-12:00", 0x41, 600, 720},
	    {"Mon,Wed-Thu,Sat 01:00-02:00", 0x5a, 60, 120},
	    {"Sun-Sat 00:00-00:01", 0x7f, 0, 1},
	};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		struct conf_timewin w;
		char *err = NULL;
		if (conf_timewin_parse(good[i].text, &w, &err) != 0)
			fail_msg("%s: %s", good[i].text, err);
		assert_int_equal(w.days, good[i].days);
		assert_int_equal(w.start, good[i].start);
		assert_int_equal(w.end, good[i].end);
	}
	static const char *const bad[] = {"", "08:00", "08:00-", "-08:00",
	    "08-09", "080:00-09:00", "08:000-09:00", "Mo 08:00-09:00",
	    "Monday 08:00-09:00", "Mon- 08:00-09:00", "Mon,,Tue 08:00-09:00",
	    "Mon08:00-09:00", "08:00-09:00 x", "08:00-24:01", "99:00-01:00"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct conf_timewin w;
		char *err = NULL;
		if (conf_timewin_parse(bad[i], &w, &err) == 0)
			fail_msg("\"%s\" was accepted", bad[i]);
		assert_non_null(err);
		free(err);
	}
}

/* Dump and load again: the same values, the windows as written. */
static void
test_dump(void **state)
{
	(void)state;
	struct wrapd_conf *c =
	    load_ok(SVC "    per_source: { rate: 6/30s }\n"
	                "    ban: { after: 4, for: 90s }\n"
	                "    access_times: [\"Mon-Fri 08:00-18:00\"]\n");
	char *d = dump_conf(c);
	assert_non_null(strstr(d, "control: \"/run/wrapd/control.sock\"\n"));
	assert_non_null(strstr(d, "      rate: 6/30s\n"));
	assert_non_null(strstr(d,
	    "    ban: { after: 4, within: 10m, for: 90s, max_sources: 4096 "
	    "}\n"));
	assert_non_null(
	    strstr(d, "    access_times: [\"Mon-Fri 08:00-18:00\"]\n"));
	struct wrapd_conf *c2 = conf_load_mem("d.yaml", d, strlen(d), NULL);
	assert_non_null(c2);
	char *d2 = dump_conf(c2);
	assert_string_equal(strchr(d, '\n'), strchr(d2, '\n')); /* but "# " */
	free(d);
	free(d2);
	conf_free(c2);
	conf_free(c);
	/* A service without them dumps none of them. */
	c = load_ok("control: null\n" SVC);
	d = dump_conf(c);
	assert_non_null(strstr(d, "control: null\n"));
	assert_null(strstr(d, "ban:"));
	assert_null(strstr(d, "      rate:"));
	assert_null(strstr(d, "access_times"));
	free(d);
	conf_free(c);
}

/* The command line's --control goes through conf_validate(). */
static void
test_validate_control(void **state)
{
	(void)state;
	struct conf_errs e = {0};
	struct wrapd_conf *c = conf_new();
	struct conf_service *s = conf_service_add(c, "q");
	assert_int_equal(conf_service_add_listen(s, "127.0.0.1:9", NULL), 0);
	assert_int_equal(conf_parse_backend("127.0.0.1:10", s, NULL), 0);
	free(c->control);
	c->control = strdup("relative.sock");
	assert_int_equal(conf_validate(c, &e), -1);
	assert_int_equal(e.n, 1);
	assert_non_null(strstr(e.v[0].msg, "must be an absolute path"));
	conf_errs_free(&e);
	conf_free(c);
	/* The public rate parser is the file's. */
	unsigned n, secs;
	char *err = NULL;
	assert_int_equal(conf_parse_rate("10/sec", &n, &secs, &err), 0);
	assert_int_equal(n, 10);
	assert_int_equal(secs, 1);
	assert_int_equal(conf_parse_rate("0/s", &n, &secs, &err), -1);
	assert_non_null(err);
	free(err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_values),
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_access_times_errors),
	    cmocka_unit_test(test_parse_timewin),
	    cmocka_unit_test(test_dump),
	    cmocka_unit_test(test_validate_control),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
