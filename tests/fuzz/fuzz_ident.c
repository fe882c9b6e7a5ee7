/*
 * fuzz_ident.c - ident_parse_reply() on arbitrary bytes.
 *
 * Input: 2 bytes client port, 2 bytes server port (big-endian), 1 byte
 * user buffer size, then the reply.  Ports from the input let the fuzzer
 * reach the accepting path; the buffer size checks truncation at every
 * length.  Checks: on success the user is NUL-terminated within the
 * buffer, non-empty unless the buffer has room for nothing, and holds no
 * white space or NUL.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "lookup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char user[ACL_STRING_MAX + 1];
	unsigned cport, sport;
	size_t usersz, n;
	char *reply;

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
	if (ident_parse_reply(reply, n, cport, sport, user, usersz) == 0) {
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
	free(reply);
	return 0;
}
