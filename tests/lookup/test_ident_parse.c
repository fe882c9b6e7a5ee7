/*
 * test_ident_parse.c - lookup_ident_parse_reply() against good and bad RFC 1413
 * replies.  The expected answers follow libwrap's
 *	sscanf(line, "%u , %u : USERID :%*[^:]:%255s", ...)
 * on the first line (semantics E4), which the oracle test below also runs
 * directly, so the table cannot drift from what libwrap accepts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "acl.h"
#include "lookup.h"

struct reply_case {
	const char *reply;
	size_t len; /* 0: strlen(reply) */
	unsigned cport, sport;
	const char *user; /* NULL: must be rejected */
};

static const struct reply_case cases[] = {
    /* Well-formed, as oidentd sends it (no blanks). */
    {"38312,21:USERID:UNIX:nobody\r\n", 0, 38312, 21, "nobody"},
    /* RFC 1413's own example layout, with blanks. */
    {"6193, 23 : USERID : UNIX : stjohns\r\n", 0, 6193, 23, "stjohns"},
    {"  6193 ,   23   :   USERID   :UNIX:   joe   \r\n", 0, 6193, 23, "joe"},
    {"6193\t,\t23\t:\tUSERID\t:UNIX:\tjoe\r\n", 0, 6193, 23, "joe"},
    /* OS with a charset. */
    {"1,2:USERID:UNIX,US-ASCII:alice\r\n", 0, 1, 2, "alice"},
    {"1,2:USERID:OTHER , UTF-8 :bob\n", 0, 1, 2, "bob"},
    /* First word only; the rest is ignored. */
    {"1,2:USERID:UNIX:carol extra words\r\n", 0, 1, 2, "carol"},
    /* Only LF, no CR; and no newline at all (the caller decides on EOF). */
    {"1,2:USERID:UNIX:dave\n", 0, 1, 2, "dave"},
    {"1,2:USERID:UNIX:erin", 0, 1, 2, "erin"},
    /* Leading zeros are numbers all the same. */
    {"00080,0443:USERID:UNIX:frank\r\n", 0, 80, 443, "frank"},
    /* A user may contain colons and odd bytes, but no white space. */
    {"1,2:USERID:UNIX:a:b\r\n", 0, 1, 2, "a:b"},
    {"1,2:USERID:UNIX:\x01\xff\x7f$(rm)\r\n", 0, 1, 2, "\x01\xff\x7f$(rm)"},
    /* Only the first line counts. */
    {"1,2:USERID:UNIX:first\r\n1,2:USERID:UNIX:second\r\n", 0, 1, 2, "first"},

    /* ERROR replies. */
    {"1,2:ERROR:NO-USER\r\n", 0, 1, 2, NULL},
    {"1,2:ERROR:UNKNOWN-ERROR\r\n", 0, 1, 2, NULL},
    {"1 , 2 : ERROR : HIDDEN-USER\r\n", 0, 1, 2, NULL},
    /* Wrong, swapped or missing ports. */
    {"38312,2121:USERID:UNIX:root\r\n", 0, 38312, 21, NULL},
    {"21,38312:USERID:UNIX:nobody\r\n", 0, 38312, 21, NULL},
    {",21:USERID:UNIX:nobody\r\n", 0, 38312, 21, NULL},
    {"38312:USERID:UNIX:nobody\r\n", 0, 38312, 21, NULL},
    /* A port that only matches after wrapping is no match. */
    {"65537,2:USERID:UNIX:x\r\n", 0, 1, 2, NULL},
    {"4294967297,2:USERID:UNIX:x\r\n", 0, 1, 2, NULL},
    {"99999999999999999999999,2:USERID:UNIX:x\r\n", 0, 1, 2, NULL},
    /* Signs are not digits. */
    {"-1,2:USERID:UNIX:x\r\n", 0, 1, 2, NULL},
    /* USERID is case-sensitive in libwrap, and must be the keyword. */
    {"1,2:userid:UNIX:x\r\n", 0, 1, 2, NULL},
    {"1,2:USERIDX:UNIX:x\r\n", 0, 1, 2, NULL},
    {"1,2:USER ID:UNIX:x\r\n", 0, 1, 2, NULL},
    /* Empty OS field, missing fields, empty user. */
    {"1,2:USERID::x\r\n", 0, 1, 2, NULL},
    {"1,2:USERID:UNIX\r\n", 0, 1, 2, NULL},
    {"1,2:USERID:UNIX:\r\n", 0, 1, 2, NULL},
    {"1,2:USERID:UNIX:   \r\n", 0, 1, 2, NULL},
    {"1,2:USERID\r\n", 0, 1, 2, NULL},
    {"", 0, 1, 2, NULL},
    {"\r\n", 0, 1, 2, NULL},
    /* The user on the second line does not count. */
    {"1,2:USERID:UNIX:\nbob\r\n", 0, 1, 2, NULL},
    /* A NUL ends the reply, as it ends sscanf's input. */
    {"1,2:USERID:UNIX:\0mallory\r\n", 26, 1, 2, NULL},
    {"1,2:US\0ERID:UNIX:mallory\r\n", 26, 1, 2, NULL},
    {"1,2:USERID:UNIX:ab\0cd\r\n", 23, 1, 2, "ab"},
    /* Garbage. */
    {"HTTP/1.0 400 Bad Request\r\n", 0, 1, 2, NULL},
    {":::::::\r\n", 0, 1, 2, NULL},
};

