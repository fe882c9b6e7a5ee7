/*
 * test_conf_daemons.c - the keys of issue "daemons" (conf_daemons.c):
 * transparent, accept_proxy_from, protocol, their timeouts and checks,
 * the mail-relay warning, and the shipped examples (none may warn).
 */
#include <stdint.h>

#include "conf_test.h"

static size_t
warnings(const struct wrapd_conf *c)
{
	return c->warnings != NULL ? c->warnings->n : 0;
}

static void
test_keys(void **state)
{
	(void)state;
	struct wrapd_conf *c =
	    load_ok(SVC "    transparent: true\n"
	                "    protocol: ftp\n"
	                "    timeouts: { ftp_data: 2s }\n"
	                "  - name: t\n"
	                "    listen: [\"127.0.0.1:3\"]\n"
	                "    backend: \"127.0.0.1:4\"\n"
	                "    accept_proxy_from: [\"10.1.2.3\", "
	                "\"2001:db8::/32\", "
	                "\"::ffff:192.0.2.0/120\"]\n"
	                "    timeouts: { proxy_header: 250ms }\n");
	const struct conf_service *s = &c->services[0], *t = &c->services[1];
	const uint8_t in[4] = {10, 1, 2, 3}, out[4] = {10, 1, 2, 4};
	const uint8_t v4n[4] = {192, 0, 2, 77};
	uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, 9};

	assert_true(s->transparent);
	assert_int_equal(s->protocol, CONF_PROTOCOL_FTP);
	assert_int_equal(s->ftp_data_timeout_ms, 2000);
	assert_int_equal(s->proxy_header_timeout_ms, 5000);
	assert_int_equal(t->nproxy_from, 3);
	assert_int_equal(t->proxy_header_timeout_ms, 250);
	assert_true(conf_daemons_cidr_contains(t->proxy_from, 3, AF_INET, in));
	assert_false(conf_daemons_cidr_contains(t->proxy_from, 3, AF_INET, out));
	/* ::ffff:192.0.2.0/120 is the IPv4 network 192.0.2.0/24. */
	assert_true(conf_daemons_cidr_contains(t->proxy_from, 3, AF_INET, v4n));
	assert_true(conf_daemons_cidr_contains(t->proxy_from, 3, AF_INET6, v6));
	v6[3] = 0xb9;
	assert_false(conf_daemons_cidr_contains(t->proxy_from, 3, AF_INET6, v6));
	assert_false(t->transparent);
	assert_int_equal(t->protocol, CONF_PROTOCOL_TCP);
	conf_free(c);
}

static void
test_errors(void **state)
{
	(void)state;
	EXPECT_ERRS(SVC "    accept_proxy_from: [\"10.0.0.0/33\"]\n",
	    "t.yaml:5:25: accept_proxy_from: \"10.0.0.0/33\": the prefix "
	    "length must be 0 to 32");
	EXPECT_ERRS(SVC "    accept_proxy_from: [\"lb.example.com\"]\n",
	    "t.yaml:5:25: accept_proxy_from: \"lb.example.com\": not a "
	    "numeric");
	EXPECT_ERRS(SVC "    accept_proxy_from: []\n",
	    "t.yaml:5:24: accept_proxy_from: the list is empty");
	EXPECT_ERRS(SVC "    accept_proxy_from: 10.0.0.1\n",
	    "t.yaml:5:24: accept_proxy_from: expected a list");
	EXPECT_ERRS(SVC "    protocol: smtp\n",
	    "t.yaml:5:15: protocol: expected tcp or ftp");
	EXPECT_ERRS(SVC "    timeouts: { proxy_header: 2m }\n",
	    "t.yaml:5:31: timeouts.proxy_header: \"2m\" is out of range");
	EXPECT_ERRS("services:\n  - name: s\n    listen: [\"127.0.0.1:1\"]\n"
	            "    exec: [/bin/cat]\n    transparent: true\n",
	    "t.yaml:2:5: service \"s\": transparent needs a TCP backend");
	EXPECT_ERRS("services:\n  - name: s\n    listen: [\"127.0.0.1:1\"]\n"
	            "    backend: unix:/run/x\n    transparent: true\n",
	    "t.yaml:2:5: service \"s\": transparent needs a TCP backend");
	EXPECT_ERRS("services:\n  - name: s\n    listen: [\"127.0.0.1:1\"]\n"
	            "    exec: [/bin/cat]\n    accept_proxy_from: [10.0.0.1]\n",
	    "t.yaml:2:5: service \"s\": accept_proxy_from needs a backend");
	EXPECT_ERRS("services:\n  - name: s\n    listen: [\"127.0.0.1:1\"]\n"
	            "    exec: [/bin/cat]\n    protocol: ftp\n",
	    "t.yaml:2:5: service \"s\": protocol ftp is for a backend");
	EXPECT_ERRS(SVC
	    "    protocol: ftp\n    accept_proxy_from: [10.0.0.1]\n",
	    "t.yaml:2:5: service \"s\": protocol ftp cannot be combined");
}

/* A mail service forwarded without the client warns; with it, not. */
static void
test_mail_warning(void **state)
{
	(void)state;
	static const char *const quiet[] = {
	    "    proxy_protocol: v2\n", "    transparent: true\n", ""};
	char yaml[512];

	for (size_t i = 0; i < 3; i++) {
		snprintf(yaml, sizeof yaml,
		    "services:\n  - name: smtp\n"
		    "    listen: [\"0.0.0.0:%s\"]\n"
		    "    backend: \"127.0.0.1:2525\"\n%s",
		    i == 2 ? "2500" : "25", quiet[i]);
		struct wrapd_conf *c = load_ok(yaml);
		assert_int_equal(warnings(c), 0);
		conf_free(c);
	}
	struct wrapd_conf *c = load_ok("services:\n  - name: smtp\n"
	                               "    listen: [\"0.0.0.0:25\"]\n"
	                               "    backend: \"127.0.0.1:2525\"\n"
	                               "  - name: sub\n"
	                               "    listen: [\"0.0.0.0:2587\"]\n"
	                               "    backend: \"[::1]:587\"\n");
	assert_int_equal(warnings(c), 2);
	assert_int_equal(c->warnings->v[0].line, 2);
	assert_non_null(strstr(c->warnings->v[0].msg,
	    "service \"smtp\": a mail service forwarded to 127.0.0.1:2525 "
	    "without the client"));
	assert_non_null(strstr(c->warnings->v[1].msg, "relays for anyone"));
	conf_free(c);
}

/* The shipped examples load without an error or a warning. */
static void
test_examples(void **state)
{
	(void)state;
	static const char *const files[] = {"wrapd.yaml.example",
	    "examples/ftp.yaml", "examples/smtp.yaml", "examples/lpd.yaml"};
	char path[512];

	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		struct conf_errs e = {0};
		snprintf(path, sizeof path, "%s/contrib/%s", WRAPD_SOURCE_DIR,
		    files[i]);
		struct wrapd_conf *c = conf_load_file(path, &e);
		conf_errs_print(&e, stderr);
		assert_non_null(c);
		if (warnings(c) != 0)
			conf_errs_print(c->warnings, stderr);
		assert_int_equal(warnings(c), 0);
		conf_free(c);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_keys),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_mail_warning),
	    cmocka_unit_test(test_examples),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
