/*
 * fuzz_proxy_header.c - proxy_header_parse() on arbitrary bytes.
 *
 * Checks: memory safety (ASan, an exact-size heap copy); a header found
 * is no longer than the input and than PROXY_HEADER_MAX; every shorter
 * prefix of it says "not complete yet" (so a header arriving byte by byte
 * is read the same as one arriving whole, and never taken early); the
 * same bytes parse the same way twice; a refusal always has a reason; a
 * PROXY (not LOCAL) header always names an IPv4 or IPv6 client.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxy_header.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proxy_header h, h2;
	const char *why, *why2;
	uint8_t *buf;
	int rc, rc2;
	size_t k;

	if (size > 2 * PROXY_HEADER_MAX)
		size = 2 * PROXY_HEADER_MAX;
	if ((buf = malloc(size ? size : 1)) == NULL)
		return 0;
	if (size > 0)
		memcpy(buf, data, size);
	rc = proxy_header_parse(buf, size, &h, &why);
	if (rc < 0 && why == NULL)
		abort();
	if (rc > 0) {
		if ((size_t)rc > size || rc > PROXY_HEADER_MAX)
			abort();
		if (!h.local && h.src.family != AF_INET &&
		    h.src.family != AF_INET6)
			abort();
		if (h.version != 1 && h.version != 2)
			abort();
		for (k = 0; k < (size_t)rc; k++)
			if (proxy_header_parse(buf, k, &h2, &why2) != 0)
				abort();
		rc2 = proxy_header_parse(buf, (size_t)rc, &h2, &why2);
		if (rc2 != rc || memcmp(&h, &h2, sizeof(h)) != 0)
			abort();
	}
	free(buf);
	return 0;
}