static void
test_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct reply_case *c = &cases[i];
		size_t len = c->len ? c->len : strlen(c->reply);
		char user[ACL_STRING_MAX];
		int rc;

		memset(user, 'Z', sizeof(user));
		rc = lookup_ident_parse_reply(
		    c->reply, len, c->cport, c->sport, user, sizeof(user));
		if (c->user == NULL) {
			if (rc != -1)
				fail_msg(
				    "case %zu accepted, user \"%s\"", i, user);
		} else {
			if (rc != 0)
				fail_msg("case %zu rejected", i);
			assert_string_equal(user, c->user);
		}
	}
}

/*
 * The same table through libwrap's own sscanf format: wherever libwrap
 * would accept (with fgets' view of the first line, no NUL), we must give
 * the same user, and reject where it rejects.  Replies with embedded NULs
 * are compared on the part before the NUL, which is all sscanf sees.
 */
static void
test_libwrap_format(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct reply_case *c = &cases[i];
		char line[512], wuser[256], user[ACL_STRING_MAX];
		unsigned r = 0, l = 0;
		const char *nl;
		size_t n;
		int ok, rc;

		n = strlen(c->reply); /* up to the first NUL */
		if ((nl = memchr(c->reply, '\n', n)) != NULL)
			n = (size_t)(nl - c->reply) + 1;
		memcpy(line, c->reply, n);
		line[n] = '\0';
		ok = sscanf(line, "%u , %u : USERID :%*[^:]:%255s", &r, &l,
		         wuser) == 3 &&
		    r == c->cport && l == c->sport;
		rc = lookup_ident_parse_reply(c->reply, strlen(c->reply), c->cport,
		    c->sport, user, sizeof(user));
		/*
		 * Known, deliberate difference: %u wraps 2^32+1 to 1; we
		 * refuse numbers that are not port numbers.
		 */
		if (strncmp(line, "4294967297", 10) == 0)
			continue;
		if (ok != (rc == 0))
			fail_msg("case %zu: libwrap %s, we %s", i,
			    ok ? "accepts" : "rejects",
			    rc == 0 ? "accept" : "reject");
		if (ok)
			assert_string_equal(user, wuser);
	}
}

/* The user is truncated to the buffer, and to 255 bytes before that. */
static void
test_truncation(void **state)
{
	char reply[2048], user[ACL_STRING_MAX], big[1024];
	size_t n;

	(void)state;
	memset(big, 'u', 300);
	big[300] = '\0';
	n = (size_t)snprintf(
	    reply, sizeof(reply), "7,8:USERID:UNIX:%s\r\n", big);
	assert_int_equal(
	    lookup_ident_parse_reply(reply, n, 7, 8, user, sizeof(user)), 0);
	assert_int_equal(strlen(user), ACL_STRING_MAX - 1);
	assert_memory_equal(user, big, ACL_STRING_MAX - 1);

	/* A big buffer still gets at most the 255 bytes libwrap reads. */
	assert_int_equal(
	    lookup_ident_parse_reply(reply, n, 7, 8, big, sizeof(big)), 0);
	assert_int_equal(strlen(big), 255);

	/* Tiny buffers: size 1 gives "", size 0 is refused. */
	assert_int_equal(lookup_ident_parse_reply(reply, n, 7, 8, user, 1), 0);
	assert_string_equal(user, "");
	assert_int_equal(lookup_ident_parse_reply(reply, n, 7, 8, user, 0), -1);
}

/*
 * libwrap reads one fgets() buffer: 511 bytes.  A user that starts beyond
 * that is not seen; one that straddles it is cut there.
 */
static void
test_line_limit(void **state)
{
	char reply[8192], user[ACL_STRING_MAX];
	size_t n;

	(void)state;
	n = (size_t)snprintf(
	    reply, sizeof(reply), "7,8:USERID:UNIX%*s:x\r\n", 600, "");
	assert_int_equal(
	    lookup_ident_parse_reply(reply, n, 7, 8, user, sizeof(user)), -1);
	/* "7,8:USERID:UNIX" is 15 bytes; pad so that the user starts at 509. */
	n = (size_t)snprintf(
	    reply, sizeof(reply), "7,8:USERID:UNIX%*s:abcdef\r\n", 493, "");
	assert_int_equal(
	    lookup_ident_parse_reply(reply, n, 7, 8, user, sizeof(user)), 0);
	assert_string_equal(user, "ab");
	/* 8 KiB of anything, no newline: bounded, rejected. */
	memset(reply, 'A', sizeof(reply));
	assert_int_equal(
	    lookup_ident_parse_reply(reply, sizeof(reply), 7, 8, user, sizeof(user)),
	    -1);
	/* NULL input is refused, not dereferenced. */
	assert_int_equal(
	    lookup_ident_parse_reply(NULL, 5, 7, 8, user, sizeof(user)), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table),
	    cmocka_unit_test(test_libwrap_format),
	    cmocka_unit_test(test_truncation),
	    cmocka_unit_test(test_line_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
