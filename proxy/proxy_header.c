/*
 * proxy_header.c - parse a PROXY protocol v1 or v2 header (proxy_header.h).
 *
 * v1: "PROXY TCP4|TCP6 SRC DST SPORT DPORT\r\n" with single spaces,
 * numeric addresses of the named family and decimal ports without leading
 * zeros, or "PROXY UNKNOWN ...\r\n" (no client address).  Printable ASCII
 * only, at most 107 bytes.
 *
 * v2: the 12-byte signature, version 2, command LOCAL or PROXY, family
 * TCP over IPv4 or IPv6 (PROXY) and a length; then the addresses, then
 * TLVs, each of which must fit exactly; a CRC32C TLV must be 4 bytes and
 * match.  UDP, UNIX and UNSPEC addresses under PROXY are refused: wrapd
 * decides TCP clients by IP address.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "proxy_header.h"

static const uint8_t proxy_header_sig[12] = {
    0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a};
static const char proxy_header_v1_sig[6] = {'P', 'R', 'O', 'X', 'Y', ' '};

#define PROXY_HEADER_TLV_CRC32C 0x03

static int
proxy_header_fail(const char **why, const char *reason)
{
	*why = reason;
	return -1;
}

/* Fill *a from 4 or 16 network-order bytes (v4-mapped becomes IPv4). */
static void
proxy_header_addr(struct acl_addr *a, int family, const uint8_t *p)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET) {
		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, p, 4);
	} else {
		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, p, 16);
	}
	(void)acl_addr_from_sockaddr(a, (struct sockaddr *)&ss);
}

/* An address that names no client: 0.0.0.0 or ::. */
static int
proxy_header_unspecified(const struct acl_addr *a)
{
	static const uint8_t zero[16];

	return memcmp(a->bytes, zero, a->family == AF_INET ? 4 : 16) == 0;
}

/* A decimal port: 1 to 5 digits, no leading zero (but "0"), <= 65535. */
static int
proxy_header_v1_port(const char *s, size_t len, uint16_t *port)
{
	unsigned long v = 0;
	size_t i;

	if (len == 0 || len > 5 || (len > 1 && s[0] == '0'))
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

/* Split [s, s+len) at single spaces into at most max fields. */
static size_t
proxy_header_v1_fields(
    const char *s, size_t len, const char **f, size_t *flen, size_t max)
{
	size_t n = 0, start = 0, i;

	for (i = 0; i <= len; i++) {
		if (i < len && s[i] != ' ')
			continue;
		if (n == max)
			return max + 1;
		f[n] = s + start;
		flen[n] = i - start;
		n++;
		start = i + 1;
	}
	return n;
}

static int
proxy_header_v1_addr(const char *s, size_t len, int family, struct acl_addr *a)
{
	char text[INET6_ADDRSTRLEN];
	uint8_t bytes[16];

	if (len == 0 || len >= sizeof(text))
		return -1;
	memcpy(text, s, len);
	text[len] = '\0';
	if (inet_pton(family, text, bytes) != 1)
		return -1;
	proxy_header_addr(a, family, bytes);
	return 0;
}

static int
proxy_header_v1(
    const uint8_t *buf, size_t n, struct proxy_header *h, const char **why)
{
	const char *f[6];
	size_t flen[6], i, end, nf;
	int family;

	for (i = 0; i < n && i < PROXY_HEADER_V1_MAX; i++) {
		if (buf[i] == '\r')
			break;
		if (buf[i] < 0x20 || buf[i] > 0x7e)
			return proxy_header_fail(why, "v1: not printable text");
	}
	if (i == PROXY_HEADER_V1_MAX || i + 1 == PROXY_HEADER_V1_MAX)
		return proxy_header_fail(why, "v1: longer than 107 bytes");
	if (i + 1 >= n)
		return 0; /* no CR LF yet */
	if (buf[i + 1] != '\n')
		return proxy_header_fail(why, "v1: CR without LF");
	end = i;
	h->version = 1;
	if (end >= 13 && memcmp(buf + 6, "UNKNOWN", 7) == 0 &&
	    (end == 13 || buf[13] == ' ')) {
		h->local = 1;
		return (int)(end + 2);
	}
	nf = proxy_header_v1_fields((const char *)buf + 6, end - 6, f, flen, 5);
	if (nf != 5)
		return proxy_header_fail(why, "v1: not 5 fields");
	if (flen[0] == 4 && memcmp(f[0], "TCP4", 4) == 0)
		family = AF_INET;
	else if (flen[0] == 4 && memcmp(f[0], "TCP6", 4) == 0)
		family = AF_INET6;
	else
		return proxy_header_fail(why, "v1: protocol not TCP4 or TCP6");
	if (proxy_header_v1_addr(f[1], flen[1], family, &h->src) < 0 ||
	    proxy_header_v1_addr(f[2], flen[2], family, &h->dst) < 0)
		return proxy_header_fail(
		    why, "v1: address not of the protocol's family");
	if (proxy_header_v1_port(f[3], flen[3], &h->sport) < 0 ||
	    proxy_header_v1_port(f[4], flen[4], &h->dport) < 0)
		return proxy_header_fail(why, "v1: bad port");
	return (int)(end + 2);
}

/* CRC-32C (Castagnoli), bit by bit: headers are short and rare. */
static uint32_t
proxy_header_crc32c(uint32_t crc, const uint8_t *p, size_t n)
{
	int k;

	crc = ~crc;
	while (n-- > 0) {
		crc ^= *p++;
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82f63b78u & (0u - (crc & 1u)));
	}
	return ~crc;
}

