/*
 * test_conf_set.c - conf_set(), quick mode's way in: the same key set from
 * the command line and from a file gives the same configuration, and the
 * same message for the same bad value.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "conf_test.h"

struct kv {
	const char *path;
	const char *value;
};

/* Set each pair on a new conf with one service "s"; assert no error. */
static struct wrapd_conf *
set_all(const struct kv *kv, size_t n)
{
	struct conf_errs e = {0};
	struct wrapd_conf *c = conf_new();
	struct conf_service *s;

	assert_non_null(c);
	s = conf_service_add(c, "s");
	assert_non_null(s);
	for (size_t i = 0; i < n; i++) {
		const char *v[] = {kv[i].value};
		if (conf_set(c, s, kv[i].path, v, 1, "--x", &e) != 0)
			conf_errs_print(&e, stderr);
		assert_int_equal(e.n, 0);
	}
	if (conf_validate(c, &e) != 0)
		conf_errs_print(&e, stderr);
	assert_int_equal(e.n, 0);
	conf_errs_free(&e);
	return c;
}

/* Every kind of key, set both ways, dumps to the same text. */
static void
test_same_as_file(void **state)
{
	(void)state;
	static const struct kv kv[] = {
	    {"rules.allow", "/etc/a.allow"},
	    {"rules.deny", "/etc/a.deny"},
	    {"workers", "3"},
	    {"log.syslog", "false"},
	    {"log.stderr", "false"},
	    {"log.format", "json"},
	    {"control", "/run/x.sock"},
	    {"services[].listen", "127.0.0.1:1"},
	    {"services[].backend", "127.0.0.1:2"},
	    {"services[].timeouts.idle", "2m"},
	    {"services[].timeouts.connect", "250ms"},
	    {"services[].max_connections", "40"},
	    {"services[].per_source.connections", "4"},
	    {"services[].per_source.rate", "6/min"},
	    {"services[].proxy_protocol", "v2"},
	    {"services[].transparent", "true"},
	    {"services[].accept_proxy_from", "10.0.0.0/8"},
	    {"services[].protocol", "tcp"},
	};
	struct wrapd_conf *flags = set_all(kv, sizeof kv / sizeof kv[0]);
	struct wrapd_conf *file =
	    load_ok("rules: { allow: /etc/a.allow, deny: /etc/a.deny }\n"
	            "workers: 3\n"
	            "log: { syslog: false, stderr: false, format: json }\n"
	            "control: /run/x.sock\n"
	            "services:\n"
	            "  - name: s\n"
	            "    listen: [\"127.0.0.1:1\"]\n"
	            "    backend: 127.0.0.1:2\n"
	            "    timeouts: { idle: 2m, connect: 250ms }\n"
	            "    max_connections: 40\n"
	            "    per_source: { connections: 4, rate: 6/min }\n"
	            "    proxy_protocol: v2\n"
	            "    transparent: true\n"
	            "    accept_proxy_from: [10.0.0.0/8]\n"
	            "    protocol: tcp\n");
	char *a = dump_conf(flags), *b = dump_conf(file);
	/* The file's dump starts with its name, "# t.yaml". */
	assert_true(strncmp(b, "# t.yaml\n", 9) == 0);
	assert_string_equal(a, b + 9);
	free(a);
	free(b);
	conf_free(flags);
	conf_free(file);
}

/* A list key takes the whole list; exec replaces, listen appends. */
static void
test_lists(void **state)
{
	(void)state;
	struct conf_errs e = {0};
	struct wrapd_conf *c = conf_new();
	struct conf_service *s = conf_service_add(c, "s");
	const char *listen[] = {"127.0.0.1:1", "[::1]:1"};
	const char *argv[] = {"/bin/echo", "a b", "c"};

	assert_int_equal(
	    conf_set(c, s, "services[].listen", listen, 2, "--listen", &e), 0);
	assert_int_equal(
	    conf_set(c, s, "services[].exec", argv, 3, "--", &e), 0);
	assert_int_equal(s->nlisten, 2);
	assert_string_equal(s->exec_argv[1], "a b");
	assert_null(s->exec_argv[3]);
	assert_int_equal(e.n, 0);
	conf_free(c);
}

/* The file's message, with the flag in place of file:line:col. */
static void
test_errors(void **state)
{
	(void)state;
	static const struct {
		const char *path, *value, *words;
	} bad[] = {
	    {"services[].timeouts.idle", "5x", "timeouts.idle: bad duration"},
	    {"services[].timeouts.connect", "0", "out of range"},
	    {"workers", "257", "from 0 to 256"},
	    {"services[].per_source.rate", "0/s", "the count must be"},
	    {"services[].protocol", "udp", "expected tcp or ftp"},
	    {"services[].transparent", "maybe", "expected true or false"},
	    {"log.syslog", "nosuch", "unknown syslog facility"},
	    {"services[].listen", "nope", "missing \":PORT\""},
	    {"services[].exec", "cat", "must be an absolute path"},
	    {"services[].accept_proxy_from", "10.0.0.0/33",
	        "accept_proxy_from"},
	    {"control", "relative.sock", "control"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct conf_errs e = {0};
		struct wrapd_conf *c = conf_new();
		struct conf_service *s = conf_service_add(c, "s");
		const char *v[] = {bad[i].value};

		assert_int_equal(
		    conf_set(c, s, bad[i].path, v, 1, "--flag", &e), -1);
		assert_int_equal(e.n, 1);
		assert_string_equal(e.v[0].file, "--flag");
		assert_int_equal(e.v[0].line, 0);
		if (strstr(e.v[0].msg, bad[i].words) == NULL)
			fail_msg("%s %s: \"%s\" lacks \"%s\"", bad[i].path,
			    bad[i].value, e.v[0].msg, bad[i].words);
		conf_errs_free(&e);
		conf_free(c);
	}
}

/* A caller's mistakes are EINVAL, with no message for the user. */
static void
test_caller_mistakes(void **state)
{
	(void)state;
	struct conf_errs e = {0};
	struct wrapd_conf *c = conf_new();
	struct conf_service *s = conf_service_add(c, "s");
	const char *two[] = {"1", "2"};
	bool list, svc;

	errno = 0;
	assert_int_equal(conf_set(c, s, "nosuch", two, 1, "--x", &e), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(conf_set(c, s, "log", two, 1, "--x", &e), -1);
	assert_int_equal(
	    conf_set(c, NULL, "services[].max_connections", two, 1, "--x", &e),
	    -1);
	assert_int_equal(conf_set(c, s, "workers", two, 2, "--x", &e), -1);
	assert_int_equal(e.n, 0);
	assert_false(conf_set_known("services", NULL, NULL));
	assert_true(conf_set_known("services[].listen", &list, &svc));
	assert_true(list && svc);
	assert_true(conf_set_known("user", &list, &svc));
	assert_false(list || svc);
	conf_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_same_as_file),
	    cmocka_unit_test(test_lists),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_caller_mistakes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
