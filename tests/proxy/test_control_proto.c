/*
 * test_control_proto.c - the control socket's protocol (control_proto.c):
 * requests as the server reads them (byte by byte too), records as the
 * server writes them and the client reads them back, and the hostile
 * lines a client must refuse.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "control_proto.h"

static int
req(const char *s, enum control_cmd *cmd)
{
	const char *why = NULL;
	int rc = control_proto_request(s, strlen(s), cmd, &why);

	if (rc < 0)
		assert_non_null(why);
	return rc;
}

static void
test_requests(void **state)
{
	enum control_cmd cmd = 0;
	char big[CONTROL_REQ_MAX + 1];

	(void)state;
	assert_int_equal(req("bans\n", &cmd), 1);
	assert_int_equal(cmd, CONTROL_CMD_BANS);
	assert_int_equal(req("status\r\n", &cmd), 1);
	assert_int_equal(cmd, CONTROL_CMD_STATUS);
	/* Not yet a line: more bytes wanted, whatever the command. */
	assert_int_equal(req("", &cmd), 0);
	assert_int_equal(req("sta", &cmd), 0);
	assert_int_equal(req("bogus", &cmd), 0);
	/* Refused at once. */
	assert_int_equal(req("bogus\n", &cmd), -1);
	assert_int_equal(req("BANS\n", &cmd), -1);
	assert_int_equal(req("bans \n", &cmd), -1);
	assert_int_equal(req("\n", &cmd), -1);
	assert_int_equal(req("ba\rns\n", &cmd), -1);
	assert_int_equal(req("ba\x01", &cmd), -1);
	assert_int_equal(req("bans\nstatus\n", &cmd), -1);
	assert_int_equal(
	    control_proto_request("ba\0s\n", 5, &cmd, &(const char *){NULL}),
	    -1);
	/* Long lines: refused once CONTROL_REQ_MAX bytes have no LF. */
	memset(big, 'a', sizeof(big));
	assert_int_equal(control_proto_request(big, CONTROL_REQ_MAX - 1, &cmd,
	                     &(const char *){NULL}),
	    0);
	assert_int_equal(control_proto_request(
	                     big, CONTROL_REQ_MAX, &cmd, &(const char *){NULL}),
	    -1);
	big[CONTROL_REQ_MAX - 1] = '\n';
	assert_int_equal(control_proto_request(
	                     big, CONTROL_REQ_MAX, &cmd, &(const char *){NULL}),
	    -1); /* unknown, but within bounds */
	/* What the clients send is what the server takes. */
	assert_int_equal(
	    req(control_proto_request_text(CONTROL_CMD_BANS), &cmd), 1);
	assert_int_equal(cmd, CONTROL_CMD_BANS);
	assert_int_equal(
	    req(control_proto_request_text(CONTROL_CMD_STATUS), &cmd), 1);
	assert_int_equal(cmd, CONTROL_CMD_STATUS);
}

/* Any value but NUL survives the trip, and the line stays one line of
 * printable ASCII. */
static void
test_round_trip(void **state)
{
	static const char *const values[] = {"plain", "", "a b", "k=v", "100%",
	    "line\nbreak\r", "\t\x01\x7f", "caf\xc3\xa9", "\xff\xfe",
	    "[::1]:22", "systemd:x(fd 3)"};
	static struct control_record r;
	struct control_buf b = {0};
	size_t i, len;

	(void)state;
	control_proto_buf_record(&b, "ban");
	for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		char key[8];

		snprintf(key, sizeof(key), "k%zu", i);
		control_proto_buf_str(&b, key, values[i]);
	}
	control_proto_buf_u64(&b, "n", UINT64_MAX);
	control_proto_buf_i64(&b, "m", -5);
	control_proto_buf_end(&b);
	assert_false(b.failed);
	len = strlen(b.p);
	assert_int_equal(b.p[len - 1], '\n');
	for (i = 0; i + 1 < len; i++)
		assert_true(b.p[i] >= 0x20 && b.p[i] < 0x7f);
	assert_int_equal(control_proto_record(b.p, len - 1, &r), 0);
	assert_string_equal(r.type, "ban");
	assert_int_equal(r.n, sizeof(values) / sizeof(values[0]) + 2);
	for (i = 0; i < sizeof(values) / sizeof(values[0]); i++)
		assert_string_equal(r.f[i].value, values[i]);
	assert_string_equal(
	    control_proto_record_get(&r, "n"), "18446744073709551615");
	assert_string_equal(control_proto_record_get(&r, "m"), "-5");
	assert_null(control_proto_record_get(&r, "nope"));
	control_proto_buf_free(&b);
}

static int
rec(const char *line)
{
	static struct control_record r;

	return control_proto_record(line, strlen(line), &r);
}

static void
test_hostile_records(void **state)
{
	static char line[CONTROL_LINE_MAX + 16];
	size_t i, o;

	(void)state;
	assert_int_equal(rec("t"), 0);
	assert_int_equal(rec("t a=b c="), 0);
	assert_int_equal(rec("t a=%41%6a"), 0);
	assert_int_equal(rec(""), -1);
	assert_int_equal(rec(" t"), -1);
	assert_int_equal(rec("T a=b"), -1);
	assert_int_equal(rec("t a"), -1);
	assert_int_equal(rec("t =b"), -1);
	assert_int_equal(rec("t a=b "), -1);
	assert_int_equal(rec("t a=b  c=d"), -1);
	assert_int_equal(rec("t a=b=c"), -1);
	assert_int_equal(rec("t a=%4"), -1);
	assert_int_equal(rec("t a=%zz"), -1);
	assert_int_equal(rec("t a=%00"), -1); /* no NUL in a value */
	assert_int_equal(rec("t a=b\tc"), -1);
	assert_int_equal(rec("t a=b\x80"), -1);
	assert_int_equal(rec("t aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=1"), -1);
	/* At most CONTROL_FIELDS_MAX fields. */
	o = (size_t)snprintf(line, sizeof(line), "t");
	for (i = 0; i < CONTROL_FIELDS_MAX; i++)
		o += (size_t)snprintf(line + o, sizeof(line) - o, " k%zu=v", i);
	assert_int_equal(rec(line), 0);
	snprintf(line + o, sizeof(line) - o, " x=y");
	assert_int_equal(rec(line), -1);
	/* At most CONTROL_LINE_MAX - 1 bytes. */
	memset(line, 'a', sizeof(line));
	memcpy(line, "t v=", 4);
	line[CONTROL_LINE_MAX - 1] = '\0';
	assert_int_equal(rec(line), 0);
	line[CONTROL_LINE_MAX - 1] = 'a';
	line[CONTROL_LINE_MAX] = '\0';
	assert_int_equal(rec(line), -1);
}

static void
test_numbers(void **state)
{
	(void)state;
	assert_true(control_proto_is_number("0"));
	assert_true(control_proto_is_number("18446744073709551615"));
	assert_true(control_proto_is_number("-5"));
	assert_false(control_proto_is_number(""));
	assert_false(control_proto_is_number("-"));
	assert_false(control_proto_is_number("01"));
	assert_false(control_proto_is_number("1e3"));
	assert_false(control_proto_is_number("100/1s"));
	assert_false(control_proto_is_number("123456789012345678901"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_requests),
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_hostile_records),
	    cmocka_unit_test(test_numbers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
