/*
 * proxy_header.h - the PROXY protocol header (haproxy's
 * proxy-protocol.txt, v1 text and v2 binary) that a load balancer puts in
 * front of a connection, parsed from bytes (proxy_header.c, pure: no I/O,
 * no allocation; fuzzed by tests/fuzz/fuzz_proxy_header.c).  Reading it
 * from the socket is accept_proxy.c's job.
 *
 * Everything in a header is hostile: lengths, families, addresses and
 * TLVs are checked, and anything that is not exactly a header is refused
 * (never skipped over, never taken in part).
 */
#ifndef WRAPD_PROXY_HEADER_H
#define WRAPD_PROXY_HEADER_H

#include <stddef.h>
#include <stdint.h>

#include "acl.h"

/* The longest header wrapd reads: a v1 line is at most 107 bytes; a v2
 * header with its TLVs longer than this is refused. */
#define PROXY_HEADER_MAX    1024
/* A v1 line, CR LF included, is at most this long (the spec's limit). */
#define PROXY_HEADER_V1_MAX 107

struct proxy_header {
	int version; /* 1 or 2 */
	int local;   /* v2 LOCAL or v1 UNKNOWN: no client address */
	struct acl_addr src, dst; /* the client and the address it reached */
	uint16_t sport, dport;
};

/*
 * Parse the n bytes at buf, the first bytes of a connection:
 *   > 0  a complete, valid header of that many bytes (*h filled);
 *   0    not complete yet, and nothing so far rules a header out;
 *   -1   not a valid header (*why: a static reason for the log).
 * A header that would be longer than PROXY_HEADER_MAX is -1.
 */
int proxy_header_parse(
    const uint8_t *buf, size_t n, struct proxy_header *h, const char **why);

#endif /* WRAPD_PROXY_HEADER_H */
