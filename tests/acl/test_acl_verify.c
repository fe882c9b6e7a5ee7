/*
 * test_acl_verify.c - the double-reverse decision (semantics E2), on
 * hand-built forward results: no DNS involved.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include "acl_test.h"

struct fwd {
	struct addrinfo ai[3];
	struct sockaddr_in6 sa[3];
};

/* Build a forward result list from numeric addresses (NULL-terminated). */
static const struct addrinfo *
mkfwd(struct fwd *f, const char *canon, const char *a0, const char *a1,
    uint32_t scope)
{
	const char *addrs[2] = {a0, a1};
	int i, n = 0;

	memset(f, 0, sizeof(*f));
	for (i = 0; i < 2 && addrs[i] != NULL; i++, n++) {
		struct addrinfo *ai = &f->ai[i];

		if (strchr(addrs[i], ':') != NULL) {
			struct sockaddr_in6 *s6 = &f->sa[i];

			s6->sin6_family = AF_INET6;
			s6->sin6_scope_id = scope;
			inet_pton(AF_INET6, addrs[i], &s6->sin6_addr);
			ai->ai_family = AF_INET6;
			ai->ai_addrlen = sizeof(*s6);
		} else {
			struct sockaddr_in *s4 =
			    (struct sockaddr_in *)&f->sa[i];

			s4->sin_family = AF_INET;
			inet_pton(AF_INET, addrs[i], &s4->sin_addr);
			ai->ai_family = AF_INET;
			ai->ai_addrlen = sizeof(*s4);
		}
		ai->ai_addr = (struct sockaddr *)&f->sa[i];
		if (i > 0)
			f->ai[i - 1].ai_next = ai;
	}
	f->ai[0].ai_canonname = (char *)(uintptr_t)canon;
	return n > 0 ? &f->ai[0] : NULL;
}

static const struct sockaddr *
mkaddr(struct sockaddr_in6 *ss, const char *text, uint32_t scope)
{
	memset(ss, 0, sizeof(*ss));
	if (strchr(text, ':') != NULL) {
		ss->sin6_family = AF_INET6;
		ss->sin6_scope_id = scope;
		inet_pton(AF_INET6, text, &ss->sin6_addr);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		inet_pton(AF_INET, text, &s4->sin_addr);
	}
	return (const struct sockaddr *)ss;
}

static void
test_verify(void **state)
{
	struct sockaddr_in6 ss;
	struct fwd f;
	const struct sockaddr *a;
	char name[] = "host.example.com";
	char lname[] = "localhost";
	char num[] = "10.0.0.9";
	char num6[] = "2001:db8::1";
	char short_num[] = "127.1";

	(void)state;
	a = mkaddr(&ss, "10.0.0.1", 0);
	/* No reverse name: unknown. */
	assert_string_equal(acl_verify_name(a, NULL, NULL), ACL_UNKNOWN);
	/* Numeric-looking names: paranoid, whatever the forward says. */
	assert_string_equal(
	    acl_verify_name(a, num, mkfwd(&f, num, "10.0.0.1", NULL, 0)),
	    ACL_PARANOID);
	assert_string_equal(acl_verify_name(a, num6, NULL), ACL_PARANOID);
	assert_string_equal(acl_verify_name(a, short_num, NULL), ACL_PARANOID);
	/* Forward failure. */
	assert_string_equal(acl_verify_name(a, name, NULL), ACL_PARANOID);
	/* Good: the name itself is returned. */
	assert_ptr_equal(
	    acl_verify_name(a, name,
	        mkfwd(&f, "HOST.example.com", "10.0.0.2", "10.0.0.1", 0)),
	    name);
	/* Canonical name differs. */
	assert_string_equal(acl_verify_name(a, name,
	                        mkfwd(&f, "other.com", "10.0.0.1", NULL, 0)),
	    ACL_PARANOID);
	/* ... except for localhost. */
	assert_ptr_equal(acl_verify_name(a, lname,
	                     mkfwd(&f, "ip6-localhost", "10.0.0.1", NULL, 0)),
	    lname);
	/* Address not among the results. */
	assert_string_equal(acl_verify_name(a, name,
	                        mkfwd(&f, name, "10.0.0.2", "10.0.0.3", 0)),
	    ACL_PARANOID);
	/* IPv6: the scope id must match too. */
	a = mkaddr(&ss, "fe80::1", 2);
	assert_ptr_equal(
	    acl_verify_name(a, name, mkfwd(&f, name, "fe80::1", NULL, 2)),
	    name);
	assert_string_equal(
	    acl_verify_name(a, name, mkfwd(&f, name, "fe80::1", NULL, 3)),
	    ACL_PARANOID);
	/* An IPv4-mapped client is checked against IPv4 results. */
	a = mkaddr(&ss, "::ffff:10.0.0.1", 0);
	assert_ptr_equal(
	    acl_verify_name(a, name, mkfwd(&f, name, "10.0.0.1", NULL, 0)),
	    name);
}

