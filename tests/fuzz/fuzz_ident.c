/*
 * fuzz_ident.c - lookup_ident_parse_reply() on arbitrary bytes, checked against
 * libwrap's own parse of the same bytes.
 *
 * Input: 2 bytes client port, 2 bytes server port (big-endian), 1 byte
 * user buffer size, then the reply.  Ports from the input let the fuzzer
 * reach the accepting path; the buffer size checks truncation at every
 * length.
 *
 * Checks: memory safety (ASan, exact-size heap copy); on success the user
 * is NUL-terminated within the buffer, non-empty and free of white space;
 * and the answer equals libwrap's
 *	fgets(buf, 512, fp); sscanf(buf, "%u , %u : USERID :%*[^:]:%255s", ...)
 * except where %u's sign handling and wrap-around would turn a number that
 * is not a port into one (we refuse those on purpose).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "lookup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The span [a, b) holds a plain port number: digits only, <= 65535. */
static int
plain_port(const char *a, const char *b)
{
	unsigned long v = 0;

	while (a < b && (*a == ' ' || (*a >= '\t' && *a <= '\r')))
		a++;
	if (a == b)
		return 0;
	for (; a < b; a++) {
		if (*a < '0' || *a > '9')
			return 0;
		v = v * 10 + (unsigned long)(*a - '0');
		if (v > 65535)
			return 0;
	}
	return 1;
}

/* libwrap's verdict; -2 when it parsed a number that is not a port. */
static int
libwrap_parse(const char *reply, size_t n, unsigned cport, unsigned sport,
    char *user, size_t usersz)
{
	char line[512], wuser[256];
	const char *nl;
	unsigned r, l;
	int a0 = -1, a1 = -1, b0 = -1, b1 = -1;

	/* fgets(): up to and including the first LF, at most 511 bytes. */
	if (n > sizeof(line) - 1)
		n = sizeof(line) - 1;
	if ((nl = memchr(reply, '\n', n)) != NULL)
		n = (size_t)(nl - reply) + 1;
	memcpy(line, reply, n);
	line[n] = '\0';
	if (sscanf(line, "%n%u%n , %n%u%n : USERID :%*[^:]:%255s", &a0, &r, &a1,
	        &b0, &l, &b1, wuser) != 3)
		return -1;
	if (!plain_port(line + a0, line + a1) ||
	    !plain_port(line + b0, line + b1))
		return -2;
	if (r != cport || l != sport)
		return -1;
	snprintf(user, usersz, "%s", wuser);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char user[ACL_STRING_MAX + 1], wuser[ACL_STRING_MAX + 1];
	unsigned cport, sport;
	size_t usersz, n;
	char *reply;
	int rc, wrc;

	if (size < 5)
		return 0;
	cport = (unsigned)data[0] << 8 | data[1];
	sport = (unsigned)data[2] << 8 | data[3];
	usersz = 1 + data[4] % ACL_STRING_MAX;
	/* An exact-size heap copy, so ASan sees any read past the end. */
	n = size - 5;
	if ((reply = malloc(n ? n : 1)) == NULL)
		return 0;
	memcpy(reply, data + 5, n);
	memset(user, 'Z', sizeof(user));
	rc = lookup_ident_parse_reply(reply, n, cport, sport, user, usersz);
	if (rc == 0) {
		size_t len = strnlen(user, usersz);

		if (len == usersz)
			abort(); /* not terminated within the buffer */
		if (len == 0 && usersz > 1)
			abort(); /* an empty user must be refused */
		if (strpbrk(user, " \t\r\n\v\f") != NULL)
			abort();
		if (usersz < sizeof(user) && user[usersz] != 'Z')
			abort(); /* wrote past usersz */
	}
	wrc = libwrap_parse(reply, n, cport, sport, wuser, usersz);
	if (wrc != -2) {
		if ((rc == 0) != (wrc == 0))
			abort(); /* we and libwrap disagree on accepting */
		if (rc == 0 && strcmp(user, wuser) != 0)
			abort(); /* or on the user */
	}
	free(reply);
	return 0;
}
