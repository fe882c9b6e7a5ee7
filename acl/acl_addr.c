/*
 * acl_addr.c - addresses: socket addresses to acl_addr, numeric text, and
 * libwrap's own parsers (dot_quad_addr() over glibc's inet_aton(), which
 * accepts octal and hex parts) reproduced byte for byte.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acl_int.h"

static void
acl_addr_set_v4(struct acl_addr *a, const uint8_t *b4)
{
	memset(a, 0, sizeof(*a));
	a->family = AF_INET;
	memcpy(a->bytes, b4, 4);
}

/* IPv4-mapped IPv6 (::ffff:a.b.c.d) becomes plain IPv4. */
static void
acl_addr_set_v6(struct acl_addr *a, const uint8_t *b16)
{
	static const uint8_t mapped[12] = {
	    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	if (memcmp(b16, mapped, 12) == 0) {
		acl_addr_set_v4(a, b16 + 12);
		return;
	}
	memset(a, 0, sizeof(*a));
	a->family = AF_INET6;
	memcpy(a->bytes, b16, 16);
}

int
acl_addr_from_sockaddr(struct acl_addr *a, const struct sockaddr *sa)
{
	memset(a, 0, sizeof(*a));
	a->family = AF_UNSPEC;
	if (sa == NULL)
		return -1;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		acl_addr_set_v4(a, (const uint8_t *)&in->sin_addr);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 =
		    (const struct sockaddr_in6 *)sa;

		acl_addr_set_v6(a, in6->sin6_addr.s6_addr);
		return 0;
	}
	return -1;
}

socklen_t
acl_addr_to_sockaddr(const struct acl_addr *a, unsigned port, uint32_t scope,
    struct sockaddr_storage *ss)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		memcpy(&s4->sin_addr, a->bytes, 4);
		return sizeof(*s4);
	}
	if (a->family == AF_INET6) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		s6->sin6_scope_id = scope;
		memcpy(&s6->sin6_addr, a->bytes, 16);
		return sizeof(*s6);
	}
	return 0;
}

int
acl_addr_parse(struct acl_addr *a, const char *text)
{
	uint8_t b[16];

	memset(a, 0, sizeof(*a));
	a->family = AF_UNSPEC;
	if (text == NULL)
		return -1;
	if (inet_pton(AF_INET, text, b) == 1) {
		acl_addr_set_v4(a, b);
		return 0;
	}
	if (inet_pton(AF_INET6, text, b) == 1) {
		acl_addr_set_v6(a, b);
		return 0;
	}
	return -1;
}

void
acl_addr_format(const struct acl_addr *a, char *buf, size_t bufsz)
{
	char tmp[INET6_ADDRSTRLEN];

	if (bufsz == 0)
		return;
	if (a->family == AF_INET && bufsz >= 16) {
		/* The hot path of every evaluation: no printf machinery. */
		char *p = buf;
		int i;

		for (i = 0; i < 4; i++) {
			unsigned v = a->bytes[i];

			if (v >= 100)
				*p++ = (char)('0' + v / 100);
			if (v >= 10)
				*p++ = (char)('0' + v / 10 % 10);
			*p++ = (char)('0' + v % 10);
			*p++ = i < 3 ? '.' : '\0';
		}
		return;
	}
	if (a->family == AF_INET)
		inet_ntop(AF_INET, a->bytes, tmp, sizeof tmp);
	else if (a->family == AF_INET6)
		inet_ntop(AF_INET6, a->bytes, tmp, sizeof tmp);
	else
		snprintf(tmp, sizeof tmp, "%s", ACL_UNKNOWN);
	snprintf(buf, bufsz, "%s", tmp);
}

/*
 * glibc's inet_aton(): 1 to 4 parts, each decimal, 0octal or 0xhex; the
 * last part fills the remaining bytes; trailing white space (and anything
 * after it) is ignored.  Returns 0 and the address in host order, or -1.
 */
int
acl__inet_aton4(const char *s, uint32_t *out)
{
	static const uint32_t max[4] = {0xffffffffu, 0xffffffu, 0xffffu, 0xffu};
	uint8_t parts[3];
	unsigned np = 0;
	const char *cp = s;
	unsigned long val = 0;
	bool digit = false;
	int c = (unsigned char)*cp;

	for (;;) {
		char *endp;

		if (c < '0' || c > '9')
			return -1;
		errno = 0;
		val = strtoul(cp, &endp, 0);
		if (val == (unsigned long)-1 && errno == ERANGE)
			return -1;
		if (val > 0xfffffffful)
			return -1;
		digit = cp != endp;
		cp = endp;
		c = (unsigned char)*cp;
		if (c != '.')
			break;
		if (np > 2 || val > 0xff)
			return -1;
		parts[np++] = (uint8_t)val;
		c = (unsigned char)*++cp;
	}
	if (c != '\0' && !(c == ' ' || (c >= '\t' && c <= '\r')))
		return -1;
	if (!digit)
		return -1;
	if (val > max[np])
		return -1;
	uint32_t r = (uint32_t)val;
	for (unsigned i = 0; i < np; i++)
		r |= (uint32_t)parts[i] << (24 - 8 * i);
	*out = r;
	return 0;
}

/*
 * libwrap's dot_quad_addr(): exactly four runs of non-dot characters, then
 * inet_addr(), whose failure value INADDR_NONE (255.255.255.255) is also
 * a failure here.
 */
int
acl__dot_quad(const char *s, uint32_t *out)
{
	unsigned runs = 0;
	bool in_run = false;
	const char *cp;
	uint32_t v;

	for (cp = s; *cp != '\0'; cp++) {
		if (*cp == '.') {
			in_run = false;
		} else if (!in_run) {
			in_run = true;
			runs++;
		}
	}
	if (runs != 4 || acl__inet_aton4(s, &v) != 0 || v == 0xffffffffu)
		return -1;
	*out = v;
	return 0;
}

/* Numeric IPv6 (inet_pton) from a counted string. */
int
acl__parse_v6(const char *s, size_t n, uint8_t out[16])
{
	char buf[INET6_ADDRSTRLEN + 1];

	if (n >= sizeof buf || memchr(s, '\0', n) != NULL)
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return inet_pton(AF_INET6, buf, out) == 1 ? 0 : -1;
}

/*
 * Whether s[0..n) is 1 to 4 canonical decimal octets ("10", "10.1.2.3":
 * no leading zeros, each <= 255), as getnameinfo() prints them.  *parts is
 * the count and *addr the octets placed from the top (host order).
 */
bool
acl__is_canonical_quad(const char *s, size_t n, unsigned *parts, uint32_t *addr)
{
	unsigned np = 0, val = 0, digits = 0;
	uint32_t r = 0;
	size_t i;

	for (i = 0; i <= n; i++) {
		if (i == n || s[i] == '.') {
			if (digits == 0 || np == 4)
				return false;
			r |= (uint32_t)val << (24 - 8 * np);
			np++;
			val = 0;
			digits = 0;
			continue;
		}
		if (s[i] < '0' || s[i] > '9')
			return false;
		if (digits > 0 && val == 0)
			return false; /* leading zero */
		val = val * 10 + (unsigned)(s[i] - '0');
		digits++;
		if (val > 255)
			return false;
	}
	*parts = np;
	*addr = r;
	return true;
}
