/*
 * test_log.c - the per-connection line's escaping: host names and ident
 * users come from the network, so they must not be able to forge fields
 * (spaces, '='), quotes or lines (control bytes), in text or JSON.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "log.h"

static const char *
kv(const char *s)
{
	static char buf[512];
	struct log_buf b = { buf, 0, sizeof(buf) };

	buf[0] = '\0';
	log_buf_kv_str(&b, s);
	return buf;
}

static const char *
js(const char *s)
{
	static char buf[512];
	struct log_buf b = { buf, 0, sizeof(buf) };

	buf[0] = '\0';
	log_buf_json_str(&b, s);
	return buf;
}

static void
test_kv_plain(void **state)
{
	(void)state;
	assert_string_equal(kv("host.example.com"), "host.example.com");
	assert_string_equal(kv("alice"), "alice");
	assert_string_equal(kv("/etc/hosts.allow:3"), "/etc/hosts.allow:3");
}

static void
test_kv_hostile(void **state)
{
	(void)state;
	/* A space and '=' would start a new key=value field. */
	assert_string_equal(kv("x verdict=grant"), "\"x verdict=grant\"");
	assert_string_equal(kv("a\"b\\c"), "\"a\\\"b\\\\c\"");
	/* A newline would start a new log line. */
	assert_string_equal(kv("evil\nconn=1"), "\"evil\\x0aconn=1\"");
	assert_string_equal(kv("\x7f\xff"), "\"\\x7f\\xff\"");
	/* Empty is quoted so the field still has a value. */
	assert_string_equal(kv(""), "\"\"");
}

static void
test_json(void **state)
{
	(void)state;
	assert_string_equal(js("plain"), "\"plain\"");
	assert_string_equal(js("q\"b\\"), "\"q\\\"b\\\\\"");
	assert_string_equal(js("nl\n\x01"), "\"nl\\n\\u0001\"");
	/* UTF-8 stays UTF-8 (as in `wrapd match --json`: the same escaper);
	 * a byte that is not UTF-8 becomes U+FFFD, never a Latin-1 guess. */
	assert_string_equal(js("\xc3\xa9"), "\"\xc3\xa9\"");
	assert_string_equal(js("a\xff\xc3"), "\"a\\ufffd\\ufffd\"");
}

static void
test_truncation(void **state)
{
	char small[8];
	struct log_buf b = { small, 0, sizeof(small) };

	(void)state;
	small[0] = '\0';
	log_buf_printf(&b, "%s", "0123456789abcdef");
	assert_int_equal(b.len, sizeof(small) - 1);
	assert_int_equal(small[sizeof(small) - 1], '\0');
	log_buf_kv_str(&b, "more text");
	assert_int_equal(b.len, sizeof(small) - 1);
	assert_int_equal(strlen(small), sizeof(small) - 1);
}

static void
test_facility(void **state)
{
	(void)state;
	assert_true(log_facility_parse("daemon") >= 0);
	assert_true(log_facility_parse("local7") >= 0);
	assert_int_equal(log_facility_parse("nonsense"), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kv_plain),
		cmocka_unit_test(test_kv_hostile),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_facility),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