/* The CRC32C TLV's value (at off in buf) matches the header's CRC. */
static int
proxy_header_v2_crc_ok(const uint8_t *buf, size_t total, size_t off)
{
	uint8_t copy[PROXY_HEADER_MAX];
	uint32_t want, got;

	memcpy(copy, buf, total);
	want = (uint32_t)buf[off] << 24 | (uint32_t)buf[off + 1] << 16 |
	    (uint32_t)buf[off + 2] << 8 | buf[off + 3];
	memset(copy + off, 0, 4);
	got = proxy_header_crc32c(0, copy, total);
	return got == want;
}

/* The TLVs in [off, total): each fits, and a CRC32C TLV matches. */
static int
proxy_header_v2_tlvs(
    const uint8_t *buf, size_t off, size_t total, const char **why)
{
	size_t len;

	while (off < total) {
		if (total - off < 3)
			return proxy_header_fail(why, "v2: TLV cut short");
		len = (size_t)buf[off + 1] << 8 | buf[off + 2];
		if (len > total - off - 3)
			return proxy_header_fail(why,
			    "v2: TLV longer than the "
			    "header");
		if (buf[off] == PROXY_HEADER_TLV_CRC32C &&
		    (len != 4 || !proxy_header_v2_crc_ok(buf, total, off + 3)))
			return proxy_header_fail(why, "v2: CRC32C mismatch");
		off += 3 + len;
	}
	return 0;
}

static int
proxy_header_v2(
    const uint8_t *buf, size_t n, struct proxy_header *h, const char **why)
{
	size_t len, total, alen;
	int family, cmd;

	if (n < 16)
		return 0;
	if ((buf[12] >> 4) != 2)
		return proxy_header_fail(why, "v2: version not 2");
	cmd = buf[12] & 0x0f;
	if (cmd > 1)
		return proxy_header_fail(why, "v2: unknown command");
	len = (size_t)buf[14] << 8 | buf[15];
	total = 16 + len;
	if (total > PROXY_HEADER_MAX)
		return proxy_header_fail(why, "v2: longer than wrapd takes");
	if (n < total)
		return 0;
	h->version = 2;
	if (cmd == 0) {
		/* LOCAL: the balancer speaking for itself; no client. */
		h->local = 1;
		return (int)total;
	}
	switch (buf[13]) {
	case 0x11: /* TCP over IPv4 */
		family = AF_INET;
		alen = 4;
		break;
	case 0x21: /* TCP over IPv6 */
		family = AF_INET6;
		alen = 16;
		break;
	default:
		return proxy_header_fail(why, "v2: not TCP over IPv4 or IPv6");
	}
	if (len < 2 * alen + 4)
		return proxy_header_fail(why, "v2: addresses cut short");
	proxy_header_addr(&h->src, family, buf + 16);
	proxy_header_addr(&h->dst, family, buf + 16 + alen);
	h->sport = (uint16_t)(buf[16 + 2 * alen] << 8 | buf[17 + 2 * alen]);
	h->dport = (uint16_t)(buf[18 + 2 * alen] << 8 | buf[19 + 2 * alen]);
	if (proxy_header_v2_tlvs(buf, 16 + 2 * alen + 4, total, why) < 0)
		return -1;
	return (int)total;
}

int
proxy_header_parse(
    const uint8_t *buf, size_t n, struct proxy_header *h, const char **why)
{
	size_t k;
	int rc;

	memset(h, 0, sizeof(*h));
	*why = NULL;
	if (n == 0)
		return 0;
	k = n < sizeof(proxy_header_v1_sig) ? n : sizeof(proxy_header_v1_sig);
	if (memcmp(buf, proxy_header_v1_sig, k) == 0) {
		if (n < sizeof(proxy_header_v1_sig))
			return 0;
		rc = proxy_header_v1(buf, n, h, why);
	} else {
		k = n < sizeof(proxy_header_sig) ? n : sizeof(proxy_header_sig);
		if (memcmp(buf, proxy_header_sig, k) != 0)
			return proxy_header_fail(why, "no PROXY header");
		rc = proxy_header_v2(buf, n, h, why);
	}
	if (rc > 0 && !h->local &&
	    (proxy_header_unspecified(&h->src) || h->src.family == AF_UNSPEC))
		return proxy_header_fail(why, "unspecified client address");
	return rc;
}