/* acl_addr helpers. */
static void
test_addr(void **state)
{
	struct acl_addr a;
	char buf[64];
	struct sockaddr_in6 ss;

	(void)state;
	assert_int_equal(acl_addr_parse(&a, "::ffff:1.2.3.4"), 0);
	assert_int_equal(a.family, AF_INET);
	acl_addr_format(&a, buf, sizeof buf);
	assert_string_equal(buf, "1.2.3.4");
	assert_int_equal(acl_addr_parse(&a, "2001:DB8::0:1"), 0);
	acl_addr_format(&a, buf, sizeof buf);
	assert_string_equal(buf, "2001:db8::1");
	assert_int_equal(acl_addr_parse(&a, "1.2.3"), -1);
	assert_int_equal(a.family, AF_UNSPEC);
	acl_addr_format(&a, buf, sizeof buf);
	assert_string_equal(buf, "unknown");
	assert_int_equal(
	    acl_addr_from_sockaddr(&a, mkaddr(&ss, "::ffff:10.0.0.1", 0)), 0);
	assert_int_equal(a.family, AF_INET);
	assert_int_equal(a.bytes[0], 10);
	ss.sin6_family = AF_UNIX;
	assert_int_equal(
	    acl_addr_from_sockaddr(&a, (const struct sockaddr *)&ss), -1);
	assert_int_equal(a.family, AF_UNSPEC);
}

/* libwrap's own parsers: inet_aton parts and the four-run rule. */
static void
test_dot_quad(void **state)
{
	uint32_t v;

	(void)state;
	assert_int_equal(acl__dot_quad("10.0.0.1", &v), 0);
	assert_int_equal(v, 0x0a000001);
	assert_int_equal(acl__dot_quad("012.0x10.0.1", &v), 0);
	assert_int_equal(v, 0x0a100001);
	assert_int_equal(acl__dot_quad("10.0.1", &v), -1);
	assert_int_equal(acl__dot_quad("10..0.0.1", &v), -1);
	assert_int_equal(acl__dot_quad("10.0.0.256", &v), -1);
	assert_int_equal(acl__dot_quad("08.0.0.1", &v), -1);
	assert_int_equal(acl__dot_quad("255.255.255.255", &v), -1);
	assert_int_equal(acl__dot_quad("1.2.3.4.", &v), -1);
	assert_int_equal(acl__inet_aton4("127.1", &v), 0);
	assert_int_equal(v, 0x7f000001);
	assert_int_equal(acl__inet_aton4("0x7f000001", &v), 0);
	assert_int_equal(acl__inet_aton4("1.2.3.4 junk", &v), 0);
	assert_int_equal(acl__inet_aton4("1.2.3.4x", &v), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_verify),
	    cmocka_unit_test(test_addr),
	    cmocka_unit_test(test_dot_quad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
