/*
 * fuzz_audit_proc.c - `wrapd audit`'s parser of /proc/net/{tcp,udp}{,6}
 * lines (audit_proc_parse_line) on arbitrary bytes.  The first byte picks
 * the protocol and family, the rest is one line.
 *
 * Checks: memory safety (ASan, an exact-size heap copy), and what the
 * parser promises: a line it takes has its family, and an IPv4 address
 * only in the first 4 bytes.
 */
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "audit_proc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct audit_proc_sock s;
	bool listening = false;
	int proto, family;
	char *line;

	if (size < 1)
		return 0;
	proto = data[0] & 1 ? IPPROTO_UDP : IPPROTO_TCP;
	family = data[0] & 2 ? AF_INET6 : AF_INET;
	if ((line = malloc(size)) == NULL)
		return 0;
	memcpy(line, data + 1, size - 1);
	line[size - 1] = '\0';
	memset(&s, 0xa5, sizeof s);
	if (audit_proc_parse_line(line, proto, family, &s, &listening) == 0) {
		static const unsigned char zero[12];

		if (s.family != family || s.proto != proto)
			abort();
		if (family == AF_INET && memcmp(s.addr + 4, zero, 12) != 0)
			abort();
	}
	free(line);
	return 0;
}
